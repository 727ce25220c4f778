package worker_test

// Live tests of workers run as Slurm job steps (host/slurm's Launcher) on
// the local test cluster (make slurm-up); skipped without one, unless
// BOHOST_REQUIRE_SLURM=1. Each srun here runs outside an allocation, so it
// makes a job of its own for its one step (host/run's tests cover steps
// inside an allocation).

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bohost/host/slurm"
	"bohost/host/testsupport"
	"bohost/host/worker"
)

// slurmPool starts a pool of one worker step (the test binary as the
// worker, see TestMain) and returns it with the Ready of each start.
func slurmPool(t *testing.T, mem string) (*worker.Pool, *readies) {
	t.Helper()
	env := testsupport.RequireCluster(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rs := &readies{}
	deaths := make(chan worker.Death, 8)
	p, err := worker.NewPool(context.Background(), worker.Options{
		Command: []string{exe}, Env: append([]string{"BOHOST_WORKER_TEST=1", "BOHOST_FAULTS=1"}, env...), Size: 1,
		Launcher: &slurm.Launcher{Env: env, Steps: slurm.StepOptions{JobName: "bohost-test", Mem: mem}},
		OnStart:  func(slot int, r worker.Ready) { rs.add(r) },
		OnDeath:  func(d worker.Death) { deaths <- d },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, rs
}

type readies struct {
	mu sync.Mutex
	rs []worker.Ready
}

func (r *readies) add(x worker.Ready) {
	r.mu.Lock()
	r.rs = append(r.rs, x)
	r.mu.Unlock()
}

func (r *readies) last() worker.Ready {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rs[len(r.rs)-1]
}

func (r *readies) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rs)
}

// evalAnd runs req and, once the evaluation is under way, do(ready).
func evalAnd(t *testing.T, p *worker.Pool, rs *readies, req worker.Request, do func(worker.Ready)) worker.Result {
	t.Helper()
	r := rs.last()
	if slurm.StepName(&r) == "" || r.Host == "" {
		t.Fatalf("the worker's Ready does not say its step: %+v", r)
	}
	if do != nil {
		time.AfterFunc(time.Second, func() { do(r) })
	}
	res := p.Eval(context.Background(), req)
	if res.Death == nil || res.Death.Step == nil {
		t.Fatalf("no death certificate with a step: %+v", res)
	}
	b, _ := json.MarshalIndent(res.Death, "", "  ")
	t.Logf("certificate: %s", b)
	if got, want := res.Death.Step.JobID+"."+res.Death.Step.StepID, slurm.StepName(&r); got != want {
		t.Errorf("step %s, want %s (from the worker's env)", got, want)
	}
	if res.PID != r.PID || res.Death.PID != r.PID {
		t.Errorf("pids %d (result) %d (death), want the worker's own %d", res.PID, res.Death.PID, r.PID)
	}
	return res
}

// checkReplaced: the pool starts a new step for the dead one, and it works.
func checkReplaced(t *testing.T, p *worker.Pool, rs *readies, before worker.Ready) {
	t.Helper()
	res := p.Eval(context.Background(), worker.Request{X: []float64{1, 2}, EnvID: "ok"})
	if res.Status != worker.StatusOK || res.Y != 3 {
		t.Fatalf("after the death: %+v", res)
	}
	if now := rs.last(); slurm.StepName(&now) == slurm.StepName(&before) {
		t.Errorf("the replacement runs in the same step %s", slurm.StepName(&now))
	}
}

func TestSlurmStepKill9(t *testing.T) {
	p, rs := slurmPool(t, "")
	before := rs.last()
	res := evalAnd(t, p, rs, worker.Request{X: []float64{0}, EnvID: "hang"}, func(r worker.Ready) {
		syscall.Kill(r.PID, syscall.SIGKILL)
	})
	d := res.Death
	if res.Status != worker.StatusCrashed || d.Cause != worker.CauseSignal || d.Signal != "SIGKILL" ||
		d.Step.State != slurm.StateFailed || d.Step.Signal != "SIGKILL" || d.Step.ExitCode != 137 {
		t.Errorf("kill -9: status %s cause %s signal %s step %+v", res.Status, d.Cause, d.Signal, d.Step)
	}
	checkReplaced(t, p, rs, before)
}

func TestSlurmStepScancel(t *testing.T) {
	p, rs := slurmPool(t, "")
	env := testsupport.RequireCluster(t)
	before := rs.last()
	res := evalAnd(t, p, rs, worker.Request{X: []float64{0}, EnvID: "hang"}, func(r worker.Ready) {
		if _, err := slurm.Command(context.Background(), env, "scancel", slurm.StepName(&r)); err != nil {
			t.Error(err)
		}
	})
	d := res.Death
	if res.Status != worker.StatusCrashed || d.Step.State != slurm.StateCancelled || !strings.Contains(d.Reason, "ended CANCELLED") {
		t.Errorf("scancel: status %s cause %s step %+v reason %s", res.Status, d.Cause, d.Step, d.Reason)
	}
	checkReplaced(t, p, rs, before)
}

func TestSlurmStepOutOfMemory(t *testing.T) {
	p, rs := slurmPool(t, "150M")
	res := evalAnd(t, p, rs, worker.Request{X: []float64{600 << 20}, EnvID: "alloc"}, nil)
	d := res.Death
	if res.Status != worker.StatusOOM || d.Cause != worker.CauseOOMKill || d.CapEnforcedBy != slurm.CapBySlurm ||
		d.Step.State != slurm.StateOutOfMemory || !strings.Contains(d.Reason, "ended OUT_OF_MEMORY") {
		t.Errorf("over --mem: status %s cause %s by %s step %+v reason %s", res.Status, d.Cause, d.CapEnforcedBy, d.Step, d.Reason)
	}
}

func TestSlurmStepExitCode(t *testing.T) {
	p, rs := slurmPool(t, "")
	res := evalAnd(t, p, rs, worker.Request{X: []float64{0}, EnvID: "exit"}, nil)
	d := res.Death
	if res.Status != worker.StatusCrashed || d.Cause != worker.CauseExit || d.ExitCode != 3 ||
		d.Step.State != slurm.StateFailed || d.Step.ExitCode != 3 {
		t.Errorf("exit 3: status %s cause %s exit %d step %+v", res.Status, d.Cause, d.ExitCode, d.Step)
	}
	if n := rs.n(); n < 1 {
		t.Errorf("%d starts", n)
	}
}

// TestSlurmStepPoolTimeout: a step the pool kills (its evaluation past the
// timeout) keeps the pool's cause, and is cancelled in Slurm (killing srun
// alone would leave the task running).
func TestSlurmStepPoolTimeout(t *testing.T) {
	p, rs := slurmPool(t, "")
	env := testsupport.RequireCluster(t)
	r := rs.last()
	res := p.Eval(context.Background(), worker.Request{X: []float64{0}, EnvID: "hang", TimeoutS: 0.5})
	d := res.Death
	if res.Status != worker.StatusTimeout || d == nil || d.Cause != worker.CauseTimeout || d.Step == nil || d.Step.State != slurm.StateCancelled {
		t.Fatalf("timeout: %+v", res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := slurm.Command(context.Background(), env, "squeue", "-h", "-s", "-o", "%i")
		if err == nil && !strings.Contains(out, slurm.StepName(&r)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("step %s still there after the pool killed its srun: %s %v", slurm.StepName(&r), out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat("/proc/" + itoa(r.PID)); err == nil {
		t.Errorf("the worker (pid %d) still runs", r.PID)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
