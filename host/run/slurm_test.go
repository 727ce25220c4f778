package run

// Runs whose workers are Slurm job steps (executor "slurm"), live on the
// local test cluster (make slurm-up); skipped without one, unless
// BOHOST_REQUIRE_SLURM=1. TestSlurmRun runs its steps inside an allocation
// made for it (salloc --no-shell: the way a batch job's run uses its own);
// TestSlurmRunKill9's sruns run outside one, each making a job of its own.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bohost/host/errs"
	"bohost/host/slurm"
	"bohost/host/testsupport"
	"bohost/host/worker"
)

// slurmEvents reads events.jsonl.
func slurmEvents(t *testing.T, dir string) []Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e Event
		if json.Unmarshal([]byte(l), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

func slurmConfig(t *testing.T, sleepMs int) (Config, Options, []string) {
	env := testsupport.RequireCluster(t)
	cfg := testConfig(t.TempDir(), `{"test": {"sleep_ms": `+itoa(sleepMs)+`}}`)
	cfg.Executor = ExecSlurm
	cfg.Iterations = 4
	opts := testOptions()
	opts.WorkerEnv = append(opts.WorkerEnv, env...)
	return cfg, opts, env
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// stepsOf maps the worker pids of the worker_start events to their steps.
func stepsOf(t *testing.T, evs []Event) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, e := range evs {
		if e.Event != "worker_start" {
			continue
		}
		pid, _ := e.Extra["pid"].(float64)
		step, _ := e.Extra["step"].(string)
		if pid == 0 || !regexp.MustCompile(`^\d+\.\d+$`).MatchString(step) {
			t.Errorf("worker_start without pid or step: %+v", e)
		}
		out[int(pid)] = step
	}
	return out
}

// TestSlurmRun: a run whose 2 workers are steps of one allocation finishes,
// every evaluation ran in a step (its trial's pid is a step's worker), and
// the two steps evaluated at the same time (in_flight 2).
func TestSlurmRun(t *testing.T) {
	cfg, opts, env := slurmConfig(t, 300)
	_, err := slurm.Command(context.Background(), env, "salloc", "--no-shell", "--ntasks=2", "--nodes=1", "--mem=1G", "--job-name=bohost-test-alloc", "--time=5")
	if err != nil && !strings.Contains(err.Error(), "Granted job allocation") {
		t.Fatal(err)
	}
	// salloc says the job id on stderr, which Command returns only in an
	// error: find it by name instead.
	ids, err := slurm.Command(context.Background(), env, "squeue", "-h", "-n", "bohost-test-alloc", "-o", "%i")
	job := strings.TrimSpace(ids)
	if err != nil || job == "" || strings.Contains(job, "\n") {
		t.Fatalf("the test allocation: %q %v", ids, err)
	}
	t.Cleanup(func() { slurm.Command(context.Background(), env, "scancel", job) })
	opts.WorkerEnv = append(opts.WorkerEnv, "SLURM_JOB_ID="+job)
	cfg.Slurm = &SlurmSteps{Mem: "200M"}
	s, err := Do(context.Background(), cfg, opts)
	if err != nil || s.Status != "finished" {
		t.Fatalf("run: %v %+v", err, s)
	}
	evs := slurmEvents(t, cfg.Dir)
	steps := stepsOf(t, evs)
	if len(steps) != 2 {
		t.Errorf("%d worker_start events, want 2: %v", len(steps), steps)
	}
	for _, st := range steps {
		if !strings.HasPrefix(st, job+".") {
			t.Errorf("step %s is not in the allocation %s", st, job)
		}
	}
	if evs[0].Event != "start" || evs[0].Extra["executor"] != ExecSlurm {
		t.Errorf("first event: %+v", evs[0])
	}
	trials, err := ReadTrials(cfg.Dir)
	if err != nil || len(trials) != s.Trials || len(trials) < 8 {
		t.Fatalf("%d trials (summary %d): %v", len(trials), s.Trials, err)
	}
	busy := false
	for i, a := range trials {
		if _, ok := steps[a.PID]; !ok || a.Status != worker.StatusOK {
			t.Errorf("trial %d: status %s pid %d is not a step's worker %v", i, a.Status, a.PID, steps)
		}
		for _, b := range trials[:i] {
			// [elapsed_s - seconds, elapsed_s] of two workers overlap.
			if a.Worker != b.Worker && a.ElapsedS-a.Seconds < b.ElapsedS && b.ElapsedS-b.Seconds < a.ElapsedS {
				busy = true
			}
		}
	}
	if !busy {
		t.Errorf("no two trials of different workers overlap in time: the steps did not evaluate concurrently")
	}
}

// TestSlurmRunKill9: kill -9 of a step's worker mid-run is a death
// certificate with the step's state in events.jsonl, the worker is
// replaced by a new step, and the run finishes.
func TestSlurmRunKill9(t *testing.T) {
	cfg, opts, _ := slurmConfig(t, 600)
	var once sync.Once
	killed := make(chan int, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// Once both workers started, kill one of them in the middle of
		// an evaluation.
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			b, _ := os.ReadFile(filepath.Join(cfg.Dir, EventsFile))
			var pids []int
			for _, l := range strings.Split(string(b), "\n") {
				var e Event
				if json.Unmarshal([]byte(l), &e) == nil && e.Event == "worker_start" {
					if p, ok := e.Extra["pid"].(float64); ok {
						pids = append(pids, int(p))
					}
				}
			}
			if len(pids) >= 2 {
				once.Do(func() {
					time.Sleep(900 * time.Millisecond)
					syscall.Kill(pids[0], syscall.SIGKILL)
					killed <- pids[0]
				})
				return
			}
		}
	}()
	s, err := Do(context.Background(), cfg, opts)
	if err != nil || s.Status != "finished" {
		t.Fatalf("run: %v %+v", err, s)
	}
	var pid int
	select {
	case pid = <-killed:
	default:
		t.Fatal("no worker was killed")
	}
	evs := slurmEvents(t, cfg.Dir)
	steps := stepsOf(t, evs)
	if len(steps) < 3 {
		t.Errorf("%d worker starts, want the 2 workers and a replacement: %v", len(steps), steps)
	}
	var d *worker.Death
	for _, e := range evs {
		if e.Event == "worker_death" && e.Death != nil && e.Death.PID == pid {
			d = e.Death
		}
	}
	if d == nil {
		t.Fatalf("no worker_death event for pid %d", pid)
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	t.Logf("certificate: %s", b)
	if d.Step == nil || d.Step.State != slurm.StateFailed || d.Step.Signal != "SIGKILL" || d.Step.ExitCode != 137 ||
		d.Step.JobID+"."+d.Step.StepID != steps[pid] || d.Signal != "SIGKILL" || !strings.Contains(d.Reason, "Slurm step "+steps[pid]+" ended FAILED") {
		t.Errorf("certificate of the killed step: %+v step %+v", d, d.Step)
	}
}

// TestSlurmExecutorUnavailable: executor "slurm" without srun is an
// unavailable error that says how to get one; the session's start event
// records the Slurm ids of the process running the run.
func TestSlurmExecutorUnavailable(t *testing.T) {
	cfg := testConfig(t.TempDir(), `{"test": {}}`)
	cfg.Executor = ExecSlurm
	t.Setenv("PATH", t.TempDir())
	t.Setenv("SLURM_JOB_ID", "77")
	t.Setenv("SLURM_ARRAY_JOB_ID", "70")
	t.Setenv("SLURM_ARRAY_TASK_ID", "3")
	_, err := Do(context.Background(), cfg, testOptions())
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "srun") || !strings.Contains(err.Error(), "make slurm-up") || !strings.Contains(err.Error(), "SLURM_CONF") {
		t.Fatalf("err = %v", err)
	}
	evs := slurmEvents(t, cfg.Dir)
	ids, _ := evs[0].Extra["slurm"].(map[string]any)
	if evs[0].Event != "start" || ids["job_id"] != "77" || ids["array_job_id"] != "70" || ids["array_task_id"] != "3" {
		t.Errorf("start event: %+v", evs[0])
	}
	cfg.Executor = "pbs"
	if err := cfg.Validate(); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "executor") {
		t.Errorf("executor pbs: %v", err)
	}
	cfg.Executor, cfg.Slurm = ExecSlurm, &SlurmSteps{Mem: "4 GB"}
	if err := cfg.Validate(); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "slurm.mem") {
		t.Errorf("slurm.mem 4 GB: %v", err)
	}
}
