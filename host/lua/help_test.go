package lua_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"bohost/host/lua"
	"bohost/host/lua/luatest"

	glua "github.com/yuin/gopher-lua"
)

// checkMod's functions use gopher-lua's own argument checks (L.CheckX),
// whose errors are plain strings, and call Lua callbacks.
type checkMod struct{ name, prefix string }

func (m checkMod) Name() string { return m.name }

func (m checkMod) Open(rt *lua.Runtime) *glua.LTable {
	if m.prefix == "check" {
		rt.NewType("bohost.check.Box", "Box", []lua.Func{
			{Name: "put", Sig: "box:put(key, value)", Desc: "stores value", Fn: func(L *glua.LState) int {
				L.CheckUserData(1)
				L.CheckString(2)
				L.CheckNumber(3)
				return 0
			}},
		}, nil)
	}
	return rt.Funcs(m.prefix, []lua.Func{
		{Name: "write", Sig: m.prefix + ".write(path, n [, mode=\"w\"]) -> bytes", Desc: "writes", Fn: func(L *glua.LState) int {
			L.CheckString(1)
			L.CheckInt(2)
			L.OptString(3, "w")
			return 0
		}},
		{Name: "call", Sig: m.prefix + ".call(fn)", Desc: "calls fn", Fn: func(L *glua.LState) int {
			L.Call(0, 0) // unprotected: fn's errors pass through
			return 0
		}},
		{Name: "box", Sig: m.prefix + ".box() -> box", Desc: "a box", Fn: func(L *glua.LState) int {
			L.Push(lua.NewObject(L, "bohost.check.Box", struct{}{}))
			return 1
		}},
	})
}

// TestCheckErrorsBecomeStructured: gopher-lua's plain "bad argument #2 to
// write (number expected, got no value)" from a binding's L.CheckX becomes a
// bad_arg error that names the argument after the signature; an error of a
// Lua callback the binding calls keeps its own message.
func TestCheckErrorsBecomeStructured(t *testing.T) {
	luatest.Run(t, `
		local c = require "bohost.check"
		local e = expect_error("bad_arg", c.write, "f.txt")
		assert_eq(e.op, "check.write")
		assert_eq(e.msg, "bad argument #2 (n): number expected, got nil")
		assert_eq(e.hint, 'usage: check.write(path, n [, mode="w"]) -> bytes')
		assert(e.where:find("^prelude:") or e.where:find("^snippet:"), e.where)
		e = expect_error("bad_arg", c.write, "f.txt", 1, {})
		assert(e.msg:find("#3 %(mode%): string expected, got table"), e.msg)
		local b = c.box()
		e = expect_error("bad_arg", b.put, b, "k")
		assert(e.msg:find("#3 %(value%)"), e.msg)
		e = expect_error("bad_arg", b.put, 5, "k", 1)
		assert(e.msg:find("#1 %(the object: call it as obj:put%(...%)%)"), e.msg)
		-- A callback's own error passes through unchanged, not blamed on check.call.
		local ok, err = pcall(c.call, function() string.rep() end)
		assert(not ok and type(err) == "string" and err:find("bad argument #1 to"), tostring(err))
		ok, err = pcall(c.call, function() c.write() end)
		assert(not ok and err.op == "check.write", tostring(err))
	`, luatest.Options{Modules: []lua.Module{checkMod{"bohost.check", "check"}}})
	// Called straight from a chunk whose name has a space, as bohost -e's.
	rt := luatest.New(t, luatest.Options{Modules: []lua.Module{checkMod{"bohost.check", "check"}}})
	_, err := rt.DoString(context.Background(), "local c = require 'bohost.check'\nc.write('f.txt')", "(command line)")
	var se *lua.ScriptError
	if !errors.As(err, &se) || se.Kind != "bad_arg" || se.Op != "check.write" || se.Where != "(command line):2:" ||
		se.Msg != "bad argument #2 (n): number expected, got nil" {
		t.Fatalf("%+v", err)
	}
}

// A friendly layer "fr" over raw modules, documented by doc comments.
var friendlyFS = fstest.MapFS{"fr/init.lua": {Data: []byte(`
local fr = {}

--- fr.go(n [, opts]) -> result
-- runs n steps
-- More about it.
--
--   fr.go(3)
function fr.go(n) return n end

--- fr.MODULE -> module
-- the raw module bohost.MODULE
setmetatable(fr, {__index = function(t, k) return require("bohost." .. k) end})
return fr
`)}}

