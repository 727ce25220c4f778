package lua_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/lua/luatest"

	glua "github.com/yuin/gopher-lua"
)

// testMod is a module for exercising the runtime: it panics, raises kinds,
// checks options and creates handles.
type testMod struct{ freed *int }

func (testMod) Name() string { return "bohost.test" }

func (m testMod) Open(rt *lua.Runtime) *glua.LTable {
	rt.NewType("bohost.test.Thing", "Thing", []lua.Func{
		{Name: "free", Sig: "thing:free()", Desc: "frees the thing", Fn: func(L *glua.LState) int {
			lua.CheckObject[*thing](L, 1, "Thing:free", "bohost.test.Thing").h.Free()
			return 0
		}},
		{Name: "size", Sig: "thing:size() -> n", Desc: "its size", Fn: func(L *glua.LState) int {
			L.Push(glua.LNumber(lua.CheckObject[*thing](L, 1, "Thing:size", "bohost.test.Thing").n))
			return 1
		}},
	}, func(v any) string { return "Thing(" + itoa(v.(*thing).n) + ")" })
	return rt.Funcs("test", []lua.Func{
		{Name: "panic", Sig: "test.panic()", Desc: "a Go panic", Fn: func(L *glua.LState) int {
			var m map[string]int
			//lint:ignore SA5000 the nil map write is the point: a real runtime panic must become a Lua error
			m["x"] = 1
			return 0
		}},
		{Name: "fail", Sig: "test.fail(kind)", Desc: "raises kind", Fn: func(L *glua.LState) int {
			e := errs.New(L.CheckString(1), "test.fail", "it failed on purpose")
			e.Hint = "do something else"
			return lua.Raise(L, "test.fail", e)
		}},
		{Name: "opts", Sig: "test.opts{alpha=, n_w=, kernel=}", Desc: "strict options", Fn: func(L *glua.LState) int {
			o := lua.CheckOpts(L, 1, "test.opts", "alpha", "n_w", "kernel")
			L.Push(glua.LNumber(o.Number("alpha", 0.1) + float64(o.Int("n_w", 3))))
			L.Push(glua.LString(o.Enum("kernel", "rbf", "rbf", "matern52")))
			return 2
		}},
		{Name: "thing", Sig: "test.thing(n) -> Thing", Desc: "a native handle", Fn: func(L *glua.LState) int {
			th := &thing{n: L.CheckInt(1)}
			th.h = rt.Handles.Register("test.Thing", func() { *m.freed++ })
			L.Push(lua.NewObject(L, "bohost.test.Thing", th))
			return 1
		}},
		{Name: "spin", Sig: "test.spin(seconds)", Desc: "a long Go function that polls the context", Fn: func(L *glua.LState) int {
			deadline := time.Now().Add(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
			for time.Now().Before(deadline) {
				if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
					return lua.Raisef(L, errs.Canceled, "test.spin", "canceled")
				}
				time.Sleep(time.Millisecond)
			}
			return 0
		}},
	})
}

type thing struct {
	n int
	h *lua.Handle
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }
func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	if neg {
		s = "-" + s
	}
	return s
}

func opts(freed *int) luatest.Options {
	return luatest.Options{Modules: []lua.Module{testMod{freed: freed}}}
}

func TestPanicBecomesInternalError(t *testing.T) {
	var freed int
	luatest.Run(t, `
		local test = require "bohost.test"
		local err = expect_error("internal", test.panic)
		assert(err.op == "test.panic", err.op)
		assert(err.msg:find("Go panic") and err.msg:find("nil map"), err.msg)
		assert(err.hint:find("bohost bug"), err.hint)
		-- the state is still usable afterwards
		assert_eq(1 + 1, 2)
	`, opts(&freed))
}

func TestStructuredErrorsSurvivePcallAndReachGo(t *testing.T) {
	var freed int
	rt := luatest.Run(t, `
		local test = require "bohost.test"
		local ok, err = pcall(test.fail, "not_pd")
		assert(not ok)
		assert_eq(err.kind, "not_pd"); assert_eq(err.op, "test.fail")
		assert_eq(err.msg, "it failed on purpose"); assert_eq(err.hint, "do something else")
		assert(err.where:find("snippet:3:"), err.where)
		assert(tostring(err):find("test.fail: not_pd: it failed on purpose"), tostring(err))
		-- re-raising keeps the object
		local ok2, err2 = pcall(function() error(err) end)
		assert(rawequal(err, err2))
	`, opts(&freed))
	_, err := rt.DoString(context.Background(), "local t = require 'bohost.test'\n\nt.fail('oom')", "chunk.lua")
	var se *lua.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v", err, err)
	}
	if se.Kind != "oom" || se.Op != "test.fail" || se.Hint != "do something else" || se.Where != "chunk.lua:3:" {
		t.Fatalf("fields lost: %+v", se)
	}
	if !strings.Contains(se.Traceback, "chunk.lua:3:") {
		t.Fatalf("traceback lacks position: %s", se.Traceback)
	}
}

func TestPlainLuaErrorKeepsPosition(t *testing.T) {
	rt := luatest.New(t, luatest.Options{})
	_, err := rt.DoString(context.Background(), "local x = 1\n\nerror('boom')", "s.lua")
	se := err.(*lua.ScriptError)
	if se.Kind != "error" || se.Where != "s.lua:3:" || !strings.Contains(se.Error(), "s.lua:3: boom") {
		t.Fatalf("%+v", se)
	}
	_, err = rt.DoString(context.Background(), "error({kind='bad_arg', msg='from a table', hint='h'})", "t.lua")
	se = err.(*lua.ScriptError)
	if se.Kind != "bad_arg" || se.Msg != "from a table" || se.Hint != "h" {
		t.Fatalf("%+v", se)
	}
	_, err = rt.DoString(context.Background(), "x = = 1", "syn.lua")
	if se = err.(*lua.ScriptError); se.Kind != "syntax" {
		t.Fatalf("%+v", se)
	}
}

