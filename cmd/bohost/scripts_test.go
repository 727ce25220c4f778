package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/testsupport"
)

// TestScriptsSmoke runs every script in scripts/ with --smoke (a tiny budget
// on small synthetic images, the CPU path) through the real binary, and
// bohost report on the sweep's output: what users copy must keep working.
func TestScriptsSmoke(t *testing.T) {
	c := newCLI(t)
	root := testsupport.RepoRoot()
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*.lua"))
	if len(scripts) == 0 {
		t.Fatal("no scripts found")
	}
	out := t.TempDir()
	for _, s := range scripts {
		name := filepath.Base(s)
		t.Run(name, func(t *testing.T) {
			args := []string{s, "--smoke"}
			switch name {
			case "alpha_sweep.lua":
				args = append(args, "--out", filepath.Join(out, "sweep"))
			case "holdout.lua": // scores the smoke sweep's recommendations (runs after alpha_sweep.lua)
				args = append(args, "--sweep", filepath.Join(out, "sweep"))
			}
			cmd := exec.Command(c.bin, args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "BOHOST_SHARED=/nonexistent") // the embedded data set only
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s --smoke: %v\n%s", name, err, b)
			}
			if strings.Contains(string(b), "freed") && strings.Contains(string(b), "at exit") {
				t.Errorf("%s leaks native handles:\n%s", name, b)
			}
		})
	}
	cmd := exec.Command(c.bin, "report", filepath.Join(out, "sweep"), "--out", filepath.Join(out, "report"))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("report on the smoke sweep: %v\n%s", err, b)
	}
	for _, f := range []string{"convergence.png", "convergence.svg", "tradeoff.png", "scores.png", "params.png", "summary.md", "summary.csv", "results.json"} {
		if st, err := os.Stat(filepath.Join(out, "report", f)); err != nil || st.Size() == 0 {
			t.Errorf("report lacks %s: %v\n%s", f, err, b)
		}
	}
}
