package bindings_test

import "testing"

// ev:eval_many gives the records of ev:eval, in item order, for an array of
// items, a whole data set and any worker count; bad arguments name the item
// or the parameter.
func TestAirlineEvalMany(t *testing.T) {
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local ds = airline.dataset{synthetic = {n = 5, width = 200, height = 150, seed = 4}, cache = 5}
		local other = airline.dataset{synthetic = {n = 2, width = 160, height = 120, seed = 9}}
		local ev = airline.evaluator{seed = 3}
		local x = {-5, 0.88, 0.03, -7, 0.65, 0.02, 10, 14}
		local items = {ds[4], other[2], ds[1], ds[4]}
		local want = {}
		for k, it in ipairs(items) do want[k] = ev:eval(x, it) end
		for _, workers in ipairs{0, 1, 3} do
			local got = ev:eval_many(x, items, {workers = workers})
			assert_eq(#got, #items)
			for k = 1, #items do
				assert_eq(got[k].f, want[k].f, "f of item " .. k)
				assert_eq(got[k].n_lines, want[k].n_lines, "n_lines of item " .. k)
				assert_eq(got[k].precision, want[k].precision)
				assert(got[k].ms > 0)
			end
		end
		local all = ev:eval_many(nil, ds)
		assert_eq(#all, #ds)
		for i = 1, #ds do assert_eq(all[i].f, ev:eval(nil, ds[i]).f, "data set item " .. i) end
		assert_eq(#ev:eval_many(nil, {}), 0)

		local p = {noise = 8, seed = 2, gain = 0.7}
		assert_eq(ev:eval_many(x, {ds[2]}, {perturbation = p})[1].f, ev:eval(x, ds[2], p).f, "perturbed")

		local e = expect_error("bad_arg", ev.eval_many, ev, {1, 0.9, 0.03, -6, 0.6, 0.03, 12, 99}, items)
		assert(e.msg:find("w_qg") and e.msg:find("99"), e.msg)
		e = expect_error("bad_arg", ev.eval_many, ev, nil, {ds[1], "x.png"})
		assert(e.msg:find("items%[2%]"), e.msg)
		e = expect_error("bad_arg", ev.eval_many, ev, nil, ds[1])
		assert(e.msg:find("{item}"), e.msg)
		e = expect_error("bad_arg", ev.eval_many, ev, nil, items, {workers = -1})
		assert(e.msg:find("workers"), e.msg)
		e = expect_error("bad_arg", ev.eval_many, ev, nil, items, {wokers = 2})
		assert(e.msg:find("workers"), e.msg)
		expect_error("bad_arg", ev.eval_many, ev, nil, items, {perturbation = {gain = -1}})
		ev:free()
		expect_error("bad_state", ev.eval_many, ev, nil, items)
	`, &freed)
}
