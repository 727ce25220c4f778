package lua_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"bohost/host/lua"
	"bohost/host/lua/luatest"

	glua "github.com/yuin/gopher-lua"
)

// nestedMod reads a nested options table the way bo.run reads its
// optimizer.
type nestedMod struct{}

func (nestedMod) Name() string { return "bohost.nested" }

func (nestedMod) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("nested", []lua.Func{{Name: "run", Sig: "nested.run{inner = {n =, alpha =}}", Fn: func(L *glua.LState) int {
		o := lua.CheckOpts(L, 1, "nested.run", "inner")
		in := lua.NestedOpts(L, o.Table("inner"), "nested.run", "inner", "n", "alpha")
		L.Push(glua.LNumber(float64(in.Count("n", 16)) + in.Number("alpha", 0.1)))
		return 1
	}}})
}

// TestErrorsFromEmbeddedLibrariesPointAtTheCaller: a structured error
// raised under a function of an embedded Lua library (the friendly layer)
// carries the position of the script's call, not the library's line; and a
// library's own error at the top level still has a position.
func TestErrorsFromEmbeddedLibrariesPointAtTheCaller(t *testing.T) {
	var freed int
	fs := fstest.MapFS{"lib/init.lua": {Data: []byte(`local M = {}
function M.fail(kind)
  local test = require "bohost.test"
  return test.fail(kind)
end
function M.deep(kind)
  local r = M.fail(kind)
  return r
end
return M
`)}}
	rt := luatest.New(t, luatest.Options{Modules: []lua.Module{testMod{&freed}}, LuaFS: fs})
	for _, src := range []string{
		"local lib = require 'lib'\n\nlib.fail('bad_state')\n",
		"local lib = require 'lib'\n\nlocal x = lib.deep('bad_state')\n",
		"local lib = require 'lib'\n\nlocal ok, e = pcall(lib.fail, 'bad_state')\nerror(e)\n",
	} {
		_, err := rt.DoString(context.Background(), src, "user.lua")
		var se *lua.ScriptError
		if !errors.As(err, &se) || se.Kind != "bad_state" {
			t.Fatalf("%q: %v", src, err)
		}
		if se.Where != "user.lua:3:" {
			t.Errorf("%q: where %q, want user.lua:3:", src, se.Where)
		}
	}
	// Called directly (no library frame), the raw function's caller is the script.
	_, err := rt.DoString(context.Background(), "local test = require 'bohost.test'\ntest.fail('bad_state')\n", "raw.lua")
	if se := err.(*lua.ScriptError); se.Where != "raw.lua:2:" {
		t.Errorf("raw: where %q", se.Where)
	}
}

// TestNestedOptionsNameTheirPath: a nested table's keys are named by their
// path (inner.alpha) in every message, and an explicit 0 for a count is an
// error while nil is the default.
func TestNestedOptionsNameTheirPath(t *testing.T) {
	luatest.Run(t, `
		local nested = require "bohost.nested"
		near(nested.run{inner = {n = 2, alpha = 0.5}}, 2.5, 1e-12)
		near(nested.run{inner = {n = nil}}, 16.1, 1e-12)
		local e = expect_error("bad_arg", nested.run, {inner = {alhpa = 1}})
		assert(e.msg:find("unknown option 'inner.alhpa' (did you mean 'inner.alpha'?)", 1, true), e.msg)
		e = expect_error("bad_arg", nested.run, {inner = {alpha = "x"}})
		assert(e.msg:find("option 'inner.alpha' must be a number, got string", 1, true), e.msg)
		e = expect_error("bad_arg", nested.run, {inner = {n = 0}})
		assert(e.msg:find("option 'inner.n' must be an integer >= 1, got 0", 1, true), e.msg)
		assert(e.hint:find("leave n out"), e.hint)
		e = expect_error("bad_arg", nested.run, {inner = {n = -2}})
		assert(e.msg:find("got %-2"), e.msg)
	`, luatest.Options{Modules: []lua.Module{nestedMod{}}})
}

// TestErrorLevels: error(msg, level) puts the position of the function at
// that level in front of msg, as in Lua 5.1 (gopher-lua gives level 2 the
// position of level 1).
func TestErrorLevels(t *testing.T) {
	rt := luatest.New(t, luatest.Options{})
	src := `local function check(x)
  if type(x) ~= "number" then error("number expected", 2) end
end
local function inner() error("at one") end
local function none() error("no position", 0) end
local function deep() local function f() error("three up", 3) end f() end

return select(2, pcall(check, "x")), select(2, pcall(inner)), select(2, pcall(none)), select(2, pcall(function()
  check("y") -- line 9
end)), select(2, pcall(function()
  deep() -- line 11
end)), select(2, pcall(error, {kind = "bad_arg"}, 2))
`
	out, err := rt.DoString(context.Background(), src, "lv.lua")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"number expected", "lv.lua:4: at one", "no position", "lv.lua:9: number expected", "lv.lua:11: three up"}
	for i, w := range want {
		if got := out[i].String(); got != w {
			t.Errorf("result %d: %q, want %q", i+1, got, w)
		}
	}
	if _, ok := out[5].(*glua.LTable); !ok {
		t.Errorf("a table raised with a level: %v", out[5])
	}
}