func TestStrictOptions(t *testing.T) {
	var freed int
	luatest.Run(t, `
		local test = require "bohost.test"
		local v, k = test.opts{alpha = 0.5, n_w = 2}
		near(v, 2.5, 1e-12); assert_eq(k, "rbf")
		local e = expect_error("bad_arg", test.opts, {lenght_scale = 1, alpha = 0.1})
		assert(e.msg:find("unknown option 'lenght_scale'"), e.msg)
		e = expect_error("bad_arg", test.opts, {alhpa = 0.1})
		assert(e.msg:find("did you mean 'alpha'"), e.msg)
		e = expect_error("bad_arg", test.opts, {alpha = "high"})
		assert(e.msg:find("option 'alpha' must be a number, got string"), e.msg)
		e = expect_error("bad_arg", test.opts, {n_w = 2.5})
		assert(e.msg:find("'n_w' must be an integer"), e.msg)
		e = expect_error("bad_arg", test.opts, {kernel = "matern"})
		assert(e.msg:find("did you mean 'matern52'"), e.msg)
		e = expect_error("bad_arg", test.opts, 42)
		assert(e.msg:find("options table expected, got number"), e.msg)
	`, opts(&freed))
}

func TestHandlesAndTostring(t *testing.T) {
	var freed int
	rt := luatest.Run(t, `
		local test = require "bohost.test"
		local a = test.thing(3)
		assert_eq(tostring(a), "Thing(3)")
		assert_eq(a:size(), 3)
		a:free(); a:free() -- idempotent
		local e = expect_error("bad_arg", a.size, 42)
		assert(e.msg:find("bohost.test.Thing expected, got number"), e.msg)
		leaked = test.thing(4)
	`, opts(&freed))
	if freed != 1 || rt.Handles.Count() != 1 {
		t.Fatalf("freed %d live %d", freed, rt.Handles.Count())
	}
	leaks := rt.Handles.FreeAll()
	if len(leaks) != 1 || leaks[0] != "1 x test.Thing" || freed != 2 {
		t.Fatalf("leaks %v freed %d", leaks, freed)
	}
}

func TestCancellationStopsLuaAndGo(t *testing.T) {
	var freed int
	rt := luatest.New(t, opts(&freed))
	for _, src := range []string{"while true do end", "require('bohost.test').spin(30)"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_, err := rt.DoString(ctx, src, "loop.lua")
		cancel()
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: cancellation took %v", src, time.Since(start))
		}
		var se *lua.ScriptError
		if !errors.As(err, &se) || se.Kind != errs.Canceled {
			t.Fatalf("%s: got %v", src, err)
		}
	}
	// The state stays usable after a cancel.
	vals, err := rt.DoString(context.Background(), "return 6*7", "after")
	if err != nil || vals[0].String() != "42" {
		t.Fatal(vals, err)
	}
}

func TestEmbeddedLuaModulesAndDocs(t *testing.T) {
	fs := fstest.MapFS{"util/init.lua": {Data: []byte("return {twice = function(x) return 2*x end}")}}
	var freed int
	rt := luatest.Run(t, `assert_eq(require("util").twice(21), 42)`, luatest.Options{Modules: []lua.Module{testMod{&freed}}, LuaFS: fs})
	if _, err := rt.DoString(context.Background(), `require "bohost.test"`, "x"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"test.opts", "opts", "Thing:size"} {
		if d, ok := rt.LookupDoc(name); !ok || d.Desc == "" {
			t.Errorf("no doc for %s", name)
		}
	}
}

func TestConvert(t *testing.T) {
	rt := luatest.New(t, luatest.Options{})
	vals, err := rt.DoString(context.Background(), "return {1,2,3}, {{1,2},{3,4}}, {1,'x'}, {{1},{2,3}}, {a=1,b={true,'s'}}", "c")
	if err != nil {
		t.Fatal(err)
	}
	if xs, err := lua.ToFloats(vals[0], "x"); err != nil || len(xs) != 3 || xs[2] != 3 {
		t.Fatal(xs, err)
	}
	if m, err := lua.ToMatrix(vals[1], "X"); err != nil || m[1][0] != 3 {
		t.Fatal(m, err)
	}
	if _, err := lua.ToFloats(vals[2], "x"); err == nil || !strings.Contains(err.Error(), "x[2] must be a number, got string") {
		t.Fatal(err)
	}
	if _, err := lua.ToMatrix(vals[3], "X"); err == nil || !strings.Contains(err.Error(), "X[2] has 2 values, expected 1") {
		t.Fatal(err)
	}
	g, err := lua.ToGo(vals[4], "v")
	if err != nil {
		t.Fatal(err)
	}
	m := g.(map[string]any)
	if m["a"].(float64) != 1 || m["b"].([]any)[1].(string) != "s" {
		t.Fatal(m)
	}
}

func TestSuggest(t *testing.T) {
	cases := map[string]string{"alhpa": "alpha", "lenght_scale": "length_scale", "itrations": "iterations", "zzzzzz": ""}
	known := []string{"alpha", "length_scale", "iterations", "n_w"}
	for in, want := range cases {
		if got := lua.Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q want %q", in, got, want)
		}
	}
}
