package bindings_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/lua"
	"bohost/host/lua/luatest"
)

// TestBoArgsBooleansAndStrays: bo.args parses --flag false and refuses what
// it cannot parse with a usage error (issue 19, defect 8).
func TestBoArgsBooleansAndStrays(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		local defaults = {alpha = 0.1, report = true, dir = "d"}
		for _, argv in ipairs{{"--report", "false"}, {"--report=false"}, {"--no-report"}} do
			arg = {[0] = "s.lua", unpack(argv)}
			assert_eq(bo.args(defaults).report, false, table.concat(argv, " "))
		end
		arg = {[0] = "s.lua", "--report"}
		assert_eq(bo.args(defaults).report, true)
		for argv, want in pairs{
			["alpha=0.5"] = "did you mean %-%-alpha=0.5%?",
			["-alpha 0.5"] = "did you mean %-%-alpha%?",
			["stray"] = "unexpected argument stray",
			["--dir --dir x"] = "%-%-dir needs a value",
			["-- x"] = "unexpected argument x after %-%-",
			["--alpha 0.2 --alpha 0.3"] = "given twice",
		} do
			arg = {[0] = "s.lua"}
			for a in argv:gmatch("%S+") do arg[#arg + 1] = a end
			local e = expect_error("usage", bo.args, defaults)
			assert(e.msg:find(want), argv .. ": " .. e.msg)
		end
	`, &freed)
}

// TestBoArgsTableIsStrict: reading or setting a key that is not an option
// raises with a did-you-mean instead of giving nil.
func TestBoArgsTableIsStrict(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		arg = {[0] = "s.lua", "--iterations", "5"}
		local opt = bo.args{iterations = 30, alpha = 0.1, smoke = false}
		assert_eq(opt.iterations, 5); assert_eq(opt.smoke, false)
		opt.alpha = 0.3 -- a known option may be changed
		assert_eq(opt.alpha, 0.3)
		local e = expect_error("bad_arg", function() return opt.iteratons end)
		assert(e.msg:find("no option 'iteratons'") and e.msg:find("did you mean 'iterations'%?"), e.msg)
		assert(e.hint:find("alpha, iterations, smoke"), e.hint)
		assert(e.where:find("^snippet:"), e.where)
		e = expect_error("bad_arg", function() opt.iteratons = 3 end)
		assert(e.msg:find("did you mean 'iterations'%?"), e.msg)
		expect_error("bad_arg", function() return opt[1] end)
		local n = 0
		for k, v in pairs(opt) do n = n + 1 end
		assert_eq(n, 3, "pairs over the options")
		opt.smoke = nil -- an option set to nil reads as nil and can be set again
		assert_eq(opt.smoke, nil)
		opt.smoke = true
		assert_eq(opt.smoke, true)
	`, &freed)
}

// scriptError runs src as a chunk named "script.lua" and returns its error.
func scriptError(t *testing.T, src string) *lua.ScriptError {
	t.Helper()
	var freed int
	rt := luatest.New(t, modules(&freed))
	_, err := rt.DoString(context.Background(), src, "script.lua")
	var se *lua.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("want a script error, got %v", err)
	}
	return se
}

