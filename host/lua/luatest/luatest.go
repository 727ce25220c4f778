// Package luatest runs Lua snippets through a bohost runtime from Go tests.
// A snippet holds its own assertions; helpers are available as globals:
//
//	near(a, b, tol [, msg])       assert |a-b| <= tol
//	expect_error(kind, fn, ...)   assert fn raises a bohost error of kind; returns it
//	assert_eq(a, b [, msg])       assert a == b, printing both
package luatest

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"

	"bohost/host/lua"
)

// Options for New.
type Options struct {
	Modules []lua.Module
	LuaFS   fs.FS
	Stdout  io.Writer
}

const prelude = `
function near(a, b, tol, msg)
  if type(a) ~= "number" or type(b) ~= "number" or math.abs(a - b) > tol then
    error(string.format("%s: expected %s near %s (tol %g)", msg or "near", tostring(a), tostring(b), tol), 2)
  end
end
function assert_eq(a, b, msg)
  if a ~= b then error(string.format("%s: got %s, want %s", msg or "assert_eq", tostring(a), tostring(b)), 2) end
end
function expect_error(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error of kind " .. kind .. ", got success", 2) end
  if type(err) ~= "userdata" or err.kind ~= kind then
    error("expected an error of kind " .. kind .. ", got " .. tostring(err), 2)
  end
  return err
end
`

// New returns a runtime with the test helpers installed; it is closed when
// the test ends.
func New(t testing.TB, o Options) *lua.Runtime {
	t.Helper()
	out := o.Stdout
	if out == nil {
		out = io.Discard
	}
	var errb strings.Builder
	rt := lua.New(lua.Options{Modules: o.Modules, LuaFS: o.LuaFS, Stdout: out, Stderr: &errb})
	if _, err := rt.DoString(context.Background(), prelude, "prelude"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// Run runs src in a fresh runtime and fails the test on any error.
func Run(t testing.TB, src string, o Options) *lua.Runtime {
	t.Helper()
	rt := New(t, o)
	if _, err := rt.DoString(context.Background(), src, "snippet"); err != nil {
		var se *lua.ScriptError
		if e, ok := err.(*lua.ScriptError); ok {
			se = e
			t.Fatalf("%s\n%s", se.Error(), se.Traceback)
		}
		t.Fatal(err)
	}
	return rt
}