// TestFriendlyLayerDocs: the friendly layer's doc comments are registered
// (signature, one line, details); fr.MODULE stands for each raw module; a
// raw module whose short name a friendly module owns is documented under its
// full name; help lists a module's functions then methods; Tab offers
// documented members not loaded yet.
func TestFriendlyLayerDocs(t *testing.T) {
	rt := luatest.New(t, luatest.Options{LuaFS: friendlyFS,
		Modules: []lua.Module{checkMod{"bohost.fr", "fr"}, checkMod{"bohost.check", "check"}}})
	d, ok := rt.LookupDoc("fr.go")
	if !ok || d.Sig != "fr.go(n [, opts]) -> result" || d.Desc != "runs n steps" || d.More != "More about it.\n\n  fr.go(3)" || d.Module != "fr" {
		t.Fatalf("fr.go: %+v %v", d, ok)
	}
	if got := lua.FormatDoc(d); got != "fr.go(n [, opts]) -> result\n  runs n steps\n  More about it.\n\n    fr.go(3)\n" {
		t.Errorf("FormatDoc: %q", got)
	}
	d, ok = rt.LookupDoc("fr.check")
	if !ok || d.Sig != "fr.check -> module" || d.Desc != "the raw module bohost.check" {
		t.Errorf("fr.check: %+v %v", d, ok)
	}
	if _, ok := rt.LookupDoc("fr.nothing"); ok {
		t.Error("fr.nothing has a doc")
	}
	// bohost.fr's own functions: under bohost.fr, signatures renamed.
	d, ok = rt.LookupDoc("bohost.fr.write")
	if !ok || d.Module != "bohost.fr" || !strings.HasPrefix(d.Sig, "bohost.fr.write(path, n") {
		t.Errorf("bohost.fr.write: %+v %v", d, ok)
	}
	// ?fr.write (as old docs spelt bo.new) finds it under its full name.
	if d, ok := rt.LookupDoc("fr.write"); !ok || d.Name != "bohost.fr.write" {
		t.Errorf("fr.write: %+v %v", d, ok)
	}
	if d, ok := rt.LookupDoc("check.write"); !ok || d.Module != "bohost.check" {
		t.Errorf("check.write: %+v %v", d, ok)
	}
	for topic, want := range map[string]string{"fr": "fr", "bohost.fr": "bohost.fr", "check": "bohost.check", "bohost.check": "bohost.check"} {
		if got, ok := rt.HelpModule(topic); !ok || got != want {
			t.Errorf("HelpModule(%s) = %s, %v; want %s", topic, got, ok, want)
		}
	}
	var names []string
	for _, d := range rt.ModuleDocs("fr") {
		names = append(names, d.Name)
	}
	if strings.Join(names, " ") != "fr.go fr.MODULE" {
		t.Errorf("fr lists %v", names)
	}
	names = nil
	for _, d := range rt.ModuleDocs("bohost.check") {
		names = append(names, d.Name)
	}
	if strings.Join(names, " ") != "check.box check.call check.write Box:put" {
		t.Errorf("bohost.check lists %v", names)
	}
	if got := rt.TemplateMembers(rt.ModuleDocs("fr")[1]); strings.Join(got, " ") != "fr.check fr.fr" {
		t.Errorf("members %v", got)
	}
	// Tab: fr is not a global here; its members come from the registry.
	r := lua.NewREPL(rt, lua.REPLOptions{Out: io.Discard, Err: io.Discard})
	if got := r.Complete("fr."); strings.Join(got, " ") != "fr.check fr.fr fr.go" {
		t.Errorf("fr.<Tab>: %v", got)
	}
	if got := r.Complete("x = fr.check.wr"); strings.Join(got, " ") != "fr.check.write" {
		t.Errorf("fr.check.wr<Tab>: %v", got)
	}
	// ?name prints the doc with its details; ?module lists it.
	var out strings.Builder
	r = lua.NewREPL(rt, lua.REPLOptions{In: strings.NewReader("?fr.go\n?fr\n?fr.nope\n"), Out: &out, Err: &out})
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "fr.go(n [, opts]) -> result\n  runs n steps\n  More about it.\n\n    fr.go(3)\n" +
		"fr:\n  fr.go(n [, opts]) -> result\n  fr.MODULE -> module\n" +
		"no doc for \"fr.nope\"\n"
	if out.String() != want {
		t.Errorf("REPL ?:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestArgNamesFromSignatures(t *testing.T) {
	for sig, want := range map[string]string{
		"opt:tell(x, w, y) -> opt":                            "x w y",
		"sys.parse_args(spec, argv [, help]) -> options":      "spec argv help",
		"gp.new{kernel=\"rbf\"|\"matern52\", bounds=}":        "options",
		"airline.space([name=\"airline8\"]) -> params":        "name",
		"acq.optimize(f, bounds, {raw_samples=128}) -> x":     "f bounds options",
		"fig:color(name, \"#rrggbb\") -> fig":                 "name \"#rrggbb\"",
		"opt:tell_failed(x, w [, policy=\"worst\"|\"skip\"])": "x w policy",
		"mem.scope(fn, ...)":                                  "fn ...",
		"sys.clock() -> seconds":                              "",
	} {
		if got := strings.Join(lua.ArgNames(sig), " "); got != want {
			t.Errorf("%s: %q, want %q", sig, got, want)
		}
	}
}
