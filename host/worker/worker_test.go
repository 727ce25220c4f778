package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bohost/host/errs"
	"bohost/host/fault"
)

// The test binary doubles as the worker: with BOHOST_WORKER_TEST=1 it serves
// the test objective on stdin/stdout instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("BOHOST_WORKER_TEST") == "1" {
		os.Exit(Main(os.Stderr, testFactory))
	}
	os.Exit(m.Run())
}

type testSpec struct {
	Bias float64 `json:"bias"`
	Fail bool    `json:"fail"`
}

func testFactory(ctx context.Context, h Hello) (Objective, error) {
	var spec testSpec
	if len(h.Spec) > 0 {
		if err := json.Unmarshal(h.Spec, &spec); err != nil {
			return nil, errs.New(errs.BadArg, "test.factory", "bad spec: %v", err)
		}
	}
	if spec.Fail {
		return nil, errs.New(errs.BadArg, "test.factory", "spec asks to fail (slot %d)", h.Index)
	}
	return ObjectiveFunc(func(ctx context.Context, req Request) (Result, error) {
		return testEval(ctx, req, spec)
	}), nil
}

// testEval behaves according to req.EnvID.
func testEval(ctx context.Context, req Request, spec testSpec) (Result, error) {
	y := spec.Bias
	for _, v := range req.X {
		y += v
	}
	ok := Result{Y: y, Score: map[string]any{"f": y, "nan": math.NaN(), "n_lines": 3}}
	arg := 0.0
	if len(req.X) > 0 {
		arg = req.X[0]
	}
	switch req.EnvID {
	case "ok", "":
		return ok, nil
	case "print":
		fmt.Println("stray print to stdout")
		return ok, nil
	case "error":
		return Result{}, errs.New(errs.Failed, "test.eval", "objective refused x=%v", req.X)
	case "nan":
		return Result{Y: math.NaN()}, nil
	case "panic":
		panic("test panic")
	case "segv":
		SetPhase(ctx, "detect")
		return Result{}, fault.Segv()
	case "abort":
		return Result{}, fault.Abort()
	case "exit":
		return Result{}, fault.Exit(3)
	case "hang":
		return Result{}, fault.Hang()
	case "alloc": // grow RSS in 8 MiB steps until arg bytes
		SetPhase(ctx, "alloc")
		for done := 0.0; done < arg; done += 8 << 20 {
			if err := fault.Alloc(8 << 20); err != nil {
				return Result{}, err
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(10 * time.Second)
		return ok, nil
	case "allocret": // grow RSS by arg bytes at once, keep it, and return
		SetPhase(ctx, "alloc")
		if err := fault.Alloc(int64(arg)); err != nil {
			return Result{}, err
		}
		return ok, nil
	case "slowclean": // like slow, and says so on stderr when stopped
		select {
		case <-time.After(time.Duration(arg * float64(time.Second))):
			return ok, nil
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "objective saw the stop:", ctx.Err())
			return Result{}, ctx.Err()
		}
	case "bigalloc": // one block, refused by the worker's own rlimit
		b := make([]byte, int(arg))
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		return Result{Y: float64(b[0])}, nil
	case "slow":
		select {
		case <-time.After(time.Duration(arg * float64(time.Second))):
			return ok, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	return Result{}, errs.New(errs.BadArg, "test.eval", "unknown mode %q", req.EnvID)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newPool(t *testing.T, o Options) *Pool {
	t.Helper()
	o.Command = []string{os.Args[0]}
	o.Env = append(o.Env, "BOHOST_WORKER_TEST=1", "BOHOST_FAULTS=1")
	if o.PollInterval == 0 {
		o.PollInterval = 10 * time.Millisecond
	}
	if o.KillGrace == 0 {
		o.KillGrace = 100 * time.Millisecond
	}
	p, err := NewPool(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPoolServes(t *testing.T) {
	t.Parallel()
	var stderr syncBuf
	p := newPool(t, Options{Size: 2, Spec: json.RawMessage(`{"bias": 0.5}`), Stderr: &stderr})
	if len(p.PIDs()) != 2 {
		t.Fatalf("PIDs = %v", p.PIDs())
	}
	var wg sync.WaitGroup
	results := make([]Result, 12)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mode := "ok"
			if i == 5 {
				mode = "print"
			}
			results[i] = p.Eval(context.Background(), Request{X: []float64{float64(i), 0.25}, EnvID: mode})
		}()
	}
	wg.Wait()
	ids := map[uint64]bool{}
	workers := map[int]bool{}
	for i, r := range results {
		if r.Status != StatusOK || r.Y != float64(i)+0.75 || r.Death != nil || r.PID == os.Getpid() || r.PeakRSSBytes <= 0 {
			t.Errorf("result %d: %+v", i, r)
		}
		if r.Score["nan"] != nil || r.Score["f"] != r.Y {
			t.Errorf("result %d score %v: NaN must become null, f must be y", i, r.Score)
		}
		ids[r.ID] = true
		workers[r.Worker] = true
	}
	if len(ids) != len(results) || len(workers) != 2 {
		t.Errorf("ids %v workers %v: want unique ids and both workers used", ids, workers)
	}
	if !strings.Contains(stderr.String(), "stray print to stdout") || !strings.Contains(stderr.String(), "[worker ") {
		t.Errorf("a stray print must reach stderr with a prefix, got %q", stderr.String())
	}

	// Failures inside the objective keep the worker.
	pidsBefore := fmt.Sprint(sortedInts(p.PIDs()))
	for _, tc := range []struct{ mode, kind, msg string }{
		{"error", errs.Failed, "objective refused x=[1]"},
		{"nan", errs.Failed, "must be finite"},
		{"panic", errs.Internal, "test panic"},
		{"bogus", errs.BadArg, "unknown mode"},
	} {
		r := p.Eval(context.Background(), Request{X: []float64{1}, EnvID: tc.mode})
		if r.Status != StatusFailed || r.ErrorKind != tc.kind || !strings.Contains(r.Error, tc.msg) || r.Death != nil {
			t.Errorf("%s: %+v", tc.mode, r)
		}
	}
	if after := fmt.Sprint(sortedInts(p.PIDs())); after != pidsBefore || p.Restarts() != 0 {
		t.Errorf("workers changed after objective failures: %s → %s, %d restarts", pidsBefore, after, p.Restarts())
	}
	if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
		t.Errorf("after failures: %+v", r)
	}
}

func sortedInts(v []int) []int {
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			if v[j] < v[i] {
				v[i], v[j] = v[j], v[i]
			}
		}
	}
	return v
}

// TestPoolDeaths kills the worker in every way a real evaluation can, and
// checks the status, the death certificate, and that the pool keeps serving.
func TestPoolDeaths(t *testing.T) {
	t.Parallel()
	const capBytes = 96 << 20
	var deathsMu sync.Mutex
	var deaths []Death
	p := newPool(t, Options{Size: 1, MaxRSSBytes: capBytes, OnDeath: func(d Death) {
		deathsMu.Lock()
		deaths = append(deaths, d)
		deathsMu.Unlock()
	}})
	for i, tc := range []struct {
		mode    string
		x       float64
		timeout float64
		status  string
		cause   string
		signal  string
		exit    int
		stderr  string
		phase   string
	}{
		{mode: "segv", status: StatusCrashed, cause: CauseSignal, signal: "SIGSEGV", exit: -1, stderr: "deliberate SIGSEGV", phase: "detect"},
		{mode: "abort", status: StatusCrashed, cause: CauseSignal, signal: "SIGABRT", exit: -1, stderr: "deliberate SIGABRT", phase: "eval"},
		{mode: "exit", status: StatusCrashed, cause: CauseExit, exit: 3, stderr: "exit with status 3", phase: "eval"},
		{mode: "hang", timeout: 0.3, status: StatusTimeout, cause: CauseTimeout, signal: "SIGKILL", exit: -1, stderr: "deliberate hang", phase: "eval"},
		{mode: "alloc", x: 1 << 30, status: StatusOOM, cause: CauseRSSCap, signal: "SIGKILL", exit: -1, phase: "alloc"},
		// exit -2: any non-zero status (2 from the Go runtime, 66 under -race).
		{mode: "bigalloc", x: 1 << 30, status: StatusOOM, cause: CauseRuntimeOOM, exit: -2, phase: "eval"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			pids := p.PIDs()
			start := time.Now()
			r := p.Eval(context.Background(), Request{X: []float64{tc.x}, EnvID: tc.mode, TimeoutS: tc.timeout})
			d := r.Death
			if tc.mode == "bigalloc" && d != nil && d.Cause == CauseSignal && d.Signal == "SIGSEGV" && d.ExitCode == 2 {
				// Under RLIMIT_DATA the Go runtime usually throws "out of
				// memory" or "cannot allocate memory", but now and then it
				// faults on a failed internal allocation instead: that is
				// indistinguishable from a crash, and is certified as one.
				t.Logf("runtime faulted instead of reporting OOM: %s", d.Reason)
				tc.status, tc.cause, tc.signal, tc.stderr = StatusCrashed, CauseSignal, "SIGSEGV", "SIGSEGV"
			}
			if r.Status != tc.status || d == nil {
				t.Fatalf("status %q death %v (result %+v), want %q with a death certificate", r.Status, d, r, tc.status)
			}
			if tc.exit == -2 && d.ExitCode > 0 {
				tc.exit = d.ExitCode
			}
			if d.Cause != tc.cause || d.Signal != tc.signal || d.ExitCode != tc.exit || d.Phase != tc.phase {
				t.Errorf("death cause %q signal %q exit %d phase %q; want %q %q %d %q\n%s",
					d.Cause, d.Signal, d.ExitCode, d.Phase, tc.cause, tc.signal, tc.exit, tc.phase, d.StderrTail)
			}
			if tc.cause == CauseRuntimeOOM && !runtimeOOM(d.StderrTail+"\n"+d.Fatal) {
				t.Errorf("runtime OOM without an OOM message: %q / %q", d.Fatal, d.StderrTail)
			}
			if !strings.Contains(d.StderrTail+"\n"+d.Fatal, tc.stderr) {
				t.Errorf("stderr tail %q lacks %q", d.StderrTail, tc.stderr)
			}
			if d.PID != pids[0] || r.PID != d.PID || d.Worker != 0 || d.RequestID != r.ID || d.Reason == "" || r.Error != d.Reason {
				t.Errorf("certificate %+v (pids before %v)", d, pids)
			}
			if d.PeakRSSBytes <= 0 || d.Time == "" || d.Started == "" {
				t.Errorf("certificate lacks peak RSS or times: %+v", d)
			}
			if tc.cause == CauseRSSCap && (d.PeakRSSBytes <= capBytes || d.PeakRSSBytes > 4*capBytes) {
				t.Errorf("rss cap kill with peak %d, cap %d", d.PeakRSSBytes, capBytes)
			}
			if tc.cause == CauseTimeout && (r.Seconds < 0.3 || !strings.Contains(d.Reason, "timeout")) {
				t.Errorf("timeout after %.2fs, reason %q", r.Seconds, d.Reason)
			}
			js, err := json.Marshal(r)
			if err != nil || !strings.Contains(string(js), `"oom_kill_delta":`) {
				t.Errorf("result JSON %s, %v", js, err)
			}
			// The pool replaces the worker and keeps serving.
			ok := p.Eval(context.Background(), Request{X: []float64{2}})
			if ok.Status != StatusOK || ok.Y != 2 || ok.PID == d.PID {
				t.Errorf("after %s: %+v", tc.mode, ok)
			}
			if p.Restarts() != i+1 {
				t.Errorf("restarts %d, want %d", p.Restarts(), i+1)
			}
			t.Logf("%s: %s in %.2fs: %s", tc.mode, r.Status, time.Since(start).Seconds(), d.Reason)
		})
	}
	deathsMu.Lock()
	defer deathsMu.Unlock()
	if len(deaths) != 6 {
		t.Errorf("OnDeath called %d times, want 6", len(deaths))
	}
}

