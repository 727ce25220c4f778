package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// interruptedRun makes an unfinished run in c.cwd/dir: run.lua killed at its
// second iteration.
func interruptedRun(t *testing.T, c *cli, dir string) {
	t.Helper()
	code, out := c.run([]string{"BOHOST_TEST_KILL=iteration:2"}, "run.lua", "--dir", dir, "--iterations", "6")
	if code == 0 {
		t.Fatalf("the run was not killed:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(c.cwd, dir, "summary.json")); err == nil {
		t.Fatal("the killed run has a summary")
	}
	if countLines(filepath.Join(c.cwd, dir, "trials.jsonl")) == 0 {
		t.Fatal("the killed run has no trials")
	}
}

// snapshot is every file of a directory tree with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

func sameSnapshot(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d files, was %d", what, len(b), len(a))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("%s: %s changed", what, k)
		}
	}
}

func finishedTrials(t *testing.T, dir string) int {
	t.Helper()
	var s struct {
		Status string `json:"status"`
		Trials int    `json:"trials"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &s) != nil || s.Status != "finished" {
		t.Fatalf("%s did not finish: %v %s", dir, err, b)
	}
	return s.Trials
}

// TestResumeCopy: `bohost resume COPY` continues the copy and never the
// original, whether the original is still there or gone, and from any
// working directory with a relative path (issue 19, defect 3).
func TestResumeCopy(t *testing.T) {
	c := newCLI(t)
	interruptedRun(t, c, "orig")
	orig := filepath.Join(c.cwd, "orig")
	elsewhere := t.TempDir()
	copyTree(t, orig, filepath.Join(elsewhere, "copy1"))
	copyTree(t, orig, filepath.Join(elsewhere, "copy2"))
	before := snapshot(t, orig)

	// The original is still there: the copy is resumed, the original untouched.
	code, out := c.run(nil, "resume", filepath.Join(elsewhere, "copy1"))
	if code != 0 || !strings.Contains(out, "status finished") {
		t.Fatalf("resume copy1: exit %d\n%s", code, out)
	}
	n := finishedTrials(t, filepath.Join(elsewhere, "copy1"))
	sameSnapshot(t, "the original after resuming a copy", before, snapshot(t, orig))

	// The original is gone: a relative path from another working directory
	// resumes the copy; nothing is created where the original was.
	os.RemoveAll(orig)
	cmd := exec.Command(c.bin, "resume", "copy2")
	cmd.Dir = elsewhere
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "status finished") {
		t.Fatalf("resume copy2 (relative): %v\n%s", err, b)
	}
	if m := finishedTrials(t, filepath.Join(elsewhere, "copy2")); m != n {
		t.Fatalf("copy2 finished with %d trials, copy1 with %d", m, n)
	}
	sameTrials(t, "copy2 vs copy1", trialLines(t, filepath.Join(elsewhere, "copy1")), trialLines(t, filepath.Join(elsewhere, "copy2")))
	if _, err := os.Stat(orig); err == nil {
		t.Fatalf("resuming a copy recreated the original %s", orig)
	}

	// The original resumes as before.
	interruptedRun(t, c, "orig")
	if code, out := c.run(nil, "resume", "orig"); code != 0 || !strings.Contains(out, "status finished") {
		t.Fatalf("resume the original: exit %d\n%s", code, out)
	}
}

const sweepScript = `
local bo = require "bo"
local opt = bo.args{out = "sw", iterations = 3}
for _, cell in ipairs{"a", "b"} do
  local s = bo.run{
    dir = opt.out .. "/" .. cell,
    optimizer = {space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 3,
                 acquisition = "ucb", mode = "all_w", n_initial = 2, seed = cell == "a" and 1 or 2,
                 restarts = 2, raw_samples = 32},
    objective = {file = "objective.lua", fn = "evaluate"},
    iterations = opt.iterations, workers = 1, timeout_s = 30, progress = false,
  }
  print("cell " .. cell .. " " .. s.status)
end
`

// TestResumeCopySkipsOtherRuns: resuming a copied sweep cell opens that
// copy only; the script's other run directories are skipped (said so, never
// created or touched), and a run directory made before run directories
// recorded their own path is refused when its script would open another
// directory (issue 19, defect 3).
func TestResumeCopySkipsOtherRuns(t *testing.T) {
	c := newCLI(t)
	os.WriteFile(filepath.Join(c.cwd, "sweep.lua"), []byte(sweepScript), 0o644)
	if code, out := c.run(nil, "sweep.lua"); code != 0 || !strings.Contains(out, "cell a finished") || !strings.Contains(out, "cell b finished") {
		t.Fatalf("sweep: exit %d\n%s", code, out)
	}
	sw := filepath.Join(c.cwd, "sw")
	elsewhere := t.TempDir()
	cp := filepath.Join(elsewhere, "a")
	copyTree(t, filepath.Join(sw, "a"), cp)
	// Resume the copy with more iterations than it had: it must extend the
	// copy, skip cell b, and leave the original sweep as it was (cell b
	// removed: it must not be recreated).
	var args map[string]any
	b, _ := os.ReadFile(filepath.Join(cp, "args.json"))
	json.Unmarshal(b, &args)
	args["args"] = []string{"--iterations", "4"}
	nb, _ := json.Marshal(args)
	os.WriteFile(filepath.Join(cp, "args.json"), nb, 0o644)
	os.RemoveAll(filepath.Join(sw, "b"))
	before := snapshot(t, sw)
	n0 := countLines(filepath.Join(cp, "trials.jsonl"))
	code, out := c.run(nil, "resume", cp)
	if code != 0 || !strings.Contains(out, "cell a finished") || !strings.Contains(out, "skipped") || !strings.Contains(out, filepath.Join("sw", "b")) {
		t.Fatalf("resume copied cell: exit %d\n%s", code, out)
	}
	if n := countLines(filepath.Join(cp, "trials.jsonl")); n <= n0 {
		t.Fatalf("the copy was not extended: %d trials, had %d", n, n0)
	}
	sameSnapshot(t, "the original sweep", before, snapshot(t, sw))
	if _, err := os.Stat(filepath.Join(sw, "b")); err == nil {
		t.Fatal("resuming a copy created another run directory")
	}

	// An older run directory (args.json without "dir") copied elsewhere: its
	// script opens the original, so the resume is refused, and the original
	// is left alone.
	cp2 := filepath.Join(elsewhere, "old")
	copyTree(t, filepath.Join(sw, "a"), cp2)
	b, _ = os.ReadFile(filepath.Join(cp2, "args.json"))
	args = map[string]any{}
	json.Unmarshal(b, &args)
	delete(args, "dir")
	args["args"] = []string{"--iterations", "4"}
	nb, _ = json.Marshal(args)
	os.WriteFile(filepath.Join(cp2, "args.json"), nb, 0o644)
	before2 := snapshot(t, cp2)
	code, out = c.run(nil, "resume", cp2)
	if code == 0 || !strings.Contains(out, cp2) || !strings.Contains(out, "did not open") {
		t.Fatalf("resume an old-format copy: exit %d\n%s", code, out)
	}
	sameSnapshot(t, "the original sweep", before, snapshot(t, sw))
	sameSnapshot(t, "the refused old copy", before2, snapshot(t, cp2))
}

// TestResumeOnAnotherMachine: a run's whole working directory (script,
// objective, run directory) moved elsewhere, the original gone, resumes
// without --force: the objective is the same file content at another path
// (its recorded sha256 matches), so the experiment is the same.
func TestResumeOnAnotherMachine(t *testing.T) {
	c := newCLI(t)
	interruptedRun(t, c, "orig")
	moved := filepath.Join(t.TempDir(), "work2")
	copyTree(t, c.cwd, moved)
	os.RemoveAll(c.cwd)
	cmd := exec.Command(c.bin, "resume", "orig")
	cmd.Dir = moved
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "status finished") {
		t.Fatalf("resume of a moved working directory: %v\n%s", err, b)
	}
	if _, err := os.Stat(c.cwd); err == nil {
		t.Fatalf("resuming the moved run recreated %s", c.cwd)
	}
	// An edited objective is still a changed experiment.
	interrupted := filepath.Join(t.TempDir(), "work3")
	copyTree(t, moved, interrupted)
	os.RemoveAll(filepath.Join(interrupted, "orig", "summary.json"))
	os.WriteFile(filepath.Join(interrupted, "objective.lua"), []byte(strings.Replace(cliRunObjective, "0.3", "0.31", 1)), 0o644)
	cmd = exec.Command(c.bin, "resume", "orig")
	cmd.Dir = interrupted
	b, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "objective") {
		t.Fatalf("resume with an edited objective was not refused: %v\n%s", err, b)
	}
}
