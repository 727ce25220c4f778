package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"bohost/host/errs"
	"bohost/host/monitor"
)

// Objective evaluates one request inside a worker. It fills Result.Y and,
// optionally, Score; Serve fills the rest. Returning an error makes the
// evaluation "failed" (the worker lives on); an *errs.Error keeps its kind.
type Objective interface {
	Eval(ctx context.Context, req Request) (Result, error)
}

// ObjectiveFunc adapts a function to Objective.
type ObjectiveFunc func(ctx context.Context, req Request) (Result, error)

// Eval calls f.
func (f ObjectiveFunc) Eval(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }

// Factory builds the worker's objective from the Hello frame (its Spec says
// what to build: an AirLine configuration, a Lua file and function, ...). It
// runs once per worker process, before Ready is sent; an error is reported to
// the parent and ends the worker.
type Factory func(ctx context.Context, hello Hello) (Objective, error)

// Static returns a Factory that ignores the spec and returns obj.
func Static(obj Objective) Factory {
	return func(context.Context, Hello) (Objective, error) { return obj, nil }
}

type phaseKey struct{}

type phaseReporter struct {
	mu    sync.Mutex
	phase string
	fw    *frameWriter
}

func (p *phaseReporter) set(phase string) {
	p.mu.Lock()
	changed := p.phase != phase
	p.phase = phase
	p.mu.Unlock()
	if changed {
		p.beat()
	}
}

func (p *phaseReporter) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase
}

func (p *phaseReporter) beat() {
	rss, _ := monitor.ProcRSS(0)
	p.fw.write(&frame{Type: frameHeartbeat, Heartbeat: &Heartbeat{Phase: p.get(), RSSBytes: rss}})
}

// SetPhase tells the parent what the objective is doing now (e.g. "load",
// "detect", "score"); the last phase appears in a death certificate. It is a
// no-op outside a worker's Eval.
func SetPhase(ctx context.Context, phase string) {
	if p, ok := ctx.Value(phaseKey{}).(*phaseReporter); ok {
		p.set(phase)
	}
}

// ClaimStdio takes the process's stdin and stdout for the protocol and points
// file descriptor 1 at stderr, so stray prints (Lua's print, a C library)
// land in the worker's stderr instead of corrupting the frames. The hidden
// `bohost worker` subcommand calls it and passes the results to Serve.
func ClaimStdio() (in, out *os.File, err error) {
	inFd, err := syscall.Dup(0)
	if err != nil {
		return nil, nil, errs.New(errs.IO, "worker.stdio", "dup stdin: %v", err)
	}
	outFd, err := syscall.Dup(1)
	if err != nil {
		syscall.Close(inFd)
		return nil, nil, errs.New(errs.IO, "worker.stdio", "dup stdout: %v", err)
	}
	syscall.CloseOnExec(inFd)
	syscall.CloseOnExec(outFd)
	if err := dup2(2, 1); err != nil {
		syscall.Close(inFd)
		syscall.Close(outFd)
		return nil, nil, errs.New(errs.IO, "worker.stdio", "redirect stdout to stderr: %v", err)
	}
	if null, err := os.Open(os.DevNull); err == nil {
		dup2(int(null.Fd()), 0)
		null.Close()
	}
	return os.NewFile(uintptr(inFd), "protocol-in"), os.NewFile(uintptr(outFd), "protocol-out"), nil
}