// TestKilledFromOutside kills a busy worker behind the pool's back, as the
// kernel's OOM killer or a user would, and stops one so its heartbeat stalls.
func TestKilledFromOutside(t *testing.T) {
	t.Parallel()
	p := newPool(t, Options{Size: 1, Heartbeat: 50 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond})
	for _, tc := range []struct {
		sig    syscall.Signal
		status string
		cause  string
	}{
		{syscall.SIGKILL, StatusCrashed, CauseSignal},
		{syscall.SIGTERM, StatusCrashed, CauseSignal},
		{syscall.SIGSTOP, StatusTimeout, CauseHeartbeat},
	} {
		pid := p.PIDs()[0]
		go func() {
			time.Sleep(200 * time.Millisecond)
			syscall.Kill(pid, tc.sig)
		}()
		r := p.Eval(context.Background(), Request{X: []float64{20}, EnvID: "slow"})
		if r.Status != tc.status || r.Death == nil || r.Death.Cause != tc.cause || r.Death.PID != pid {
			t.Fatalf("%v: %+v (death %+v)", tc.sig, r, r.Death)
		}
		if tc.sig == syscall.SIGSTOP && (!r.Death.HeartbeatTimeout || r.Death.Signal != "SIGKILL") {
			t.Errorf("stopped worker: %+v", r.Death)
		}
		if tc.sig == syscall.SIGKILL && r.Death.Signal != "SIGKILL" {
			t.Errorf("killed worker: %+v", r.Death)
		}
		if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
			t.Fatalf("after %v: %+v", tc.sig, r)
		}
	}
}

