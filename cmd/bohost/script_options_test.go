package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bohost/host/testsupport"
)

// TestHelpScriptOptionsDeclaredOnce: every script's options are declared
// once, with default and help side by side, so --help explains each one.
func TestHelpScriptOptionsDeclaredOnce(t *testing.T) {
	scripts, _ := filepath.Glob(filepath.Join(testsupport.RepoRoot(), "scripts", "*.lua"))
	if len(scripts) == 0 {
		t.Fatal("no scripts")
	}
	option := regexp.MustCompile(`^  (--[a-z0-9-]+) +\[[^\]]*\](.*)$`)
	for _, s := range scripts {
		r := run(t, "", s, "--help")
		if r.code != 0 {
			t.Errorf("%s --help: exit %d\n%s", filepath.Base(s), r.code, r.stderr)
			continue
		}
		if !strings.HasPrefix(r.stdout, "usage: bohost "+s+" [options]\n") { // arg[0], not SCRIPT.lua
			t.Errorf("%s --help: %q", filepath.Base(s), strings.SplitN(r.stdout, "\n", 2)[0])
		}
		n := 0
		for _, l := range strings.Split(r.stdout, "\n") {
			m := option.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			n++
			if strings.TrimSpace(m[2]) == "" {
				t.Errorf("%s: option %s has no help: declare it as {name, default, help}", filepath.Base(s), m[1])
			}
		}
		if n == 0 {
			t.Errorf("%s --help lists no options:\n%s", filepath.Base(s), r.stdout)
		}
	}
}

// TestHelpAlphaSweepOptions runs alpha_sweep.lua's own declaration of
// options: --report false turns the report off (it was drawn anyway), and
// opt.iteratons raises instead of reading nil (0 iterations ran).
func TestHelpAlphaSweepOptions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testsupport.RepoRoot(), "scripts", "alpha_sweep.lua"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?s)\nlocal opt = bo\.args\{\n.*?\n\}\n`).FindString(string(b))
	if decl == "" {
		t.Fatal("alpha_sweep.lua has no local opt = bo.args{...} block")
	}
	p := writeScript(t, "alpha_sweep.lua", "local bo = require \"bo\"\n"+decl+"print(opt.report, opt.iterations)\nreturn opt.iteratons\n")
	for _, args := range [][]string{{"--report", "false"}, {"--report=false"}, {"--no-report"}} {
		r := run(t, "", append([]string{p}, args...)...)
		if !strings.HasPrefix(r.stdout, "false\t15\n") {
			t.Errorf("%v: report is not false: %+v", args, r)
		}
		if r.code != ExitScriptError || !strings.Contains(r.stderr, "no option 'iteratons' (did you mean 'iterations'?)") {
			t.Errorf("%v: opt.iteratons: %+v", args, r)
		}
	}
	if r := run(t, "", p, "--iteratons", "3"); r.code != ExitUsage || !strings.Contains(r.stderr, "unknown option --iteratons (did you mean --iterations?)") {
		t.Errorf("--iteratons 3: %+v", r)
	}
	if !strings.Contains(string(b), "if opt.report then") {
		t.Error("alpha_sweep.lua no longer draws the report under if opt.report then: update this test")
	}
}
