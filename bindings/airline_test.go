package bindings_test

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAirlineFromLua(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "a.png"), []byte("not a png"), 0o644)
	os.WriteFile(filepath.Join(bad, "a.json"), []byte(`{"width": 10, "height": 10, "lines": [[1,2,3]`), 0o644)
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local mem = require "bohost.mem"
		local ds = airline.dataset{synthetic = {n = 3, width = 320, height = 240, seed = 2}}
		assert_eq(#ds, 3)
		assert(tostring(ds):find("synthetic, all, 3 images"), tostring(ds))
		local it = ds[2]
		assert_eq(it.index, 2); assert_eq(it.width, 320); assert(#it.lines > 0 and #it.lines[1] == 4)
		assert_eq(ds:item(2).id, it.id)
		expect_error("bad_arg", function() return ds[4] end)

		local sp = airline.space()
		assert_eq(#sp, 8); assert_eq(sp[1].name, "edge_thresh_q")
		local W, names = airline.env(ds)
		assert_eq(#W, 3); assert_eq(#W[1], #names)
		for _, row in ipairs(W) do for _, v in ipairs(row) do assert(v >= 0 and v <= 1) end end

		local n_before = mem.live()
		local rec = mem.scope(function()
			local ev = airline.evaluator{seed = 1}
			assert_eq(mem.live(), n_before + 1)
			local r = ev:eval(nil, it)
			local r2 = ev:eval(ev:space()[1] and {sim_thresh_q = 0.9} or nil, it)
			assert(r.f == r2.f, "named x with the default value equals nil x")
			local segs = ev:detect(nil, it)
			assert_eq(#segs, r.n_lines)
			local s = airline.score(segs, it)
			near(s.f, r.f, 1e-12, "score of detect equals eval")
			local e = expect_error("bad_arg", ev.eval, ev, {edge_thres_q = 1}, it)
			assert(e.msg:find("did you mean 'edge_thresh_q'"), e.msg)
			e = expect_error("bad_arg", ev.eval, ev, {100, 0.9, 0.03, -6, 0.6, 0.03, 12, 12}, it)
			assert(e.msg:find("edge_thresh_q"), e.msg)
			e = expect_error("bad_arg", ev.eval, ev, nil, "some/path.png")
			assert(e.msg:find("ground truth"), e.msg)
			e = expect_error("bad_arg", ev.eval, ev, nil, it, {gain = -1})
			return r
		end)
		assert_eq(mem.live(), n_before, "mem.scope freed the evaluator")
		assert(rec.f > 0.2 and rec.f <= 1 and rec.precision > 0 and rec.ms > 0, "a real score")

		local lsd = airline.baseline("lsd", it)
		assert(#lsd > 0)
		local e = expect_error("bad_arg", airline.baseline, "lds", it)
		assert(e.msg:find('did you mean "lsd"'), e.msg)

		e = expect_error("io", airline.dataset, {dir = "`+dir+`/nope"})
		assert(e.msg:find("nope"), e.msg)
		local ds2, err = airline.try_dataset{dir = "`+bad+`"}
		assert(ds2 == nil and err.msg:find("a.json"), tostring(err))
		e = expect_error("bad_arg", airline.evaluator, {edge = "learned"})
		assert(e.hint:find("ONNX"), e.hint)
		e = expect_error("io", airline.evaluator, {edge_model = "`+dir+`/missing.onnx"})
		assert(e.msg:find("missing.onnx"), e.msg)
	`, &freed)
}
