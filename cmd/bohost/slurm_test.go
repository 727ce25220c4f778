package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"bohost/host/cells"
	"bohost/host/testsupport"
)

// The sweep through Slurm against the local cluster (make slurm-up): the
// array's results are the local executor's, run by run and trial by trial;
// scancel of one element and of a whole job are recorded and resumed, and a
// rerun submits only the unfinished cells.
func TestSweepSlurm(t *testing.T) {
	c := newCLI(t)
	env := testsupport.RequireCluster(t)
	script := filepath.Join(testsupport.RepoRoot(), "scripts", "alpha_sweep.lua")
	out := t.TempDir()
	// one seed: three cells (the reference, alpha 0.1, alpha 0.5), each a few seconds
	args := []string{script, "--smoke", "--seeds", "1", "--iterations", "6", "--report=false"}
	sweep := func(dir string, more ...string) (string, error) {
		cmd := exec.Command(c.bin, append(append(append([]string{}, args...), "--out", dir), more...)...)
		cmd.Dir = out
		cmd.Env = append(append(os.Environ(), "BOHOST_SHARED=/nonexistent"), env...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	ref := filepath.Join(out, "ref")
	if o, err := sweep(ref); err != nil {
		t.Fatalf("local sweep: %v\n%s", err, o)
	}
	runs, _ := filepath.Glob(filepath.Join(ref, "*", "seed_*"))
	if len(runs) != 3 {
		t.Fatalf("%d runs in the local sweep, want 3", len(runs))
	}
	same := func(dir string) {
		t.Helper()
		for _, r := range runs {
			rel, _ := filepath.Rel(ref, r)
			sameTrials(t, rel, trialLines(t, r), trialLines(t, filepath.Join(dir, rel)))
			if a, b := recommended(t, r), recommended(t, filepath.Join(dir, rel)); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: recommendation %v, local %v", rel, b, a)
			}
		}
	}

	t.Run("identical", func(t *testing.T) {
		dir := filepath.Join(out, "slurm")
		o, err := sweep(dir, "--executor", "slurm")
		if err != nil {
			t.Fatalf("slurm sweep: %v\n%s", err, o)
		}
		if !strings.Contains(o, "submitted job array") || !strings.Contains(o, "sweep done") {
			t.Fatalf("output:\n%s", o)
		}
		same(dir)
		jobs, err := cells.Jobs(filepath.Join(dir, "cells"))
		if err != nil || len(jobs) != 1 || !reflect.DeepEqual(jobs[0].Cells, []int{1, 2, 3}) {
			t.Fatalf("jobs.jsonl: %+v %v", jobs, err)
		}
		// every run directory says which job and array element ran it
		for _, r := range runs {
			rel, _ := filepath.Rel(ref, r)
			ids := slurmIDs(t, filepath.Join(dir, rel))
			if len(ids) == 0 || ids[0]["array_job_id"] != jobs[0].JobID || ids[0]["array_task_id"] == "" || ids[0]["job_id"] == "" {
				t.Fatalf("%s: events.jsonl records Slurm ids %v, want array job %s", rel, ids, jobs[0].JobID)
			}
		}
	})

	t.Run("scancel", func(t *testing.T) {
		dir := filepath.Join(out, "cancel")
		cdir := filepath.Join(dir, "cells")
		// one cell at a time, so a cancel finds one finished, one running, one pending
		o, err := sweep(dir, "--executor", "slurm", "--max-running", "1", "--detach")
		if err != nil || !strings.Contains(o, "detached") {
			t.Fatalf("detached submission: %v\n%s", err, o)
		}
		j1 := onlyJob(t, cdir, 0)
		waitFor(t, "cell 1 finished", func() bool { return finished(filepath.Join(dir, "mean", "seed_1")) })
		// as soon as Slurm runs cell 2 (a cell lasts about a second: waiting for its first
		// trial could let it finish before the cancel)
		waitFor(t, "cell 2 running", func() bool {
			st, _ := cells.States(t.Context(), env, j1)
			return st[2].State == "RUNNING"
		})
		if b, err := slurmCmd(env, "scancel", j1).CombinedOutput(); err != nil { // the whole job
			t.Fatalf("scancel %s: %v %s", j1, err, b)
		}
		waitGone(t, env, j1)
		// rerun: only cells 2 and 3 go in; cancel cell 2's element while it runs
		o, err = sweep(dir, "--executor", "slurm", "--max-running", "1", "--detach")
		if err != nil || !strings.Contains(o, "cells 2,3") {
			t.Fatalf("resubmission after scancel of the job must submit cells 2,3: %v\n%s", err, o)
		}
		j2 := onlyJob(t, cdir, 1)
		waitFor(t, "cell 2 running again", func() bool {
			st, _ := cells.States(t.Context(), env, j2)
			return st[2].State == "RUNNING"
		})
		if b, err := slurmCmd(env, "scancel", j2+"_2").CombinedOutput(); err != nil {
			t.Fatalf("scancel %s_2: %v %s", j2, err, b)
		}
		// rerun and wait: cell 2 is submitted again, cell 3 (queued in j2) is waited for
		o, err = sweep(dir, "--executor", "slurm", "--max-running", "1")
		if err != nil {
			t.Fatalf("final rerun: %v\n%s", err, o)
		}
		jobs, _ := cells.Jobs(cdir)
		if len(jobs) != 3 || !reflect.DeepEqual(jobs[2].Cells, []int{2}) {
			t.Fatalf("third submission %+v, want only cell 2\n%s", jobs, o)
		}
		same(dir)
		// the cancellation is on record: in states.jsonl and in cell 2's log
		st, _ := os.ReadFile(filepath.Join(cdir, cells.StatesFile))
		logb, _ := os.ReadFile(cells.LogPath(cdir, 2))
		if !strings.Contains(string(logb), "CANCELLED") || !hasState(string(st), 2, j2, "CANCELLED") || !hasState(string(st), 2, j1, "CANCELLED") || !strings.Contains(o, "ended CANCELLED") {
			t.Errorf("cell 2's cancellation is not on record (its log, states.jsonl, the rerun's output):\n%s\n%s\n%s", logb, st, o)
		}
		t.Logf("jobs %s, %s, %s; states.jsonl:\n%s", j1, j2, jobs[2].JobID, st)
	})

	t.Run("requeue", func(t *testing.T) {
		dir := filepath.Join(out, "requeue")
		cdir := filepath.Join(dir, "cells")
		if o, err := sweep(dir, "--executor", "slurm", "--max-running", "1", "--detach"); err != nil {
			t.Fatalf("detached submission: %v\n%s", err, o)
		}
		j := onlyJob(t, cdir, 0)
		var task string
		waitFor(t, "cell 1 running with trials", func() bool {
			st, _ := cells.States(t.Context(), env, j)
			task = st[1].TaskJob
			return st[1].State == "RUNNING" && fileHas(filepath.Join(dir, "mean", "seed_1", "trials.jsonl"))
		})
		// as a preemption with --requeue does: the element stops (SIGTERM) and queues again;
		// Slurm holds a requeued job back for a while, the test lets it start at once
		if b, err := slurmCmd(env, "scontrol", "requeue", task).CombinedOutput(); err != nil {
			t.Fatalf("scontrol requeue %s: %v %s", task, err, b)
		}
		// Slurm 22.05 here sometimes ends an array element it was asked to requeue while it
		// stops as CANCELLED instead of queueing it again (about one try in three, with
		// "CANCELLED ... DUE TO JOB REQUEUE" in the log). Either way the cell must resume:
		// from the queue, or submitted again by the rerun.
		var state string
		waitFor(t, "the requeued element to be pending or gone", func() bool {
			b, _ := slurmCmd(env, "squeue", "-h", "-j", task, "-o", "%T").CombinedOutput()
			state = strings.TrimSpace(string(b))
			return state == "PENDING" || state == ""
		})
		requeued := state == "PENDING"
		if requeued {
			slurmCmd(env, "scontrol", "update", "jobid="+task, "starttime=now").Run()
		}
		o, err := sweep(dir, "--executor", "slurm", "--max-running", "1")
		if err != nil {
			t.Fatalf("waiting for the requeued sweep: %v\n%s", err, o)
		}
		jobs, _ := cells.Jobs(cdir)
		logb, _ := os.ReadFile(cells.LogPath(cdir, 1))
		if requeued {
			if len(jobs) != 1 || !strings.Contains(o, "cell 1: already") || !strings.Contains(string(logb), "restart 1") {
				t.Fatalf("a requeued element must be waited for and restarted, not submitted again (%d submissions):\n%s\n%s", len(jobs), o, logb)
			}
		} else if len(jobs) != 2 || !reflect.DeepEqual(jobs[1].Cells, []int{1}) || !strings.Contains(o, "ended CANCELLED") {
			t.Fatalf("an element Slurm cancelled instead of requeueing must be submitted again: %+v\n%s", jobs, o)
		}
		same(dir)
		ev, _ := os.ReadFile(filepath.Join(dir, "mean", "seed_1", "events.jsonl"))
		if !strings.Contains(string(ev), `"event":"resume"`) || !strings.Contains(string(logb), "DUE TO JOB REQUEUE") {
			t.Fatalf("cell 1 was not stopped by the requeue and resumed:\n%s\n%s", logb, ev)
		}
		t.Logf("requeued by Slurm: %v (%d submissions)", requeued, len(jobs))
	})
}

// hasState says whether states.jsonl has cell in job ending state.
func hasState(states string, cell int, job, state string) bool {
	for _, ln := range strings.Split(states, "\n") {
		var t cells.Task
		if json.Unmarshal([]byte(ln), &t) == nil && t.Cell == cell && t.JobID == job && t.State == state {
			return true
		}
	}
	return false
}

func slurmCmd(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func recommended(t *testing.T, dir string) []float64 {
	t.Helper()
	var s struct {
		Status string    `json:"status"`
		X      []float64 `json:"recommended_x_vec"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &s) != nil || s.Status != "finished" {
		t.Fatalf("%s: not a finished run (%v)", dir, err)
	}
	return s.X
}

func finished(dir string) bool {
	var s struct {
		Status string `json:"status"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	return err == nil && json.Unmarshal(b, &s) == nil && s.Status == "finished"
}

func fileHas(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Size() > 0
}

// slurmIDs are the Slurm ids (extra.slurm) of a run's events.jsonl.
func slurmIDs(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			if x, ok := e["extra"].(map[string]any); ok {
				if s, ok := x["slurm"].(map[string]any); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func onlyJob(t *testing.T, dir string, i int) string {
	t.Helper()
	jobs, err := cells.Jobs(dir)
	if err != nil || len(jobs) != i+1 {
		t.Fatalf("jobs.jsonl: %+v %v, want %d jobs", jobs, err, i+1)
	}
	return jobs[i].JobID
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			b, _ := exec.Command("squeue", "-r", "-o", "%i %A %T %r").CombinedOutput()
			t.Fatalf("waited 60 s for %s; squeue:\n%s", what, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitGone(t *testing.T, env []string, job string) {
	t.Helper()
	waitFor(t, "job "+job+" to leave the queue", func() bool {
		st, err := cells.States(t.Context(), env, job)
		if err != nil {
			return false
		}
		for _, s := range st {
			if s.Active() {
				return false
			}
		}
		return true
	})
}

// --parallel N: the cells as child processes of the sweep, N at a time, end
// as the in-process sweep does, trial by trial; --cell names a bad cell.
func TestSweepParallel(t *testing.T) {
	c := newCLI(t)
	script := filepath.Join(testsupport.RepoRoot(), "scripts", "alpha_sweep.lua")
	out := t.TempDir()
	sweep := func(dir string, more ...string) (string, error) {
		cmd := exec.Command(c.bin, append([]string{script, "--smoke", "--seeds", "1,2", "--report=false", "--out", dir}, more...)...)
		cmd.Dir = out
		cmd.Env = append(os.Environ(), "BOHOST_SHARED=/nonexistent")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	ref, par := filepath.Join(out, "ref"), filepath.Join(out, "par")
	if o, err := sweep(ref); err != nil {
		t.Fatalf("sweep: %v\n%s", err, o)
	}
	o, err := sweep(par, "--parallel", "3")
	if err != nil || !strings.Contains(o, "6 of 6 cells to run (3 at a time)") || !strings.Contains(o, "sweep done") {
		t.Fatalf("parallel sweep: %v\n%s", err, o)
	}
	runs, _ := filepath.Glob(filepath.Join(ref, "*", "seed_*"))
	if len(runs) != 6 {
		t.Fatalf("%d runs, want 6", len(runs))
	}
	for _, r := range runs {
		rel, _ := filepath.Rel(ref, r)
		sameTrials(t, rel, trialLines(t, r), trialLines(t, filepath.Join(par, rel)))
	}
	for k := 1; k <= 6; k++ {
		if b, err := os.ReadFile(cells.LogPath(filepath.Join(par, "cells"), k)); err != nil || !strings.Contains(string(b), "COMPLETED") {
			t.Errorf("cell %d's log: %v\n%s", k, err, b)
		}
	}
	if o, err := sweep(par, "--parallel", "3"); err != nil || !strings.Contains(o, "0 of 6 cells to run") {
		t.Fatalf("a finished sweep again must run no cell: %v\n%s", err, o)
	}
	if o, err := sweep(par, "--cell", "7"); err == nil || !strings.Contains(o, "--cell 7: this sweep has 6 cells") {
		t.Fatalf("--cell 7: %v\n%s", err, o)
	}
}
