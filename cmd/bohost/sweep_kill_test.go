package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"bohost/host/testsupport"
)

// TestSweepKilledAndRerun kills the main job (scripts/alpha_sweep.lua
// --smoke) with SIGKILL at several moments and re-runs the same command
// each time: the finished sweep equals an uninterrupted one, run by run and
// trial by trial (timings aside).
func TestSweepKilledAndRerun(t *testing.T) {
	c := newCLI(t)
	script := filepath.Join(testsupport.RepoRoot(), "scripts", "alpha_sweep.lua")
	out := t.TempDir()
	sweep := func(dir string) *exec.Cmd {
		cmd := exec.Command(c.bin, script, "--smoke", "--iterations", "4", "--out", dir, "--report=false")
		cmd.Dir = out
		cmd.Env = append(os.Environ(), "BOHOST_SHARED=/nonexistent")
		return cmd
	}
	ref := filepath.Join(out, "ref")
	if b, err := sweep(ref).CombinedOutput(); err != nil {
		t.Fatalf("reference sweep: %v\n%s", err, b)
	}
	killed := filepath.Join(out, "killed")
	kills := 0
	for _, after := range []time.Duration{700 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, 4 * time.Second} {
		cmd := sweep(killed)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(after, func() { cmd.Process.Signal(syscall.SIGKILL) })
		cmd.Wait()
		timer.Stop()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
		}
	}
	if b, err := sweep(killed).CombinedOutput(); err != nil {
		t.Fatalf("re-running the sweep: %v\n%s", err, b)
	}
	if kills == 0 {
		t.Fatal("the sweep always finished before the kill: nothing was tested")
	}
	runs, _ := filepath.Glob(filepath.Join(ref, "*", "seed_*")) // alpha_*/ and the reference, mean/
	if len(runs) == 0 {
		t.Fatal("no runs in the reference sweep")
	}
	for _, r := range runs {
		rel, _ := filepath.Rel(ref, r)
		sameTrials(t, rel, trialLines(t, r), trialLines(t, filepath.Join(killed, rel)))
	}
	t.Logf("%d kills; %d runs identical to the uninterrupted sweep", kills, len(runs))
}
