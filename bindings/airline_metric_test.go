package bindings_test

import "testing"

// TestAirlineMetricOption: airline.evaluator{metric = "soft_lp", r = } makes
// the record's f soft LP_r; soft_lp is in every record; bad values name the
// option, in airline.evaluator and in bo.run's objective.airline.evaluator.
func TestAirlineMetricOption(t *testing.T) {
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local bo = require "bo"
		local ds = airline.dataset{synthetic = {n = 1, width = 320, height = 240, seed = 3}}
		local ev = airline.evaluator{seed = 1}
		local r = ev:eval(nil, ds[1])
		assert_eq(r.metric, "f")
		assert_eq(r.f, r.f_r)
		assert_eq(r.r, 2)                               -- round(0.00375 * 400)
		near(r.soft_r, 20 * 400 / 4080, 1e-12, "soft_r scales with the diagonal")
		assert(r.soft_lp > 0 and r.soft_lp <= 1 and r.soft_precision > 0 and r.soft_f > 0, "soft_lp in the record")
		local s = airline.score(ev:detect(nil, ds[1]), ds[1])
		assert_eq(s.soft_lp, r.soft_lp); assert_eq(s.soft_precision, r.soft_precision)
		ev:free()

		local ev2 = airline.evaluator{seed = 1, metric = "soft_lp", r = 12.5}
		local r2 = ev2:eval(nil, ds[1])
		assert_eq(r2.metric, "soft_lp")
		assert_eq(r2.f, r2.soft_lp)
		assert_eq(r2.soft_r, 12.5)
		assert_eq(r2.f_r, r.f_r); assert_eq(r2.r, r.r)   -- F_r keeps its default radius
		assert(r2.soft_lp > r.soft_lp, "a wider tolerance scores higher")
		local rs = ev2:eval_many(nil, ds)
		assert_eq(rs[1].f, r2.f)
		ev2:free()

		local e = expect_error("bad_arg", airline.evaluator, {metric = "soft"})
		assert(e.msg:find("metric") and e.msg:find("soft_lp"), e.msg)
		for _, bad in ipairs{0, -1, 1/0, 0/0} do   -- (gopher-lua's math.huge is the largest finite number)
			e = expect_error("bad_arg", airline.evaluator, {metric = "soft_lp", r = bad})
			assert(e.msg:find("option 'r' must be a finite radius > 0"), e.msg)
		end
		e = expect_error("bad_arg", airline.evaluator, {r = "20"})
		assert(e.msg:find("'r'"), e.msg)

		local function run_err(ev)
			return expect_error("bad_arg", bo.run, {dir = "x", objective = {airline = {synth = {n = 2}, evaluator = ev}}})
		end
		e = run_err{metric = "soft"}
		assert(e.msg:find("evaluator.metric") and e.msg:find("soft_lp"), e.msg)
		e = run_err{metric = "soft_lp", r = 0}
		assert(e.msg:find("evaluator.r") and e.msg:find("must be a radius > 0"), e.msg)
		e = run_err{metric = "soft_lp", r = -3}
		assert(e.msg:find("evaluator.r must be a finite radius > 0"), e.msg)
	`, &freed)
}
