package bindings_test

import (
	"fmt"
	"testing"
)

// TestAirlineDatasetDownscale: airline.dataset{labels =, downscale = 2}
// halves a generated weld set's images and GT, records the factor in the
// manifest, and a bad factor (or one for the synthetic scenes) is a bad_arg
// error naming the option; bo.run's objective.airline.downscale is checked
// by the spec's rules.
func TestAirlineDatasetDownscale(t *testing.T) {
	dir := t.TempDir()
	var freed int
	luatest_run(t, fmt.Sprintf(`
		local airline = require "bohost.airline"
		local bo = require "bo"
		local s = airline.write_weld_set{dir = %q, n = 2, width = 64, height = 48, seed = 1, format = "png"}
		local full = airline.dataset{labels = s.label_file}
		local half = airline.dataset{labels = s.label_file, downscale = 2}
		local a, b = full:item(1), half:item(1)
		assert_eq(b.width, 32)
		assert_eq(b.height, 24)
		assert_eq(#b.lines, #a.lines)
		assert(math.abs(b.lines[1][1] - a.lines[1][1] / 2) <= 0.5)
		assert_eq(half:manifest().downscale, 2)
		assert(half:manifest().sha256 ~= full:manifest().sha256)
		local e = expect_error("bad_arg", airline.dataset, {labels = s.label_file, downscale = 0})
		assert(e.msg:find("option 'downscale' must be an integer factor", 1, true), e.msg)
		e = expect_error("bad_arg", airline.dataset, {synthetic = {n = 2}, downscale = 2})
		assert(e.msg:find("option 'downscale' is for image files", 1, true), e.msg)
		e = expect_error("bad_arg", bo.run, {dir = "x", objective = {airline = {data = s.label_file, downscale = -1}}})
		assert(e.msg:find("objective.airline.downscale must be an integer factor", 1, true), e.msg)
	`, dir), &freed)
}