func TestCancelAndClose(t *testing.T) {
	t.Parallel()
	p := newPool(t, Options{Size: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := p.Eval(ctx, Request{X: []float64{20}, EnvID: "slow"})
	if r.Status != StatusCanceled || r.Death != nil || r.ErrorKind != errs.Canceled {
		t.Fatalf("canceled eval: %+v", r)
	}
	if r := p.Eval(context.Background(), Request{X: []float64{1}}); r.Status != StatusOK {
		t.Fatalf("after cancel: %+v", r)
	}
	// A request's own timeout reaches the objective's context: a cooperative
	// objective returns before the kill, and the worker lives on.
	pid := p.PIDs()[0]
	r = p.Eval(context.Background(), Request{X: []float64{20}, EnvID: "slow", TimeoutS: 0.1})
	if r.Status != StatusTimeout || r.Death != nil || r.PID != pid {
		t.Fatalf("cooperative timeout: %+v", r)
	}
	// Close while an evaluation runs: it ends as canceled, and Eval after Close fails.
	done := make(chan Result)
	go func() { done <- p.Eval(context.Background(), Request{X: []float64{20}, EnvID: "slow"}) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Status != StatusCanceled {
		t.Errorf("eval during Close: %+v", r)
	}
	if s := time.Since(start); s > 3*time.Second {
		t.Errorf("Close took %v", s)
	}
	if r := p.Eval(context.Background(), Request{}); r.Status != StatusFailed || r.ErrorKind != errs.BadState {
		t.Errorf("eval after Close: %+v", r)
	}
	if len(p.PIDs()) != 0 {
		t.Errorf("PIDs after Close: %v", p.PIDs())
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("worker %d still alive after Close", pid)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	_, err := NewPool(context.Background(), Options{Command: []string{os.Args[0]}, Size: 2,
		Env: []string{"BOHOST_WORKER_TEST=1"}, Spec: json.RawMessage(`{"fail": true}`)})
	if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "spec asks to fail") {
		t.Errorf("factory error: %v", err)
	}
	_, err = NewPool(context.Background(), Options{Command: []string{"/nonexistent/bohost"}, Size: 1})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "/nonexistent/bohost") {
		t.Errorf("missing command: %v", err)
	}
	// A command that is not a worker: it exits at once.
	_, err = NewPool(context.Background(), Options{Command: []string{"true"}, Size: 1})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "before answering hello") {
		t.Errorf("non-worker command: %v", err)
	}
	for _, o := range []Options{
		{},
		{Command: []string{"x"}, Size: -1},
		{Command: []string{"x"}, MaxRSSBytes: -1},
		{Command: []string{"x"}, Spec: json.RawMessage(`{`)},
	} {
		if err := o.Validate(); !errs.Is(err, errs.BadArg) {
			t.Errorf("Validate(%+v) = %v", o, err)
		}
	}
}

// TestServeInProcess drives Serve over pipes without a child process.
func TestServeInProcess(t *testing.T) {
	t.Parallel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), inR, outW, testFactory); outW.Close() }()
	fw := &frameWriter{w: inW}
	fw.write(&frame{Type: frameHello, Hello: &Hello{Spec: json.RawMessage(`{"bias":1}`), HeartbeatS: 0.01, MaxRSSBytes: 0}})
	next := func() *frame {
		for {
			f, err := readFrame(outR)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != frameHeartbeat {
				return f
			}
		}
	}
	if f := next(); f.Type != frameReady || f.Ready.PID != os.Getpid() || f.Ready.Limits != "none" {
		t.Fatalf("ready: %+v", f.Ready)
	}
	fw.write(&frame{Type: frameEval, Eval: &Request{ID: 7, X: []float64{1, 2}}})
	if f := next(); f.Type != frameResult || f.Result.ID != 7 || f.Result.Y != 4 || f.Result.Status != StatusOK {
		t.Fatalf("result: %+v", f.Result)
	}
	inW.Close()
	go io.Copy(io.Discard, outR)
	if err := <-done; err != nil {
		t.Errorf("Serve after EOF: %v", err)
	}
}

