package bindings_test

import (
	"testing"

	"bohost/bindings"
	"bohost/host/lua"
	"bohost/host/lua/luatest"

	glua "github.com/yuin/gopher-lua"
)

// handleMod creates native handles, standing in for evaluators and GPU buffers.
type handleMod struct{ freed *int }

func (handleMod) Name() string { return "bohost.handles" }
func (m handleMod) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("handles", []lua.Func{{Name: "new", Fn: func(L *glua.LState) int {
		rt.Handles.Register("test.Buffer", func() { *m.freed++ })
		return 0
	}}})
}

func modules(freed *int) luatest.Options {
	return luatest.Options{Modules: append(bindings.All(), handleMod{freed}), LuaFS: bindings.LuaFS()}
}

func TestMemScopeFreesHandlesEvenOnError(t *testing.T) {
	var freed int
	rt := luatest.Run(t, `
		local mem = require "bohost.mem"
		local h = require "bohost.handles"
		h.new() -- outside any scope: survives
		local a, b = mem.scope(function(x)
			h.new(); h.new()
			assert_eq(mem.live(), 3)
			return x, "second"
		end, 7)
		assert_eq(a, 7); assert_eq(b, "second")
		assert_eq(mem.live(), 1)
		local ok, err = pcall(mem.scope, function()
			h.new(); h.new(); h.new()
			mem.scope(function() h.new() end) -- nested
			error({kind = "bad_state", msg = "raised inside the scope"})
		end)
		assert(not ok and err.kind == "bad_state", tostring(err))
		assert_eq(mem.live(), 1, "handles after a raising scope")
		local st = mem.stats()
		assert(st.rss_bytes > 0 and st.heap_bytes > 0 and st.gc_count >= 0)
		assert_eq(st.live_handles, 1); assert_eq(st.handles["test.Buffer"], 1)
	`, modules(&freed))
	if freed != 6 || rt.Handles.Count() != 1 {
		t.Fatalf("freed %d, live %d", freed, rt.Handles.Count())
	}
	if leaks := rt.Handles.FreeAll(); len(leaks) != 1 || rt.Handles.Count() != 0 {
		t.Fatalf("leaks %v", leaks)
	}
}

func TestMemLimitAndCollect(t *testing.T) {
	var freed int
	luatest.Run(t, `
		local mem = require "bohost.mem"
		local prev = mem.set_limit("6GiB")
		assert_eq(mem.stats().limit_bytes, 6 * 1024^3)
		mem.set_limit("50%")
		assert(mem.stats().limit_bytes > 0)
		mem.set_limit(prev)
		local e = expect_error("bad_arg", mem.set_limit, "lots")
		assert(e.msg:find("6GiB"), e.msg)
		expect_error("bad_arg", mem.set_limit, {})
		assert(mem.collect() >= 0)
		assert_eq(mem.format(1536), "1.50 KiB")
	`, modules(&freed))
}

func TestBoArgsAndSys(t *testing.T) {
	var freed int
	luatest.Run(t, `
		arg = {[0] = "s.lua", "--alpha", "0.3", "--n-w", "16"}
		local bo = require "bo"
		local opt = bo.args{alpha = 0.1, n_w = 3, tag = "x"}
		assert_eq(opt.alpha, 0.3); assert_eq(opt.n_w, 16); assert_eq(opt.tag, "x")
		arg = {[0] = "s.lua", "--alhpa", "0.3"}
		local e = expect_error("usage", bo.args, {alpha = 0.1})
		assert(e.msg:find("did you mean %-%-alpha"), e.msg)
		assert(bo.mem == require "bohost.mem")
		assert(type(bo.version()) == "string")
		local sig = require("bohost.sys").doc("mem.stats")
		assert(sig:find("mem.stats%(%)"), sig)
	`, modules(&freed))
}

func luatest_run(t *testing.T, src string, freed *int) {
	t.Helper()
	luatest.Run(t, src, modules(freed))
}

func TestSysJSON(t *testing.T) {
	dir := t.TempDir()
	var freed int
	luatest_run(t, `
		local sys = require "bohost.sys"
		local p = "`+dir+`/x.json"
		sys.write_json(p, {a = 1.5, b = {1, 2, 3}, c = "s", d = true})
		local v = sys.read_json(p)
		assert_eq(v.a, 1.5); assert_eq(#v.b, 3); assert_eq(v.c, "s"); assert_eq(v.d, true)
		assert_eq(#sys.glob("`+dir+`/*.json"), 1)
		local f = io.open("`+dir+`/bad.json", "w"); f:write('{"a": [1, 2'); f:close()
		local e = expect_error("bad_arg", sys.read_json, "`+dir+`/bad.json")
		assert(e.msg:find("bad.json") and e.msg:find("malformed"), e.msg)
		expect_error("io", sys.read_json, "`+dir+`/none.json")
	`, &freed)
}
