package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// argsScript mirrors how scripts/alpha_sweep.lua uses its options: a boolean
// that defaults to true, a directory, a number and a list.
const argsScript = `local bo = require "bo"
local opt = bo.args{alpha = 0.1, report = true, smoke = false, dir = "runs/x", alphas = {0.1, 0.2}}
print("alpha", opt.alpha, "report", opt.report, "smoke", opt.smoke, "dir", opt.dir, "alphas", #opt.alphas)
if opt.report then print("drawing the report") end
`

// TestArgsUsageErrors: whatever bo.args cannot parse stops the script with
// exit code 2 and a message naming the argument, before the script runs on
// with defaults (issue 19, defect 8).
func TestArgsUsageErrors(t *testing.T) {
	p := writeScript(t, "opts.lua", argsScript)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"alpha=0.5"}, "unexpected argument alpha=0.5 (did you mean --alpha=0.5?)"},
		{[]string{"-alpha", "0.5"}, "unknown option -alpha (did you mean --alpha?)"},
		{[]string{"stray"}, "unexpected argument stray"},
		{[]string{"--alpha", "0.2", "stray"}, "unexpected argument stray"},
		{[]string{"--dir", "--dir", "x"}, "option --dir needs a value, got the option --dir"},
		{[]string{"--", "x"}, "unexpected argument x after --"},
		{[]string{"--alpha", "0.2", "--alpha", "0.3"}, "option --alpha given twice, as 0.2 and 0.3"},
		{[]string{"--report", "--no-report"}, "option --report given twice"},
		{[]string{"--alhpa", "0.2"}, "unknown option --alhpa (did you mean --alpha?)"},
		{[]string{"--report=maybe"}, "option --report takes true or false"},
	} {
		r := run(t, "", append([]string{p}, c.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stdout, "alpha") {
			t.Errorf("%v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, r.code, ExitUsage, c.want, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "hint: options: --alpha --alphas --dir --report --smoke") {
			t.Errorf("%v: no option list in the hint:\n%s", c.args, r.stderr)
		}
	}
}

// TestArgsBooleans: --report false, --report=false and --no-report all turn
// the report off (alpha_sweep.lua --report false used to draw it anyway).
func TestArgsBooleans(t *testing.T) {
	p := writeScript(t, "opts.lua", argsScript)
	for _, c := range []struct {
		args   []string
		report string
	}{
		{[]string{"--report", "false"}, "false"},
		{[]string{"--report=false"}, "false"},
		{[]string{"--no-report"}, "false"},
		{[]string{"--report"}, "true"},
		{[]string{"--report", "true", "--smoke"}, "true"},
		{nil, "true"},
	} {
		r := run(t, "", append([]string{p}, c.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "report\t"+c.report+"\t") {
			t.Errorf("%v: exit %d\n%s%s", c.args, r.code, r.stdout, r.stderr)
		}
		if drew := strings.Contains(r.stdout, "drawing the report"); drew != (c.report == "true") {
			t.Errorf("%v: drew the report: %v\n%s", c.args, drew, r.stdout)
		}
	}
	r := run(t, "", p, "--alpha", "-0.5", "--dir=--odd", "--alphas", "0.3,0.4,0.5", "--smoke", "yes")
	if r.code != 0 || !strings.Contains(r.stdout, "alpha\t-0.5\treport\ttrue\tsmoke\ttrue\tdir\t--odd\talphas\t3\n") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestArgsTableAndBoErrorsPointAtTheScript: a misspelt option read from the
// table, and errors raised by bo.run, bo.optimizer and bo.<typo>, print the
// script's line (not bo/init.lua's) with kind, op and hint; exit code 1.
func TestArgsTableAndBoErrorsPointAtTheScript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"misspelt option", `local opt = bo.args{iterations = 30}
for i = 1, opt.iteratons do end`, []string{"bohost: s.lua:4: bo.args: bad_arg: no option 'iteratons' (did you mean 'iterations'?)", "hint: options: iterations"}},
		{"bo.run(5)", `
bo.run(5)`, []string{"bohost: s.lua:4: bo.run: bad_arg: options table expected, got number", "hint: bo.run{dir = "}},
		{"optimizer alpha", `
bo.run{dir = "` + dir + `", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}, alpha = 2}}`,
			[]string{"bohost: s.lua:4: run.run: bad_arg: optimizer.alpha must be in (0, 1], got 2"}},
		{"workers 0", `
bo.run{dir = "` + dir + `", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}}, workers = 0}`,
			[]string{"bohost: s.lua:4: run.run: bad_arg: option 'workers' must be an integer >= 1, got 0"}},
		{"duplicate names", `
bo.optimizer{space = {{name = "a", lo = 0, hi = 1}, {name = "a", lo = 0, hi = 1}}, env = {{0, 1}}}`,
			[]string{"bohost: s.lua:4: bo.new: bad_arg: space[2].name 'a' is already the name of space[1]"}},
		{"module typo", `
local gp = bo.gpp`, []string{"bohost: s.lua:4: bo: bad_arg: no module bo.gpp (did you mean bo.gp?)"}},
	} {
		p := writeScript(t, "s.lua", "local bo = require \"bo\"\n\n"+c.body+"\n")
		r := run(t, "", p)
		if r.code != ExitScriptError {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, r.code, ExitScriptError, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, r.stderr)
			}
		}
		if first, _, _ := strings.Cut(r.stderr, "\n"); strings.Contains(first, "init.lua") {
			t.Errorf("%s: the message points into the library: %s", c.name, first)
		}
		if !strings.Contains(r.stderr, "stack traceback:") || !strings.Contains(r.stderr, "s.lua:4: in function 'main chunk'") {
			t.Errorf("%s: no traceback down to the script's line:\n%s", c.name, r.stderr)
		}
	}
}