// Serve runs a worker: it reads Hello from in, applies the memory limits,
// builds the objective with factory, answers Ready, then evaluates requests
// until in reaches EOF (a clean shutdown: nil) or ctx ends. Heartbeats go out
// every Hello.HeartbeatS. A panic in the objective is recovered and reported
// as a failed evaluation of kind internal.
func Serve(ctx context.Context, in io.Reader, out io.Writer, factory Factory) error {
	const op = "worker.serve"
	fw := &frameWriter{w: out}
	f, err := readFrame(in)
	if err != nil {
		return errs.New(errs.IO, op, "reading hello: %v", err)
	}
	if f.Type != frameHello || f.Hello == nil {
		return errs.New(errs.BadState, op, "first frame is %q, want hello", f.Type)
	}
	hello := *f.Hello
	applyStartLimits(hello)
	ready := &Ready{PID: os.Getpid(), GoVersion: runtime.Version()}
	obj, err := factory(ctx, hello)
	if err == nil && obj == nil {
		err = errs.New(errs.Internal, op, "factory returned a nil objective")
	}
	ready.Limits = applyLimits(hello)
	if _, ok := obj.(Tree); ok {
		ready.Tree = true
	}
	if err != nil {
		ready.Error, ready.ErrorKind = err.Error(), errs.KindOf(err)
		fw.write(&frame{Type: frameReady, Ready: ready})
		return err
	}
	ready.Host, _ = os.Hostname()
	for _, k := range hello.ReportEnv {
		if v, ok := os.LookupEnv(k); ok {
			if ready.Env == nil {
				ready.Env = map[string]string{}
			}
			ready.Env[k] = v
		}
	}
	ready.RSSBytes, _ = monitor.ProcRSS(0)
	if err := fw.write(&frame{Type: frameReady, Ready: ready}); err != nil {
		return errs.New(errs.IO, op, "writing ready: %v", err)
	}
	pr := &phaseReporter{phase: "idle", fw: fw}
	period := time.Duration(hello.HeartbeatS * float64(time.Second))
	if period <= 0 {
		period = time.Second
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				pr.beat()
			}
		}
	}()

	frames := make(chan *frame)
	readErr := make(chan error, 1)
	go func() {
		for {
			f, err := readFrame(in)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- f:
			case <-stop:
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return errs.Wrap(errs.Canceled, op, ctx.Err())
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				if c, ok := obj.(io.Closer); ok {
					// A clean shutdown: an objective with processes of its
					// own (host/extproc) lets them end cleanly too.
					c.Close()
				}
				return nil
			}
			return errs.New(errs.IO, op, "reading frames: %v", err)
		case f := <-frames:
			if f.Type != frameEval || f.Eval == nil {
				return errs.New(errs.BadState, op, "unexpected frame %q", f.Type)
			}
			done := make(chan Result, 1)
			go func() { done <- evalOne(ctx, obj, *f.Eval, pr) }()
			var res Result
			select {
			case res = <-done:
			case <-ctx.Done():
				// Stopping (a signal): the objective saw its context end;
				// give it StopGrace to return, and send no result: the
				// evaluation was abandoned, not answered.
				select {
				case <-done:
				case <-time.After(StopGrace):
				}
				return errs.Wrap(errs.Canceled, op, context.Cause(ctx))
			}
			if ctx.Err() != nil {
				return errs.Wrap(errs.Canceled, op, context.Cause(ctx))
			}
			pr.set("idle")
			if err := fw.write(&frame{Type: frameResult, Result: &res}); err != nil {
				return errs.New(errs.IO, op, "writing result: %v", err)
			}
		}
	}
}

// StopGrace is how long a stopping worker (SIGTERM) waits for the objective
// to return after its context ended.
const StopGrace = 2 * time.Second

// Peak scopes (Result.PeakRSSScope).
const (
	PeakEval    = "eval"    // VmHWM was reset at the evaluation's start: the peak is the evaluation's
	PeakProcess = "process" // the reset failed: the peak is the process's since it started
)

func evalOne(ctx context.Context, obj Objective, req Request, pr *phaseReporter) (res Result) {
	scope := PeakEval
	if monitor.ResetPeak() != nil {
		scope = PeakProcess
	}
	pr.set("eval")
	start := time.Now()
	ctx = context.WithValue(ctx, phaseKey{}, pr)
	if req.TimeoutS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutS*float64(time.Second)))
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			stack := debug.Stack()
			fmt.Fprintf(os.Stderr, "worker: panic in objective: %v\n%s\n", p, stack)
			res = Result{Status: StatusFailed, Error: fmt.Sprintf("objective panicked: %v", p), ErrorKind: errs.Internal}
		}
		res.ID = req.ID
		res.Phase = pr.get()
		res.Seconds = time.Since(start).Seconds()
		res.PeakRSSBytes, res.PeakRSSScope = monitor.PeakRSS(), scope
		if t, ok := obj.(Tree); ok {
			// The evaluation ran in the worker's children: their peak too.
			child, perEval := t.ChildPeakRSS()
			res.PeakRSSBytes += child
			if !perEval {
				res.PeakRSSScope = PeakProcess
			}
		}
		res.PID = os.Getpid()
		res.Death = nil
	}()
	r, err := obj.Eval(ctx, req)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return Result{Status: StatusTimeout, Error: err.Error(), ErrorKind: errs.Canceled}
	case err != nil:
		kind := ""
		var e *errs.Error
		if errors.As(err, &e) {
			kind = e.Kind
		}
		return Result{Status: StatusFailed, Error: err.Error(), ErrorKind: kind, Score: cleanScore(r.Score)}
	case math.IsNaN(r.Y) || math.IsInf(r.Y, 0):
		return Result{Status: StatusFailed, Error: fmt.Sprintf("objective returned y = %v (must be finite)", r.Y), ErrorKind: errs.Failed, Score: cleanScore(r.Score)}
	}
	r.Status = StatusOK
	r.Error, r.ErrorKind = "", ""
	r.Score = cleanScore(r.Score)
	return r
}

