package extproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"bohost/host/errs"
	"bohost/host/worker"
)

// Options configure a Bridge. Command is required.
type Options struct {
	Command []string // the evaluator's argv
	Env     []string // its whole environment (nil: the worker's); see ChildEnv
	Dir     string   // its working directory ("": the worker's)
	Slot    int      // the worker's pool slot (worker.Hello.Index), for messages and the log's name
	// LogPath receives the child's stderr and the bridge's notes, appended
	// ("": none). RUN/workers/worker_N.log in a run (LogPathFor).
	LogPath string
	// Stderr is the worker's stderr (default os.Stderr): the child's stderr
	// is copied there too, and the notes.
	Stderr io.Writer
	// GPU is the CUDA_VISIBLE_DEVICES given to the child ("": none), for
	// the log.
	GPU          string
	SetupTimeout time.Duration // for the ready line (default 60 s)
	MaxLine      int           // longest stdout line (default MaxLine)
	// StopGrace is how long an evaluation whose context ended (the worker
	// is stopping, or its own deadline passed) waits for the reply before
	// the child is killed (default 5 s: past the pool's kill of a worker
	// that ran over its timeout, so that the pool's kill decides).
	StopGrace time.Duration
	// OnExit is called when the child ends during an evaluation or while
	// idle (not when the bridge killed it). Default Die: this process ends
	// the same way. Tests record the Exit instead.
	OnExit func(Exit)
}

// Exit says how the child ended and how the worker should.
type Exit struct {
	PID    int
	Signal syscall.Signal // 0: it exited
	Code   int            // its exit status (-1 when killed by a signal)
	Note   string         // one sentence: what happened, during which trial
}

// Die ends this process as e says: a worker.DeathNote line on stderr, then
// the same signal re-raised with its default action (no core file), or
// the same exit status.
func Die(e Exit) {
	fmt.Fprintln(os.Stderr, worker.DeathNote+e.Note)
	if e.Signal != 0 {
		DieBy(e.Signal)
	}
	os.Exit(e.Code)
}

// Bridge is the worker.Objective of a command objective.
type Bridge struct {
	o     Options
	spawn *spawner
	out   *output
	logF  *os.File

	evalMu sync.Mutex // one evaluation at a time

	mu         sync.Mutex
	c          *child        // the running child (nil while restarting)
	restarted  chan struct{} // closed when a restart ends (nil: none running)
	restartErr error
	inEval     bool
	closed     bool
	peak       int64
	perEval    bool
	starts     int
}

var (
	_ worker.Objective = (*Bridge)(nil)
	_ worker.Tree      = (*Bridge)(nil)
)

// LogPathFor is the log file of worker slot in run directory dir.
func LogPathFor(dir string, slot int) string {
	return filepath.Join(dir, "workers", fmt.Sprintf("worker_%d.log", slot))
}

// Start starts the evaluator and waits for its ready line. A setup failure
// (an error line, an exit, no ready line within SetupTimeout) is an error
// with the child's message and its last stderr lines.
func Start(ctx context.Context, o Options) (*Bridge, error) {
	const op = "extproc.start"
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, errs.New(errs.BadArg, op, "the evaluator's command is empty")
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.SetupTimeout <= 0 {
		o.SetupTimeout = 60 * time.Second
	}
	if o.MaxLine <= 0 {
		o.MaxLine = MaxLine
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 5 * time.Second
	}
	if o.OnExit == nil {
		o.OnExit = Die
	}
	b := &Bridge{o: o, spawn: newSpawner(), out: &output{stderr: o.Stderr}}
	if o.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o755); err == nil {
			if f, err := os.OpenFile(o.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
				b.logF, b.out.log = f, f
			}
		}
		if b.logF == nil {
			fmt.Fprintf(o.Stderr, "bohost worker %d: cannot open the evaluator's log %s; its stderr goes to the worker's only\n", o.Slot, o.LogPath)
		}
	}
	c, err := b.launch(ctx)
	if err != nil {
		b.spawn.close()
		if b.logF != nil {
			b.logF.Close()
		}
		return nil, errs.New(errs.Unavailable, op, "worker %d: the evaluator %s did not start: %v", o.Slot, quoteArgv(o.Command), err)
	}
	b.c = c
	go b.watch(c)
	return b, nil
}

