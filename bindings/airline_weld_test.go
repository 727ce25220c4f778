package bindings_test

import "testing"

// TestAirlineWeldScene: the synthetic tables of airline.dataset and of an
// objective (bo.run's objective.airline.synth) take scene = "weld", the
// manifest records its generator version, and a misspelt scene is a bad_arg
// error naming the choices.
func TestAirlineWeldScene(t *testing.T) {
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local bo = require "bo"
		local weld = airline.dataset{synthetic = {n = 2, width = 64, height = 48, seed = 1, scene = "weld"}}
		local v1 = airline.dataset{synthetic = {n = 2, width = 64, height = 48, seed = 1, scene = "v1"}}
		local unset = airline.dataset{synthetic = {n = 2, width = 64, height = 48, seed = 1}}
		assert_eq(weld:manifest().generator_version, "synth-weld-v1")
		assert_eq(v1:manifest().generator_version, "synth-v1")
		assert_eq(v1:manifest().sha256, unset:manifest().sha256)
		assert(weld:manifest().sha256 ~= unset:manifest().sha256)
		local e = expect_error("bad_arg", airline.dataset, {synthetic = {n = 2, scene = "welds"}})
		assert(e.msg:find('"weld"'), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", objective = {airline = {synth = {n = 2, scene = "welds"}}}})
		assert(e.msg:find('objective.airline.synth.scene must be "", "v1" or "weld", got "welds"', 1, true), e.msg)
	`, &freed)
}
