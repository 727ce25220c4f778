package worker

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bohost/host/errs"
)

// TestMaxRSSBelowBaseline: a cap below what a worker uses right after start
// is refused at pool start with a message naming max_rss, the value and the
// measured baseline, instead of "it ended before answering hello".
func TestMaxRSSBelowBaseline(t *testing.T) {
	t.Parallel()
	_, err := NewPool(context.Background(), Options{Command: []string{os.Args[0]}, Size: 1,
		Env: []string{"BOHOST_WORKER_TEST=1"}, MaxRSSBytes: 1000})
	if err == nil {
		t.Fatal("a 1000-byte cap was accepted")
	}
	msg := err.Error()
	if !errs.Is(err, errs.BadArg) || !strings.Contains(msg, "max_rss") || !strings.Contains(msg, "1000") ||
		!strings.Contains(msg, "baseline") || strings.Contains(msg, "before answering hello") {
		t.Fatalf("error %q (kind %s): want a bad_arg naming max_rss, 1000 and the measured baseline", msg, errs.KindOf(err))
	}
	t.Log(msg)
}

// TestPeakRSSChargesTheRightTrial: an evaluation that goes over the cap and
// returns before the parent's RSS poll sees it is the one marked oom (from
// its own VmHWM, reset at its start); the next evaluation, innocent, is ok.
func TestPeakRSSChargesTheRightTrial(t *testing.T) {
	t.Parallel()
	const capBytes = 96 << 20
	p := newPool(t, Options{Size: 1, MaxRSSBytes: capBytes, PollInterval: 300 * time.Millisecond})
	a := p.Eval(context.Background(), Request{X: []float64{128 << 20}, EnvID: "allocret"})
	b := p.Eval(context.Background(), Request{X: []float64{1}, EnvID: "slow"})
	if a.Status != StatusOOM || a.Death == nil {
		t.Fatalf("the allocating evaluation: %s (%s), want oom", a.Status, a.Error)
	}
	if b.Status != StatusOK {
		t.Fatalf("the innocent evaluation after it: %s (%s), want ok", b.Status, b.Error)
	}
	d := a.Death
	switch d.CapEnforcedBy {
	case CapByPeak, CapByPoll, CapByRlimit, CapByCgroup:
	default:
		t.Errorf("cap_enforced_by %q", d.CapEnforcedBy)
	}
	seen := d.CapEnforcedBy == CapByPeak || d.CapEnforcedBy == CapByPoll // (under -race, the sanitizer's own maps hit RLIMIT_DATA first)
	if d.MaxRSSBytes != capBytes || (seen && d.PeakRSSBytes <= capBytes) || !strings.Contains(d.Reason, "cap") {
		t.Errorf("certificate %+v", d)
	}
	t.Logf("%s by %s: %s", a.Status, d.CapEnforcedBy, d.Reason)
}

// TestKernelCapStopsAllocation: with the parent's polling out of the way,
// the kernel-side cap (cgroup v2 memory.max where writable, RLIMIT_DATA
// otherwise) stops an allocation far beyond the cap: the evaluation is oom,
// the certificate names the mechanism, and a fresh worker under the same
// limits serves normal evaluations.
func TestKernelCapStopsAllocation(t *testing.T) {
	t.Parallel()
	const capBytes = 96 << 20
	p := newPool(t, Options{Size: 1, MaxRSSBytes: capBytes, PollInterval: time.Hour})
	if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
		t.Fatalf("a normal evaluation under the cap: %+v", r)
	}
	r := p.Eval(context.Background(), Request{X: []float64{4 << 30}, EnvID: "alloc"})
	if r.Status != StatusOOM || r.Death == nil {
		t.Fatalf("4 GiB under a 96 MiB cap: %s (%s), want oom", r.Status, r.Error)
	}
	d := r.Death
	if d.CapEnforcedBy != CapByRlimit && d.CapEnforcedBy != CapByCgroup {
		t.Errorf("cap_enforced_by %q, want %q or %q; limits %q; reason %s", d.CapEnforcedBy, CapByRlimit, CapByCgroup, d.Limits, d.Reason)
	}
	if !strings.Contains(d.Reason, "memory") || d.Limits == "" || d.MaxRSSBytes != capBytes {
		t.Errorf("certificate %+v", d)
	}
	for i := range 3 {
		if r := p.Eval(context.Background(), Request{X: []float64{float64(i)}}); r.Status != StatusOK || r.Y != float64(i) {
			t.Fatalf("after the oom: %+v", r)
		}
	}
	t.Logf("%s: %s", d.CapEnforcedBy, d.Reason)
}

