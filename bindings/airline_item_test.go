package bindings_test

import "testing"

// TestAirlineItemLookup: every function that takes a data set item (ev:eval,
// ev:detect, ev:eval_many, airline.score) resolves it the same way (one
// lookup, itemRef): ds[i] works, a table that is not an item is a bad_arg
// error naming the argument (airline.score on {} used to dereference a nil
// data set), and an item whose index lies outside its data set is the same
// "item index ... out of range" error everywhere.
func TestAirlineItemLookup(t *testing.T) {
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local ds = airline.dataset{synthetic = {n = 2, width = 160, height = 120, seed = 3}}
		local ev = airline.evaluator{seed = 1}
		local it = ds[2]
		local segs = ev:detect(nil, it)
		near(airline.score(segs, it).f, ev:eval(nil, it).f, 1e-12, "score of detect equals eval")
		assert_eq(#ev:eval_many(nil, {it, ds[1]}), 2)

		local e = expect_error("bad_arg", airline.score, {{0, 0, 1, 1}}, {})
		assert(e.msg:find("data set item"), e.msg)
		e = expect_error("bad_arg", airline.score, segs, 7)
		assert(e.msg:find("data set item"), e.msg)
		e = expect_error("bad_arg", ev.eval_many, ev, nil, {it, {index = 1}})
		assert(e.msg:find("items%[2%]"), e.msg)

		local forged = {dataset = it.dataset, index = 9, path = it.path}
		for name, call in pairs{
			score = function() return airline.score(segs, forged) end,
			eval = function() return ev:eval(nil, forged) end,
			detect = function() return ev:detect(nil, forged) end,
			eval_many = function() return ev:eval_many(nil, {forged}) end,
		} do
			e = expect_error("bad_arg", call)
			assert(e.msg:find("item index 9 out of range %[1, 2%]"), name .. ": " .. e.msg)
		end
	`, &freed)
}