// cleanScore replaces non-finite float values by nil (JSON cannot hold them).
func cleanScore(m map[string]any) map[string]any {
	for k, v := range m {
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				m[k] = nil
			}
		case float32:
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				m[k] = nil
			}
		case map[string]any:
			cleanScore(x)
		}
	}
	return m
}

// applyStartLimits bounds the worker while its objective is built: a loose
// RLIMIT_DATA (the current data size, plus the cap, plus headroom), so a
// factory that runs away is stopped by the kernel. applyLimits tightens it
// once the baseline is known.
func applyStartLimits(h Hello) {
	if h.MaxRSSBytes <= 0 {
		return
	}
	if m, err := monitor.ReadProcMem(0); err == nil {
		setrlimit(rlimitData, uint64(m.Data+h.MaxRSSBytes+dataHeadroom()))
	}
}

// applyLimits sets the worker's own memory limits from hello, after its
// objective was built, and describes what was applied:
//
//   - the Go runtime's soft memory limit at the cap (its GC works harder
//     before the cap rather than after);
//   - RLIMIT_DATA at the current data size plus what the cap leaves above
//     the current RSS (the baseline), plus headroom for the Go runtime's
//     heap steps and thread stacks (which count as data but are mostly not
//     resident): an allocation past it fails inside the worker, which the
//     Go runtime reports as "out of memory" (status oom, cap_enforced_by
//     rlimit_data). Data is not RSS, so this is a kernel backstop a little
//     above the cap; the parent's poll and the per-evaluation peak check
//     enforce the cap itself;
//   - RLIMIT_AS (current VmSize + the cap + headroom) only with
//     LimitAddressSpace.
func applyLimits(h Hello) string {
	if h.MaxRSSBytes <= 0 {
		return "none"
	}
	debug.SetMemoryLimit(h.MaxRSSBytes)
	desc := fmt.Sprintf("go_memory_limit=%d", h.MaxRSSBytes)
	m, err := monitor.ReadProcMem(0)
	if err != nil {
		return desc + "; rlimits not set (" + err.Error() + ")"
	}
	data := uint64(m.Data + max(h.MaxRSSBytes-m.RSS, 0) + dataHeadroom())
	if err := setrlimit(rlimitData, data); err != nil {
		desc += fmt.Sprintf("; rlimit_data failed (%v)", err)
	} else {
		desc += fmt.Sprintf("; rlimit_data=%d (data %d + cap %d - baseline rss %d + headroom %d)", data, m.Data, h.MaxRSSBytes, m.RSS, dataHeadroom())
	}
	if h.LimitAddressSpace {
		as := uint64(m.Size + h.MaxRSSBytes + dataHeadroom())
		if err := setrlimit(syscall.RLIMIT_AS, as); err != nil {
			desc += fmt.Sprintf("; rlimit_as failed (%v)", err)
		} else {
			desc += fmt.Sprintf("; rlimit_as=%d", as)
		}
	}
	return desc
}

// dataHeadroom is what RLIMIT_DATA allows beyond the cap: 64 MiB for the
// Go runtime's heap growth steps, plus a thread stack (RLIMIT_STACK, 8 MiB
// by default: glibc maps one per thread, writable and private, so it counts
// as data) for twice as many threads as CPUs (the Go runtime's and a native
// library's thread pools).
func dataHeadroom() int64 {
	stack := int64(8 << 20)
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_STACK, &rl) == nil && rl.Cur > 0 && rl.Cur <= 64<<20 {
		stack = int64(rl.Cur)
	}
	return 64<<20 + 2*int64(runtime.NumCPU())*stack
}

func setrlimit(res int, v uint64) error {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(res, &cur); err != nil {
		return err
	}
	if cur.Max != ^uint64(0) && v > cur.Max {
		v = cur.Max
	}
	return syscall.Setrlimit(res, &syscall.Rlimit{Cur: v, Max: cur.Max})
}
