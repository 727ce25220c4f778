package bindings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/lua/luatest"
)

func TestCkptRoundTripBitForBit(t *testing.T) {
	dir := t.TempDir()
	var freed int
	rt := luatest.New(t, modules(&freed))
	rt.L.SetGlobal("DIR", glString(dir))
	src := `
		local ckpt = require "bohost.ckpt"
		local bo = require "bo"
		local gp = require "bohost.gp"
		local path = DIR .. "/state.json"
		local opt = bo.optimizer{space = {{0, 1}, {0, 1}}, env = {{0, 1}}, n_w = 3, acquisition = "ucb", n_initial = 3, seed = 9}
		for i = 1, 12 do
			local x, w = opt:ask()
			opt:tell(x, w, math.sin(7 * x[1]) + x[2] * w[1])
		end
		local m = opt:model()
		assert(m, "a fitted model")
		local value = {
			n = 0.1 + 0.2, tiny = 5e-324, big = 2^53, neg = -1/3, inf = math.huge, ninf = -math.huge, nan = 0/0, negzero = -0.0,
			list = {1, 2, 3, {4, 5}}, s = "x\0y", flags = {true, false}, mixed = {[1] = "a", [3] = "c", k = "v"},
			opt = opt, model = m, empty = {},
		}
		ckpt.save(path, value)
		local v = ckpt.load(path)
		assert_eq(v.n, 0.1 + 0.2); assert_eq(v.tiny, 5e-324); assert_eq(v.big, 2^53); assert_eq(v.neg, -1/3)
		assert_eq(v.inf, math.huge); assert_eq(v.ninf, -math.huge); assert(v.nan ~= v.nan, "NaN")
		assert_eq(1 / v.negzero, 1 / value.negzero, "signed zero")
		assert_eq(v.list[4][2], 5); assert_eq(v.s, "x\0y"); assert_eq(v.flags[2], false)
		assert_eq(v.mixed[3], "c"); assert_eq(v.mixed.k, "v"); assert_eq(v.mixed[2], nil)
		-- the optimiser comes back as an optimiser whose next ask is identical
		assert(tostring(v.opt):find("bohost.bo.Optimizer"), tostring(v.opt))
		local x1, w1 = opt:ask()
		local x2, w2 = v.opt:ask()
		assert(x1[1] == x2[1] and x1[2] == x2[2] and w1[1] == w2[1], "restored optimiser asks differently")
		local p1 = m:predict({{0.3, 0.4, 0.5}})
		local p2 = v.model:predict({{0.3, 0.4, 0.5}})
		near(p1[1], p2[1], 1e-12, "restored GP mean")
		-- a second save keeps the first as .prev; a damaged file falls back to it
		ckpt.save(path, {round = 2})
		local f = io.open(path, "r+"); f:seek("set", 20); f:write("#"); f:close()
		local v2, warn = ckpt.load(path)
		assert(v2.n == 0.1 + 0.2 and warn:find("previous"), tostring(warn))
		ckpt.save(DIR .. "/checkpoint.json", {a = 1})
		local v3, p = ckpt.latest(DIR)
		assert(v3.a == 1 and p:find("checkpoint.json"), tostring(p))
		local none, err = ckpt.try_load(DIR .. "/missing.json")
		assert(none == nil and err.kind == "io", tostring(err))
		expect_error("io", ckpt.load, DIR .. "/missing.json")
		local e = expect_error("bad_arg", ckpt.save, path, {f = print})
		assert(e.msg:find("value.f"), e.msg)
		local cyc = {}; cyc.self = cyc
		e = expect_error("bad_arg", ckpt.save, path, cyc)
		assert(e.msg:find("contains itself"), e.msg)
	`
	if _, err := rt.DoString(ctxBG(), src, "snippet"); err != nil {
		t.Fatal(err)
	}
	// The file is the documented envelope.
	b, err := os.ReadFile(filepath.Join(dir, "state.prev.json"))
	if err != nil || !strings.HasPrefix(string(b), `{"format":1,"sha256":"`) {
		t.Fatalf("envelope: %v %.60s", err, b)
	}
}

func TestMonitorAndFault(t *testing.T) {
	dir := t.TempDir()
	csv := "time,elapsed_s,iteration,cpu_pct,host_rss_bytes,workers_rss_bytes,go_heap_bytes,gpu_used_bytes,gpu_total_bytes,gpu_pool_bytes\n" +
		"2024-01-01T00:00:00.000Z,0.5,,,1000,0,200,,,\n2024-01-01T00:00:05.000Z,5.5,3,12.5,2000,300,250,,,\n"
	os.WriteFile(filepath.Join(dir, "monitor.csv"), []byte(csv), 0o644)
	var freed int
	rt := luatest.New(t, modules(&freed))
	rt.L.SetGlobal("DIR", glString(dir))
	src := `
		local monitor = require "bohost.monitor"
		local rows = monitor.read(DIR .. "/monitor.csv")
		assert_eq(#rows, 2); assert_eq(rows[1].iteration, nil); assert_eq(rows[2].iteration, 3)
		assert_eq(rows[2].cpu_pct, 12.5); assert_eq(rows[2].host_rss_bytes, 2000); assert_eq(rows[1].gpu_used_bytes, nil)
		local s = monitor.sample()
		assert(s.rss_bytes > 0 and s.go_heap_bytes > 0 and s.goroutines >= 1, "sample")
		expect_error("io", monitor.read, DIR .. "/none.csv")
		local fault = require "bohost.fault"
		assert_eq(fault.enabled(), false)
		local e = expect_error("bad_state", fault.segv)
		assert(e.msg:find("disabled"), e.msg)
		expect_error("bad_state", fault.alloc, 10)
	`
	if _, err := rt.DoString(ctxBG(), src, "snippet"); err != nil {
		t.Fatal(err)
	}
}

func TestRunOptionErrors(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		local e = expect_error("bad_arg", bo.run, {optimizer = {space = {{0, 1}}, env = {{0, 1}}}, objective = {file = "f.lua"}})
		assert(e.msg:find("'dir' is required"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", optimizer = {space = {{0, 1}}, env = {{0, 1}}}})
		assert(e.msg:find("'objective' is required"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", iteratons = 3})
		assert(e.msg:find("did you mean 'iterations'"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", optimizer = {space = {{0, 1}}, env = {{0, 1}}}, objective = {file = "f.lua"}, on_failure = "ignore"})
		assert(e.msg:find("on_failure"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", objective = {airline = {synth = {n = 2}, evaluatr = {}}}})
		assert(e.msg:find("evaluatr"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", optimizer = {space = {{0, 1}}, env = {{0, 1}}}, objective = {file = "f.lua"}, every = {[0] = print}})
		assert(e.msg:find("every"), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", optimizer = {space = {{0, 1}}, env = {{0, 1}}}, objective = {file = "f.lua"}, max_rss = "lots"})
		assert(e.msg:find("max_rss"), e.msg)
	`, &freed)
}
