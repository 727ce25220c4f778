package bindings_test

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReportFiguresFromLua(t *testing.T) {
	dir := t.TempDir()
	var freed int
	luatest_run(t, `
		local report = require "bohost.report"
		local dir = "`+dir+`"
		local f = report.figure{title = "t", xlabel = "evaluations", ylabel = "CVaR"}
		f:band("a", {1, 2, 3}, {0, 0.1, 0.2}, {0.2, 0.3, 0.4}):line("a", {1, 2, 3}, {0.1, 0.2, 0.3})
		f:scatter("obs", {1, 2}, {0.1, 0.25}):vline("death", 2):label(1, 0.3, "note"):range(0, 4)
		assert_eq(f:save(dir .. "/f.png"), dir .. "/f.png")
		f:save(dir .. "/f.svg", 5, 3)
		local b = report.figure{title = "scores", xlabel = "alpha", ylabel = "F"}
		b:box("0.1", {0.5, 0.6, 0.7}):box("0.3", {0.2, 0.9, 0.4}):color("0.1", "#336699")
		b:save(dir .. "/b.pdf")
		local e = expect_error("bad_arg", f.line, f, "bad", {1, 2}, {1})
		assert(e.msg:find("2 values"), e.msg)
		e = expect_error("bad_arg", b.color, b, "0.1", "blue")
		assert(e.msg:find("#rrggbb"), e.msg)
		expect_error("bad_arg", report.figure, {titel = "x"})
		e = expect_error("bad_arg", report.generate, dir .. "/nothing-here")
	`, &freed)
	for _, f := range []string{"f.png", "f.svg", "b.pdf"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 500 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
