package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/testsupport"
)

// TestBaselinesScript: scripts/baselines.lua run after alpha_sweep.lua into
// the same sweep directory (smoke sizes) adds default parameters, random
// search and EI on the mean with the sweep's seeds, budget, data and
// held-out split; the report puts them in the cross-evaluation table with
// paired intervals against the reference, each differing from it in one
// declared setting. Options that would change the budget are refused.
func TestBaselinesScript(t *testing.T) {
	c := newCLI(t)
	root := testsupport.RepoRoot()
	sweep := filepath.Join(t.TempDir(), "sweep")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(c.bin, args...)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "BOHOST_SHARED=/nonexistent")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := run(filepath.Join(root, "scripts", "alpha_sweep.lua"), "--smoke", "--out", sweep, "--no-report"); err != nil {
		t.Fatalf("alpha_sweep --smoke: %v\n%s", err, out)
	}
	out, err := run(filepath.Join(root, "scripts", "baselines.lua"), "--smoke", "--out", sweep)
	if err != nil {
		t.Fatalf("baselines --smoke: %v\n%s", err, out)
	}
	for _, want := range []string{"baseline random search, seed 2", "baseline EI on the mean, seed 1", "baseline defaults, seed 2", "held out (test, 3 images)",
		"Baselines against mean (risk-neutral), held-out lower tail (CVaR 0.1): EI on the mean"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, d := range []string{"baseline_random/seed_1", "baseline_ei/seed_2", "baseline_defaults/seed_1"} {
		for _, f := range []string{"config.json", "summary.json", "holdout.json"} {
			if _, err := os.Stat(filepath.Join(sweep, d, f)); err != nil {
				t.Errorf("%s/%s: %v", d, f, err)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(sweep, "report", "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| baseline: random search | 2 |", "| baseline: EI on the mean | 2 |", "| baseline: defaults | 2 |",
		"| baseline: random search | mean (risk-neutral) | acquisition: \"random\" vs \"qlognei\" | one change |",
		"| baseline: defaults | mean (risk-neutral) |  | no difference in config.json (scored only: its data and objective compared) |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	if strings.Contains(string(md), "confounded") && !strings.Contains(string(md), "is confounded.") {
		t.Errorf("summary.md flags a confounded comparison:\n%s", md)
	}
	// A budget other than the sweep's is refused, naming the option, before
	// anything runs (--smoke would force the smoke budget: not given here).
	out, err = run(filepath.Join(root, "scripts", "baselines.lua"), "--out", sweep, "--iterations", "2", "--n-initial", "4", "--n-w", "3", "--no-report")
	if err == nil || !strings.Contains(out, "ran with --n-initial 3, this --n-initial 4") {
		t.Errorf("a different budget: %v\n%s", err, out)
	}
}