// Starts is how many times the child was started (1 + restarts after
// protocol failures).
func (b *Bridge) Starts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.starts
}

// PID is the running child's pid (0 while none runs).
func (b *Bridge) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c == nil {
		return 0
	}
	return b.c.pid
}

func (b *Bridge) logf(format string, a ...any) {
	line := fmt.Sprintf("bohost worker %d: %s: ", b.o.Slot, time.Now().UTC().Format(time.RFC3339)) + fmt.Sprintf(format, a...)
	b.out.note(line)
}

func (b *Bridge) gpuNote() string {
	if b.o.GPU == "" {
		return ""
	}
	return ", CUDA_VISIBLE_DEVICES=" + b.o.GPU
}

// launch starts a child and waits for its ready line.
func (b *Bridge) launch(ctx context.Context) (*child, error) {
	b.mu.Lock()
	b.starts++
	b.mu.Unlock()
	c, err := b.startChild()
	if err != nil {
		return nil, err
	}
	fail := func(why string) error {
		c.kill()
		c.waitExit(2 * time.Second)
		select {
		case <-c.stderrDone:
		case <-time.After(time.Second):
		}
		msg := why
		if t := c.tail.last(15); t != "" {
			msg += "; its last stderr lines:\n" + t
		}
		return errors.New(msg)
	}
	timer := time.NewTimer(b.o.SetupTimeout)
	defer timer.Stop()
	select {
	case it, ok := <-c.lines:
		if !ok || it.err != nil {
			var tl *errTooLong
			if errors.As(it.err, &tl) {
				return nil, fail(fmt.Sprintf("pid %d: %v", c.pid, tl))
			}
			what := "closed its stdout"
			if c.waitExit(2 * time.Second) {
				what, _, _ = c.how()
			}
			if len(it.line) > 0 {
				what += fmt.Sprintf(" (its last output was a truncated line: %s)", quote(it.line))
			}
			return nil, fail(fmt.Sprintf("pid %d %s before its ready line (did its setup fail?)", c.pid, what))
		}
		r, err := parseLine(it.line)
		switch {
		case err != nil:
			return nil, fail(fmt.Sprintf("pid %d: its first line must be {\"bohost\": %d, \"type\": \"ready\"}: %v", c.pid, Version, err))
		case r.Kind == "error":
			msg := fmt.Sprintf("pid %d reported a setup error: %s", c.pid, r.Error)
			if r.Traceback != "" {
				msg += "\n" + strings.TrimRight(r.Traceback, "\n")
			}
			return nil, fail(msg)
		case r.Kind != "ready":
			return nil, fail(fmt.Sprintf("pid %d: its first line must be {\"bohost\": %d, \"type\": \"ready\"}, got %s", c.pid, Version, quote(it.line)))
		}
		if !r.Versioned {
			return nil, fail(fmt.Sprintf("pid %d: its ready line must say the protocol version it speaks, {\"bohost\": %d, \"type\": \"ready\"}, got %s", c.pid, Version, quote(it.line)))
		}
		return c, nil
	case <-timer.C:
		return nil, fail(fmt.Sprintf("pid %d sent no ready line within %v (setup_timeout_s)", c.pid, b.o.SetupTimeout))
	case <-ctx.Done():
		return nil, fail(fmt.Sprintf("pid %d: canceled during setup", c.pid))
	}
}