// TestFriendlyLayerErrorsPointAtTheCaller: errors raised by bo.run and
// bo.optimizer (in the friendly layer or the Go bindings under it) carry the
// user's line, not a line of bo/init.lua, and are structured.
func TestFriendlyLayerErrorsPointAtTheCaller(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	for _, c := range []struct {
		name, call, kind, op string
		want                 []string
	}{
		{"run not a table", `bo.run(5)`, "bad_arg", "bo.run", []string{"options table expected, got number"}},
		{"run no args", `bo.run()`, "bad_arg", "bo.run", []string{"options table expected, got nil"}},
		{"optimizer not a table", `bo.optimizer("x")`, "bad_arg", "bo.optimizer", []string{"options table expected, got string"}},
		{"run optimizer alpha", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"},
  optimizer = {space = {{0, 1}}, env = {{0, 1}}, alpha = 2}}`, "bad_arg", "", []string{"optimizer.alpha must be in (0, 1], got 2"}},
		{"run optimizer typo", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"},
  optimizer = {space = {{0, 1}}, env = {{0, 1}}, alhpa = 0.2}}`, "bad_arg", "", []string{"unknown option 'optimizer.alhpa' (did you mean 'optimizer.alpha'?)"}},
		{"run optimizer type", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"},
  optimizer = {space = {{0, 1}}, env = {{0, 1}}, alpha = "x"}}`, "bad_arg", "", []string{"option 'optimizer.alpha' must be a number, got string"}},
		{"run optimizer n_w 0", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"},
  optimizer = {space = {{0, 1}}, env = {{0, 1}}, n_w = 0}}`, "bad_arg", "", []string{"option 'optimizer.n_w' must be an integer >= 1, got 0"}},
		{"run space lo", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"},
  optimizer = {space = {{name = "a", lo = "0", hi = 1}}, env = {{0, 1}}}}`, "bad_arg", "", []string{"option 'optimizer.space[1].lo' must be a number, got string"}},
		{"optimizer alpha", `bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, alpha = 1.5}`, "bad_arg", "", []string{"alpha must be in (0, 1], got 1.5"}},
		{"optimizer n_w 0", `bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, n_w = 0}`, "bad_arg", "", []string{"option 'n_w' must be an integer >= 1, got 0"}},
		{"optimizer n_initial 0", `bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, n_initial = 0}`, "bad_arg", "", []string{"option 'n_initial' must be an integer >= 1, got 0"}},
		{"optimizer duplicate names", `bo.optimizer{space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}, {name = "a", lo = 0, hi = 2}}, env = {{0, 1}}}`,
			"bad_arg", "", []string{"space[3].name 'a' is already the name of space[1]"}},
		{"run iterations 0", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}}, iterations = 0}`,
			"bad_arg", "", []string{"option 'iterations' must be an integer >= 1, got 0"}},
		{"run timeout_s 0", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}}, timeout_s = 0}`,
			"bad_arg", "", []string{"option 'timeout_s' must be > 0 seconds, or negative for no timeout, got 0"}},
		{"run workers 0", `bo.run{dir = "` + dir + `", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}}, workers = 0}`,
			"bad_arg", "", []string{"option 'workers' must be an integer >= 1, got 0"}},
		{"module typo", `local m = bo.gpp`, "bad_arg", "bo", []string{"no module bo.gpp (did you mean bo.gp?)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			se := scriptError(t, "local bo = require \"bo\"\n\n"+c.call+"\n")
			if se.Where != "script.lua:3:" {
				t.Errorf("where %q, want script.lua:3: (%v)", se.Where, se)
			}
			if se.Kind != c.kind || (c.op != "" && se.Op != c.op) {
				t.Errorf("kind %q op %q, want %q %q (%v)", se.Kind, se.Op, c.kind, c.op, se)
			}
			for _, w := range c.want {
				if !strings.Contains(se.Msg, w) {
					t.Errorf("msg %q, want %q", se.Msg, w)
				}
			}
			if c.op != "" && se.Hint == "" {
				t.Errorf("no hint: %v", se)
			}
		})
	}
}

// TestFriendlyLayerModules: bo.<module> loads the raw module; a misspelt one
// raises instead of giving nil.
func TestFriendlyLayerModules(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		assert(bo.gp == require "bohost.gp")
		local e = expect_error("bad_arg", function() return bo.gpp end)
		assert(e.msg:find("no module bo.gpp %(did you mean bo.gp%?%)"), e.msg)
		assert(e.hint:find("bo.mem"), e.hint)
		expect_error("bad_arg", function() return bo.zzzzzz end)
	`, &freed)
}