// TestWorkerStopsOnSIGTERM: a worker that gets SIGTERM stops its evaluation
// through the objective's context, says so on stderr, sends no result, and
// dies by SIGTERM; the parent certifies it like any other death and
// replaces it. An idle worker does the same. A SIGTERM that reaches a worker
// as its caller's context ends (a whole process tree being stopped) leaves
// the evaluation canceled, not crashed.
func TestWorkerStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var deaths []Death
	p := newPool(t, Options{Size: 1, OnDeath: func(d Death) { mu.Lock(); deaths = append(deaths, d); mu.Unlock() }})
	pid := p.PIDs()[0]
	go func(pid int) {
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGTERM)
	}(pid)
	r := p.Eval(context.Background(), Request{X: []float64{20}, EnvID: "slowclean"})
	d := r.Death
	if r.Status != StatusCrashed || d == nil || d.Cause != CauseSignal || d.Signal != "SIGTERM" || d.PID != pid {
		t.Fatalf("busy worker after SIGTERM: %+v (death %+v)", r, d)
	}
	if !strings.Contains(d.StderrTail, "SIGTERM received") || !strings.Contains(d.StderrTail, "objective saw the stop") {
		t.Errorf("the worker did not stop cleanly; stderr tail:\n%s", d.StderrTail)
	}
	if r.Seconds > 15 {
		t.Errorf("the evaluation ran %.1fs after SIGTERM", r.Seconds)
	}

	// Idle.
	pid = onePID(t, p)
	syscall.Kill(pid, syscall.SIGTERM)
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
		t.Fatalf("after an idle SIGTERM: %+v", r)
	}
	mu.Lock()
	if len(deaths) != 2 || deaths[1].PID != pid || deaths[1].Signal != "SIGTERM" || deaths[1].RequestID != 0 ||
		!strings.Contains(deaths[1].StderrTail, "SIGTERM received") {
		t.Errorf("deaths %+v", deaths)
	}
	mu.Unlock()

	// The worker's SIGTERM arrives just before the caller's context ends.
	pid = onePID(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	go func(pid int) {
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGTERM)
		time.Sleep(20 * time.Millisecond)
		cancel()
	}(pid)
	if r := p.Eval(ctx, Request{X: []float64{20}, EnvID: "slowclean"}); r.Status != StatusCanceled {
		t.Errorf("SIGTERM with the caller's stop: %s (%+v), want canceled", r.Status, r.Death)
	}
	if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
		t.Fatalf("after that: %+v", r)
	}
}

// TestEarlyDeathCertificateTimes: a worker that dies on its first
// evaluation, before the caller's monitor has any row (whose time is then
// the zero time), gets a certificate whose times are all real.
func TestEarlyDeathCertificateTimes(t *testing.T) {
	t.Parallel()
	p := newPool(t, Options{Size: 1, LastMonitor: func() map[string]any {
		return map[string]any{"time": time.Time{}.UTC().Format("2006-01-02T15:04:05.000Z07:00"), "iteration": -1, "host_rss_bytes": 0}
	}})
	r := p.Eval(context.Background(), Request{X: []float64{1}, EnvID: "segv"})
	d := r.Death
	if d == nil {
		t.Fatalf("no certificate: %+v", r)
	}
	for name, v := range map[string]string{"started": d.Started, "time": d.Time, "last_monitor.time": fmt.Sprint(d.LastMonitor["time"])} {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || tm.Year() < 2000 {
			t.Errorf("%s = %q (%v): want a real time", name, v, err)
		}
	}
	for k, v := range d.LastMonitor {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "0001-01-01") {
			t.Errorf("last_monitor.%s = %q", k, s)
		}
	}
}

// onePID waits for the pool's single worker (a replacement starts in the
// background) and returns its pid.
func onePID(t *testing.T, p *Pool) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p.mu.Lock()
		var pid int
		for w := range p.procs {
			w.mu.Lock()
			if w.up && !w.isDead() {
				pid = w.pid
			}
			w.mu.Unlock()
		}
		p.mu.Unlock()
		if pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("no worker came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