// watch reports a child that ends while no evaluation runs (an evaluation
// reports its own).
func (b *Bridge) watch(c *child) {
	<-c.exited
	b.mu.Lock()
	idle := !b.inEval && !b.closed && b.c == c && !c.killed.Load()
	if idle {
		b.c = nil
	}
	b.mu.Unlock()
	if idle {
		b.idleDeath(c)
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// idleDeath reports a child that ended between evaluations.
func (b *Bridge) idleDeath(c *child) {
	select {
	case <-c.stderrDone:
	case <-time.After(time.Second):
	}
	how, sig, code := c.how()
	b.exit(Exit{PID: c.pid, Signal: sig, Code: code,
		Note: fmt.Sprintf("the evaluator (pid %d, %s) %s between evaluations; worker %d ends the same way and is replaced with a new evaluator", c.pid, quoteArgv(b.o.Command), how, b.o.Slot)})
}

// exit reports the child's end: the note goes to the log (OnExit's Die
// writes it to the worker's stderr as a worker.DeathNote line).
func (b *Bridge) exit(e Exit) {
	if b.out.log != nil {
		b.out.mu.Lock()
		fmt.Fprintf(b.out.log, "bohost worker %d: %s: %s\n", b.o.Slot, time.Now().UTC().Format(time.RFC3339), e.Note)
		b.out.mu.Unlock()
	}
	b.o.OnExit(e)
}

// ChildPeakRSS implements worker.Tree: the child tree's peak RSS during the
// last evaluation.
func (b *Bridge) ChildPeakRSS() (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak, b.perEval
}

// current returns the running child, waiting for a restart in progress.
func (b *Bridge) current() (*child, error) {
	b.mu.Lock()
	ch := b.restarted
	b.mu.Unlock()
	if ch != nil {
		<-ch
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.restartErr != nil {
		return nil, b.restartErr
	}
	if b.c == nil {
		return nil, errs.New(errs.BadState, "extproc.eval", "worker %d: no evaluator is running (it ended)", b.o.Slot)
	}
	return b.c, nil
}

// restart kills c and starts a new child in the background.
func (b *Bridge) restart(c *child, why string) {
	c.kill()
	done := make(chan struct{})
	b.mu.Lock()
	if b.c == c {
		b.c = nil
	}
	b.restarted = done
	b.mu.Unlock()
	b.logf("%s; the evaluator (pid %d) is killed and started again", why, c.pid)
	go func() {
		defer close(done)
		c.waitExit(5 * time.Second)
		nc, err := b.launch(context.Background())
		b.mu.Lock()
		defer b.mu.Unlock()
		b.restarted = nil
		if err != nil {
			b.restartErr = err
			return
		}
		if b.closed {
			nc.kill()
			return
		}
		b.c = nc
		go b.watch(nc)
	}()
}

// Eval implements worker.Objective: one request to the child, one reply.
func (b *Bridge) Eval(ctx context.Context, req worker.Request) (worker.Result, error) {
	b.evalMu.Lock()
	defer b.evalMu.Unlock()
	const op = "extproc.eval"
	a := parseArgs(req.Args)
	what := b.describe(req, a)
	c, err := b.current()
	if err != nil {
		// The evaluator could not be started again: nothing more can be
		// evaluated in this worker; it ends, and the pool starts another.
		b.exit(Exit{Code: 1, Note: fmt.Sprintf("worker %d could not start its evaluator again: %v", b.o.Slot, err)})
		return worker.Result{}, errs.New(errs.Unavailable, op, "worker %d, %s: the evaluator could not be started again: %v", b.o.Slot, what, err)
	}
	b.mu.Lock()
	b.inEval, b.peak, b.perEval = true, 0, false
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inEval = false
		// It ended after answering, while this evaluation was finishing:
		// an idle death (watch saw an evaluation and left it to us).
		dead := b.c == c && isDone(c.exited) && !c.killed.Load()
		if dead {
			b.c = nil
		}
		b.mu.Unlock()
		if dead {
			go func() {
				time.Sleep(200 * time.Millisecond) // let the worker send this evaluation's result first
				b.idleDeath(c)
			}()
		}
	}()

	// A line written while no request was out breaks the protocol too.
	select {
	case it, ok := <-c.lines:
		if ok && it.err == nil {
			return b.violation(c, what, fmt.Sprintf("it wrote a line while no request was out (before %s was sent): %s", what, quote(it.line)))
		}
		return b.ended(ctx, c, what, it, ok)
	default:
	}

	perEval := c.resetPeaks()
	line, err := json.Marshal(b.request(req, a))
	if err != nil {
		return worker.Result{}, errs.New(errs.BadArg, op, "worker %d, %s: the request cannot be written as JSON: %v", b.o.Slot, what, err)
	}
	if _, err := c.stdin.Write(append(line, '\n')); err != nil {
		// It closed its stdin or ended: how it ended decides.
		return b.ended(ctx, c, what, lineItem{err: io.EOF}, false)
	}
	defer func() {
		p := c.peak()
		b.mu.Lock()
		b.peak, b.perEval = p, perEval
		b.mu.Unlock()
	}()
	var stop <-chan time.Time
	done := ctx.Done()
	for {
		select {
		case it, ok := <-c.lines:
			if !ok || it.err != nil {
				return b.ended(ctx, c, what, it, ok)
			}
			r, err := parseLine(it.line)
			if err != nil {
				return b.violation(c, what, err.Error())
			}
			switch {
			case r.Kind == "phase":
				worker.SetPhase(ctx, r.Phase)
				continue
			case r.Kind == "ready":
				return b.violation(c, what, fmt.Sprintf("it sent a ready line during an evaluation: %s", quote(it.line)))
			case !r.HasID:
				return b.violation(c, what, fmt.Sprintf("its %s line has no \"id\" (the request's was %d): %s", r.Kind, req.ID, quote(it.line)))
			case r.ID != req.ID:
				return b.violation(c, what, fmt.Sprintf("its %s line is for id %d, but the request out is id %d: %s", r.Kind, r.ID, req.ID, quote(it.line)))
			}
			return b.answer(what, r)
		case <-done:
			// Stopping (SIGTERM to the worker) or past the request's own
			// deadline: the pool's kill normally comes first; if not, the
			// child is stopped and started again.
			done = nil
			t := time.NewTimer(b.o.StopGrace)
			defer t.Stop()
			stop = t.C
		case <-stop:
			b.restart(c, fmt.Sprintf("%s was abandoned (%v)", what, context.Cause(ctx)))
			kind := errs.Canceled
			return worker.Result{}, errs.Wrap(kind, op, fmt.Errorf("worker %d, %s: %w", b.o.Slot, what, ctx.Err()))
		}
	}
}

// answer turns a result or error line into the evaluation's outcome.
func (b *Bridge) answer(what string, r reply) (worker.Result, error) {
	const op = "extproc.eval"
	if r.Kind == "error" {
		res := worker.Result{}
		if r.Traceback != "" {
			tb := r.Traceback
			if len(tb) > 16<<10 {
				tb = "…" + tb[len(tb)-16<<10:]
			}
			res.Score = map[string]any{"traceback": tb}
		}
		return res, errs.New(errs.Failed, op, "worker %d, %s: the evaluator reported an error: %s", b.o.Slot, what, r.Error)
	}
	score := r.Score
	if score == nil {
		score = map[string]any{}
	}
	switch {
	case r.YBad != "":
		return worker.Result{Score: score}, errs.New(errs.BadValue, op, "worker %d, %s: the evaluator's result is unusable: %s", b.o.Slot, what, r.YBad)
	case r.YMissing:
		return worker.Result{Score: score}, errs.New(errs.BadValue, op, "worker %d, %s: the evaluator's result has no value: give \"y\": a number, or \"score\": {\"f\": a number, ...}", b.o.Slot, what)
	case math.IsNaN(r.Y) || math.IsInf(r.Y, 0):
		return worker.Result{Score: score}, errs.New(errs.BadValue, op, "worker %d, %s: the evaluator returned y = %v (must be a finite number)", b.o.Slot, what, r.Y)
	}
	if _, ok := score["f"]; !ok {
		score["f"] = r.Y
	}
	return worker.Result{Y: r.Y, Score: score}, nil
}

// violation fails the trial for a line that breaks the protocol, and
// restarts the child for the next one.
func (b *Bridge) violation(c *child, what, msg string) (worker.Result, error) {
	err := errs.New(errs.Failed, "extproc.eval", "worker %d, %s: the evaluator (pid %d) broke the protocol: %s; it is restarted (print to stderr, or use bohost_worker.py, which keeps stdout for the protocol; docs/evaluators.md)", b.o.Slot, what, c.pid, msg)
	b.restart(c, fmt.Sprintf("%s: protocol error: %s", what, msg))
	return worker.Result{}, err
}

// ended handles the end of the child's stdout during an evaluation: a
// truncated last line or an over-long line is a protocol failure; an exit
// or a signal ends the worker the same way (OnExit).
func (b *Bridge) ended(ctx context.Context, c *child, what string, it lineItem, open bool) (worker.Result, error) {
	var tl *errTooLong
	if errors.As(it.err, &tl) {
		return b.violation(c, what, tl.Error())
	}
	if !c.waitExit(2 * time.Second) {
		// Its stdout ended but it lives on (it closed fd 1).
		return b.violation(c, what, "it closed its stdout")
	}
	select {
	case <-c.stderrDone:
	case <-time.After(time.Second):
	}
	how, sig, code := c.how()
	if sig == 0 && code == 0 && errors.Is(it.err, io.ErrUnexpectedEOF) && !c.killed.Load() {
		return b.violation(c, what, fmt.Sprintf("its last line was truncated (no newline before it exited): %s", quote(it.line)))
	}
	b.mu.Lock()
	if b.c == c {
		b.c = nil
	}
	b.mu.Unlock()
	note := fmt.Sprintf("the evaluator (pid %d, %s) %s during %s", c.pid, quoteArgv(b.o.Command), how, what)
	switch {
	case sig == 0 && code == 0:
		note += " without answering it (a reply line {\"type\": \"result\", ...} was expected)"
	case len(it.line) > 0:
		note += fmt.Sprintf(" (its last output was a truncated line: %s)", quote(it.line))
	}
	note += fmt.Sprintf("; worker %d ends the same way and is replaced with a new evaluator", b.o.Slot)
	b.exit(Exit{PID: c.pid, Signal: sig, Code: code, Note: note})
	// OnExit returned (tests): report it as the evaluation's failure.
	return worker.Result{}, errs.New(errs.Failed, "extproc.eval", "worker %d, %s: %s", b.o.Slot, what, note)
}

// Close stops the child: EOF on its stdin, 700 ms to exit (the pool gives
// a worker a second after EOF), then SIGKILL. worker.Serve calls it when
// the pool closes the worker's stdin.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ch := b.restarted
	b.mu.Unlock()
	if ch != nil {
		<-ch
	}
	b.mu.Lock()
	c := b.c
	b.mu.Unlock()
	if c != nil {
		c.stdin.Close()
		if !c.waitExit(700 * time.Millisecond) {
			c.kill()
			c.waitExit(5 * time.Second)
		}
	}
	b.spawn.close()
	if b.logF != nil {
		b.logF.Close()
	}
	return nil
}

func parseArgs(raw json.RawMessage) args {
	var a args
	if len(raw) > 0 {
		json.Unmarshal(raw, &a)
	}
	return a
}

// describe names an evaluation in messages: "trial 7 (iteration 3,
// candidate 0, attempt 1)", or "request 12" outside a run.
func (b *Bridge) describe(req worker.Request, a args) string {
	if a.Trial == nil {
		return fmt.Sprintf("request %d", req.ID)
	}
	return fmt.Sprintf("trial %d (iteration %d, candidate %d, attempt %d)", *a.Trial, a.Iteration, a.Candidate, a.Attempt)
}

func (b *Bridge) request(req worker.Request, a args) Request {
	r := Request{Type: "eval", ID: req.ID, Iteration: a.Iteration, Candidate: a.Candidate, Attempt: max(a.Attempt, 1),
		Worker: b.o.Slot, X: req.X, W: req.W, Env: RequestEnv{Index: req.EnvIndex, ID: req.EnvID}}
	if a.Trial != nil {
		r.Trial = *a.Trial
	}
	if r.X == nil {
		r.X = []float64{}
	}
	if r.W == nil {
		r.W = []float64{}
	}
	r.XNamed = make(map[string]float64, len(r.X))
	for i, v := range r.X {
		name := fmt.Sprintf("x%d", i)
		if i < len(a.Names) && a.Names[i] != "" {
			name = a.Names[i]
		}
		r.XNamed[name] = v
	}
	return r
}