func TestFrames(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	fw := &frameWriter{w: &b}
	if err := fw.write(&frame{Type: frameEval, Eval: &Request{ID: 3, X: []float64{0.1, 1e-300}, EnvID: "P1"}}); err != nil {
		t.Fatal(err)
	}
	full := append([]byte(nil), b.Bytes()...)
	f, err := readFrame(&b)
	if err != nil || f.Eval.ID != 3 || f.Eval.X[1] != 1e-300 || f.Eval.EnvID != "P1" {
		t.Fatalf("round trip: %+v %v", f, err)
	}
	if _, err := readFrame(&b); err != io.EOF {
		t.Errorf("clean end: %v, want io.EOF", err)
	}
	for n := 1; n < len(full); n++ {
		if _, err := readFrame(bytes.NewReader(full[:n])); err == nil || err == io.EOF {
			t.Fatalf("torn frame of %d bytes: %v", n, err)
		}
	}
	if _, err := readFrame(strings.NewReader("hello world\n")); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("text on the stream: %v", err)
	}
	var d OOMDelta
	if js, _ := json.Marshal(Death{}); !strings.Contains(string(js), `"oom_kill_delta":"unavailable"`) {
		t.Errorf("unknown delta: %s", js)
	}
	if err := json.Unmarshal([]byte("2"), &d); err != nil || !d.Known || d.N != 2 {
		t.Errorf("delta 2: %+v %v", d, err)
	}
}
