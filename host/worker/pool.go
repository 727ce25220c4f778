package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bohost/host/errs"
	"bohost/host/memctl"
	"bohost/host/monitor"
)

// Dispatcher runs evaluations somewhere: the local process Pool, or later a
// Slurm backend. Eval never returns an error: every outcome is a Result with
// a Status. Eval may be called from several goroutines at once.
type Dispatcher interface {
	Eval(ctx context.Context, req Request) Result
	Close() error
}

var _ Dispatcher = (*Pool)(nil)

// Options configures a Pool. Command is required; every other zero field takes
// the default named beside it.
type Options struct {
	Command []string // argv of a worker, e.g. {os.Args[0], "worker"}; required
	Env     []string // added to the parent's environment
	Dir     string   // working directory (default: the parent's)

	Size int             // worker processes (default runtime.NumCPU())
	Spec json.RawMessage // sent in Hello for the worker's Factory

	MaxRSSBytes       int64  // memory cap per worker (0: none); see Hello and the package doc
	MemoryCgroup      string // "" (auto): a cgroup v2 with memory.max per worker where writable, unless BOHOST_CGROUP=off; "off": never
	LimitAddressSpace bool   // also set RLIMIT_AS in the worker (default false)
	GPUMaxBytes       int64  // passed through in Hello (0: none)

	Timeout          time.Duration // per evaluation when Request.TimeoutS is 0 (0: none)
	KillGrace        time.Duration // extra time after the timeout before the kill, so a cooperative objective can return (default 500 ms)
	Heartbeat        time.Duration // worker heartbeat period (default 1 s)
	HeartbeatTimeout time.Duration // kill a worker silent this long (default 30 s; negative: never)
	StartTimeout     time.Duration // for a worker to answer Ready (default 60 s)
	PollInterval     time.Duration // RSS polling of /proc/PID/status (default 100 ms)
	MaxStartFailures int           // consecutive failed restarts before a slot is given up (default 3)

	StderrTailLines int                   // lines of stderr in a death certificate (default 30)
	Stderr          io.Writer             // if set, worker stderr is copied here, each line prefixed "[worker N pid P] "
	OnDeath         func(Death)           // called (from the pool's goroutines) for every death, including idle ones
	LastMonitor     func() map[string]any // if set, its result goes into Death.LastMonitor (e.g. the last monitor.csv row)

	// Launcher, if set, starts each worker through another program (Slurm's
	// srun: host/slurm) instead of directly; see Launcher.
	Launcher Launcher
	// OnStart, if set, is called (from the pool's goroutines) each time a
	// worker has answered Ready, with its slot.
	OnStart func(slot int, r Ready)
}

// Launcher starts workers through another program that keeps the worker's
// stdin, stdout and stderr connected (Slurm's srun runs it as a job step).
// The pool's direct child is then the launcher's process, not the worker:
//
//   - the pool kills the launcher's process group as before and then calls
//     Stop, since the worker may live on elsewhere;
//   - the RSS poll, the baseline and PIDs use the worker's own pid (from
//     Ready) when it runs on this host (same host name, /proc/PID there);
//     otherwise the pool relies on the RSS the worker reports in Ready and
//     its heartbeats, on the per-evaluation peak, and on the launcher's own
//     memory limit; no cgroup is made for it;
//   - a death certificate's exit status and stderr are the launcher's, which
//     Explain turns into the launcher's account (Death.Step), and the pids in
//     Result.PID and Death.PID are the worker's own (Ready.PID).
type Launcher interface {
	// Wrap returns the argv that runs the worker argv for slot.
	Wrap(slot int, argv []string) []string
	// ReportEnv names the environment variables the worker returns in
	// Ready.Env (where it runs: the launcher's ids).
	ReportEnv() []string
	// Stop ends what may be left of the worker after the pool killed the
	// launcher's process group; r is nil when the worker never answered
	// Ready. It must return within seconds.
	Stop(slot int, r *Ready)
	// Explain completes d with the launcher's account of the death: d.Step,
	// and where the pool did not decide the death itself (d.Cause signal or
	// exit), the cause, signal, exit code and reason the launcher's exit
	// status and stderr (stderrTail, its last lines) imply. r is nil when the
	// worker never answered Ready.
	Explain(d *Death, r *Ready, stderrTail string)
}

// Validate checks the options and names the first bad field.
func (o Options) Validate() error {
	const op = "worker.pool"
	switch {
	case len(o.Command) == 0 || o.Command[0] == "":
		return errs.New(errs.BadArg, op, "Command must name the worker executable, got %q", o.Command)
	case o.Size < 0:
		return errs.New(errs.BadArg, op, "Size must be >= 0 (0: NumCPU), got %d", o.Size)
	case o.MaxRSSBytes < 0:
		return errs.New(errs.BadArg, op, "MaxRSSBytes must be >= 0 (0: no cap), got %d", o.MaxRSSBytes)
	case o.GPUMaxBytes < 0:
		return errs.New(errs.BadArg, op, "GPUMaxBytes must be >= 0 (0: no cap), got %d", o.GPUMaxBytes)
	case o.Timeout < 0:
		return errs.New(errs.BadArg, op, "Timeout must be >= 0 (0: none), got %v", o.Timeout)
	case o.KillGrace < 0 || o.Heartbeat < 0 || o.StartTimeout < 0 || o.PollInterval < 0:
		return errs.New(errs.BadArg, op, "KillGrace, Heartbeat, StartTimeout and PollInterval must be >= 0")
	case o.MemoryCgroup != "" && o.MemoryCgroup != "auto" && o.MemoryCgroup != "off":
		return errs.New(errs.BadArg, op, "MemoryCgroup must be \"\", \"auto\" or \"off\", got %q", o.MemoryCgroup)
	case o.MaxStartFailures < 0 || o.StderrTailLines < 0:
		return errs.New(errs.BadArg, op, "MaxStartFailures and StderrTailLines must be >= 0")
	case len(o.Spec) > 0 && !json.Valid(o.Spec):
		return errs.New(errs.BadArg, op, "Spec is not valid JSON: %.80q", o.Spec)
	}
	return nil
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Size == 0 {
		o.Size = runtime.NumCPU()
	}
	def(&o.KillGrace, 500*time.Millisecond)
	def(&o.Heartbeat, time.Second)
	def(&o.HeartbeatTimeout, 30*time.Second)
	def(&o.StartTimeout, 60*time.Second)
	def(&o.PollInterval, 100*time.Millisecond)
	if o.MaxStartFailures == 0 {
		o.MaxStartFailures = 3
	}
	if o.StderrTailLines == 0 {
		o.StderrTailLines = 30
	}
}

// Pool runs evaluations in worker processes and survives their deaths.
type Pool struct {
	opts   Options
	idle   chan *proc
	closed chan struct{}
	dead   chan struct{} // closed when every slot was given up
	spawn  chan spawnReq
	nextID atomic.Uint64

	mu        sync.Mutex
	procs     map[*proc]struct{}
	live      int
	deadErr   error
	closing   bool
	restarts  int
	replacing sync.WaitGroup

	cgroups *memctl.Cgroups // nil: no cgroup v2 memory caps
	cgNote  string          // why not, for the certificates' limits
}

// BaselineMargin is what a memory cap must leave above a worker's baseline
// (its RSS right after start, objective built) for evaluations: NewPool
// refuses a smaller cap.
const BaselineMargin = 32 << 20

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// NewPool starts opts.Size workers and waits for each to be ready. A worker
// that cannot start (its Factory rejects the spec, the command is missing) is
// an error, with the worker's message and stderr.
func NewPool(ctx context.Context, opts Options) (*Pool, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.defaults()
	p := &Pool{
		opts:   opts,
		idle:   make(chan *proc, opts.Size),
		closed: make(chan struct{}),
		dead:   make(chan struct{}),
		spawn:  make(chan spawnReq),
		procs:  map[*proc]struct{}{},
		live:   opts.Size,
	}
	if opts.MaxRSSBytes > 0 {
		switch {
		case opts.MemoryCgroup == "off" || os.Getenv("BOHOST_CGROUP") == "off":
			p.cgNote = "cgroup_v2 off"
		case opts.Launcher != nil:
			p.cgNote = "cgroup_v2 not used: the workers run under a launcher"
		default:
			cg, err := memctl.OpenCgroups()
			if err != nil {
				p.cgNote = err.Error()
			} else {
				p.cgroups = cg
			}
		}
	}
	go p.spawner()
	errc := make(chan error, opts.Size)
	for i := range opts.Size {
		go func() {
			w, err := p.start(ctx, i)
			if err == nil {
				p.idle <- w
			}
			errc <- err
		}()
	}
	var first error
	for range opts.Size {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = p.checkBaseline()
	}
	if first != nil {
		p.Close()
		return nil, first
	}
	return p, nil
}

// checkBaseline refuses a memory cap that does not leave BaselineMargin
// above the largest baseline of the workers just started.
func (p *Pool) checkBaseline() error {
	c := p.opts.MaxRSSBytes
	if c <= 0 {
		return nil
	}
	var top *proc
	p.mu.Lock()
	for w := range p.procs {
		if top == nil || w.baseRSS > top.baseRSS {
			top = w
		}
	}
	p.mu.Unlock()
	if top == nil || c >= top.baseRSS+BaselineMargin {
		return nil
	}
	need := top.baseRSS + BaselineMargin
	return errs.New(errs.BadArg, "worker.pool",
		"max_rss = %d bytes (%s) is below what a worker needs: worker %d (pid %d) uses %s right after start (its measured baseline RSS, objective built), and max_rss must leave %s above that baseline for evaluations",
		c, memctl.FormatBytes(uint64(c)), top.slot, top.workerPID(), memctl.FormatBytes(uint64(top.baseRSS)), memctl.FormatBytes(BaselineMargin)).
		WithHint("set max_rss to at least %d bytes (%s), or leave it unset for no cap", need, memctl.FormatBytes(uint64(need)))
}

// spawner starts every worker from one OS thread that stays locked for the
// pool's life, so Pdeathsig fires only when the pool (or the process) ends.
func (p *Pool) spawner() {
	runtime.LockOSThread()
	for {
		select {
		case r := <-p.spawn:
			r.done <- r.cmd.Start()
		case <-p.closed:
			return // the thread exits with the goroutine (it stays locked)
		}
	}
}

// Size returns the number of worker slots.
func (p *Pool) Size() int { return p.opts.Size }

// PIDs returns the pids of the live workers (for monitor.Options.WorkerPIDs),
// and of their descendants for a worker whose objective runs in child
// processes (Ready.Tree).
func (p *Pool) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, len(p.procs))
	for w := range p.procs {
		pid, ok := w.localPID()
		if !ok {
			continue // a worker on another host
		}
		w.mu.Lock()
		tree := w.tree
		w.mu.Unlock()
		if tree { // its objective's processes too (Ready.Tree)
			out = append(out, TreePIDs(pid)...)
			continue
		}
		out = append(out, pid)
	}
	return out
}

// Restarts returns how many workers were started to replace dead ones.
func (p *Pool) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Eval runs req on an idle worker (waiting for one) and returns its Result.
// If req.ID is 0 a unique id is assigned. When the worker dies, the Result
// has Status crashed, oom or timeout and a Death certificate, and the worker
// is replaced in the background. When ctx ends first, the worker (if one was
// running req) is killed and replaced, and Status is canceled.
func (p *Pool) Eval(ctx context.Context, req Request) Result {
	start := time.Now()
	if req.ID == 0 {
		req.ID = p.nextID.Add(1)
	}
	w, err := p.acquire(ctx)
	if err != nil {
		st := StatusFailed
		if errs.Is(err, errs.Canceled) {
			st = StatusCanceled
		}
		return Result{ID: req.ID, Status: st, Error: err.Error(), ErrorKind: errs.KindOf(err), Seconds: time.Since(start).Seconds(), Worker: -1}
	}
	timeout := p.opts.Timeout
	if req.TimeoutS > 0 {
		timeout = time.Duration(req.TimeoutS * float64(time.Second))
	}
	start = time.Now()
	w.beginEval()
	res, alive := w.eval(ctx, req, timeout, p.opts.KillGrace)
	res.ID, res.Worker, res.PID = req.ID, w.slot, w.workerPID()
	res.Seconds = time.Since(start).Seconds()
	if alive {
		// The evaluation may have gone over the cap and back (or stayed
		// over) between two polls: its own peak decides, so that it, not a
		// later innocent evaluation, is the one marked oom.
		if peak := w.endEval(res); p.opts.MaxRSSBytes > 0 && peak > p.opts.MaxRSSBytes {
			w.killCap(CapByPeak, peak)
			alive = false
			res = Result{ID: res.ID, Worker: res.Worker, PID: res.PID, Seconds: res.Seconds}
		}
	}
	if alive {
		p.release(w)
		return res
	}
	d := p.bury(w, req.ID)
	if res.Status != "" {
		// The worker answered (or the caller canceled) before it ended: the
		// answer stands; the death is only reported through OnDeath.
		return res
	}
	if stopSignal(d) && ctx.Err() == nil {
		// A worker stopped by SIGTERM/SIGHUP/SIGINT it did not get from the
		// pool: when a whole process tree is being stopped, the caller's
		// context ends a moment later, and the evaluation is then canceled
		// (it runs again on resume), not a crash to record.
		select {
		case <-ctx.Done():
		case <-time.After(stopWait):
		}
	}
	if ctx.Err() != nil && stopSignal(d) {
		return Result{ID: req.ID, Status: StatusCanceled, Error: ctx.Err().Error(), ErrorKind: errs.Canceled,
			Seconds: res.Seconds, Worker: w.slot, PID: w.workerPID()}
	}
	res.Status = statusOf(d)
	res.Death = &d
	res.Error = d.Reason
	res.Phase = d.Phase
	res.PeakRSSBytes = d.PeakRSSBytes
	return res
}

// stopWait is how long Eval waits, after a worker died by a stop signal
// nobody in the pool sent, for the caller's context to end too.
const stopWait = 500 * time.Millisecond

// stopSignal reports whether a death is a stop signal from outside the pool.
func stopSignal(d Death) bool {
	return d.Cause == CauseSignal && (d.Signal == "SIGTERM" || d.Signal == "SIGHUP" || d.Signal == "SIGINT")
}

// statusOf maps a death to a Result status.
func statusOf(d Death) string {
	switch d.Cause {
	case CauseTimeout, CauseHeartbeat:
		return StatusTimeout
	case CauseRSSCap, CauseRuntimeOOM, CauseOOMKill:
		return StatusOOM
	case CauseCanceled:
		return StatusCanceled
	}
	return StatusCrashed
}

func (p *Pool) acquire(ctx context.Context) (*proc, error) {
	for {
		select {
		case w := <-p.idle:
			if w.isDead() {
				p.bury(w, 0)
				continue
			}
			return w, nil
		case <-ctx.Done():
			return nil, errs.Wrap(errs.Canceled, "worker.eval", ctx.Err())
		case <-p.closed:
			return nil, errs.New(errs.BadState, "worker.eval", "the pool is closed")
		case <-p.dead:
			p.mu.Lock()
			err := p.deadErr
			p.mu.Unlock()
			return nil, errs.New(errs.Failed, "worker.eval", "no worker left: %v", err)
		}
	}
}

func (p *Pool) release(w *proc) {
	p.mu.Lock()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		w.kill(CauseCanceled)
		return
	}
	p.idle <- w
}

// bury writes the certificate of a dead (or killed) worker, reports it, and
// starts its replacement.
func (p *Pool) bury(w *proc, reqID uint64) Death {
	d := w.certificate(p.opts, reqID)
	p.mu.Lock()
	delete(p.procs, w)
	closing := p.closing
	if !closing {
		p.replacing.Add(1)
	}
	p.mu.Unlock()
	if p.opts.OnDeath != nil && d.Cause != CauseCanceled {
		p.opts.OnDeath(d)
	}
	if !closing {
		go p.replace(w.slot)
	}
	return d
}

func (p *Pool) replace(slot int) {
	defer p.replacing.Done()
	var err error
	delay := 100 * time.Millisecond
	for range p.opts.MaxStartFailures {
		var w *proc
		w, err = p.start(context.Background(), slot)
		if err == nil {
			p.mu.Lock()
			p.restarts++
			p.mu.Unlock()
			p.release(w)
			return
		}
		select {
		case <-p.closed:
			return
		case <-time.After(delay):
		}
		delay *= 4
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live--
	if p.live == 0 && p.deadErr == nil {
		p.deadErr = fmt.Errorf("every worker slot failed to restart; last error: %w", err)
		close(p.dead)
	}
}

// Close shuts the workers down: idle ones get EOF on stdin and a second to
// exit, then every remaining one is killed. Evaluations in flight end with
// Status canceled.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil
	}
	p.closing = true
	procs := make([]*proc, 0, len(p.procs))
	for w := range p.procs {
		procs = append(procs, w)
	}
	p.mu.Unlock()
	for _, w := range procs {
		w.stdin.Close()
	}
	deadline := time.After(time.Second)
	for _, w := range procs {
		select {
		case <-w.exited:
		case <-deadline:
		}
	}
	for _, w := range procs {
		w.kill(CauseCanceled)
	}
	close(p.closed)
	p.replacing.Wait()
	for _, w := range procs {
		<-w.exited
		w.removeCgroup()
	}
	return nil
}

// proc is one worker process.
type proc struct {
	slot    int
	pid     int
	cmd     *exec.Cmd
	argv    []string
	stdin   *os.File
	fw      *frameWriter
	started time.Time

	ready      chan *Ready
	results    chan *Result
	readerDone chan struct{}
	readErr    error
	exited     chan struct{}
	stderrDone chan struct{}
	killed     chan struct{}
	tail       *ring

	oomBase  int64
	oomKnown bool
	cgroup   *memctl.Cgroup // its own cgroup v2 with memory.max, or nil

	mu        sync.Mutex
	state     *os.ProcessState
	phase     string
	lastFrame time.Time
	lastRSS   int64
	lastPoll  time.Time
	peakRSS   int64
	cause     string
	up        bool   // answered Ready; heartbeat checks start
	fatal     string // first fatal-looking stderr line
	sawOOM    bool   // stderr reported running out of memory
	certified *Death
	limits    string // what enforces its memory cap (Ready.Limits and the cgroup)
	baseRSS   int64  // RSS right after Ready
	inEval    bool
	evalPeak  int64  // largest RSS the parent saw during the current evaluation
	capBy     string // for CauseRSSCap: CapByPoll or CapByPeak
	capPeak   int64  // the RSS or peak that was over the cap
	tree      bool   // Ready.Tree: measure the worker's process tree (tree.go)
	note      string // the last DeathNote line of its stderr

	launcher Launcher // Options.Launcher: pid is the launcher's process
	rdy      *Ready   // the worker's Ready, once answered
	wpid     int      // with a launcher: the worker's own pid when it runs on this host (else 0)
}

// localPID is the pid the pool measures: the worker's own, which with a
// launcher is known only once the worker answered Ready on this host.
func (w *proc) localPID() (int, bool) {
	if w.launcher == nil {
		return w.pid, true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wpid, w.wpid > 0
}

// workerPID is the worker's own pid as it reported it (with a launcher,
// wherever it runs), or the pool's child's.
func (w *proc) workerPID() int {
	if w.launcher == nil {
		return w.pid
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rdy != nil && w.rdy.PID > 0 {
		return w.rdy.PID
	}
	return w.pid
}

// errRemote: the worker's memory cannot be read from here.
var errRemote = errors.New("the worker runs under a launcher and not (or not yet known) on this host")

// rss is the worker's VmRSS, or its process tree's when its objective runs
// in child processes (Ready.Tree).
func (w *proc) rss() (int64, error) {
	pid, ok := w.localPID()
	if !ok {
		return 0, errRemote
	}
	w.mu.Lock()
	tree := w.tree
	w.mu.Unlock()
	if tree {
		return TreeRSS(pid)
	}
	return monitor.ProcRSS(pid)
}

func (p *Pool) start(ctx context.Context, slot int) (*proc, error) {
	const op = "worker.start"
	o := p.opts
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, errs.New(errs.IO, op, "pipe: %v", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, errs.New(errs.IO, op, "pipe: %v", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, errs.New(errs.IO, op, "pipe: %v", err)
	}
	argv := o.Command
	if o.Launcher != nil {
		argv = o.Launcher.Wrap(slot, o.Command)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Dir = o.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = sysProcAttr()
	w := &proc{
		slot: slot, cmd: cmd, argv: argv, launcher: o.Launcher, stdin: inW, fw: &frameWriter{w: inW},
		ready: make(chan *Ready, 1), results: make(chan *Result, 4),
		readerDone: make(chan struct{}), exited: make(chan struct{}), stderrDone: make(chan struct{}),
		killed: make(chan struct{}), tail: &ring{max: 32 << 10}, phase: "start",
	}
	cgNote := p.cgNote
	if p.cgroups != nil {
		g, err := p.cgroups.New(fmt.Sprintf("w%d", slot), o.MaxRSSBytes)
		if err != nil {
			cgNote = err.Error()
		} else {
			w.cgroup = g
		}
	}
	w.oomBase, _, err = monitor.OOMKills()
	w.oomKnown = err == nil

	done := make(chan error, 1)
	select {
	case p.spawn <- spawnReq{cmd, done}:
		err = <-done
	case <-p.closed:
		err = errors.New("pool closed")
	}
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		w.removeCgroup()
		return nil, errs.New(errs.Unavailable, op, "starting worker %q: %v", argv[0], err)
	}
	w.pid = cmd.Process.Pid
	if w.cgroup != nil {
		// Before hello: the worker has built nothing yet.
		if err := w.cgroup.Add(w.pid); err != nil {
			cgNote = err.Error()
			w.removeCgroup()
		} else {
			cgNote = fmt.Sprintf("cgroup_v2 memory.max=%d (%s)", w.cgroup.MaxBytes, w.cgroup.Dir)
		}
	}
	w.started = time.Now()
	w.lastFrame = w.started
	p.mu.Lock()
	p.procs[w] = struct{}{}
	p.mu.Unlock()

	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		w.state = cmd.ProcessState
		w.mu.Unlock()
		_ = err
		close(w.exited)
	}()
	go w.readStdout(outR)
	go w.readStderr(errR, o.Stderr)
	go w.watch(o)

	hb := o.Heartbeat.Seconds()
	var report []string
	if o.Launcher != nil {
		report = o.Launcher.ReportEnv()
	}
	if err := w.fw.write(&frame{Type: frameHello, Hello: &Hello{Spec: o.Spec, Index: slot, MaxRSSBytes: o.MaxRSSBytes,
		LimitAddressSpace: o.LimitAddressSpace, GPUMaxBytes: o.GPUMaxBytes, HeartbeatS: hb, ReportEnv: report}}); err != nil {
		return nil, p.startFailed(w, fmt.Sprintf("it ended before answering hello (writing hello: %v)", err), errs.Unavailable)
	}
	timer := time.NewTimer(o.StartTimeout)
	defer timer.Stop()
	select {
	case r := <-w.ready:
		if r.Error != "" {
			kind := r.ErrorKind
			if kind == "" {
				kind = errs.Failed
			}
			return nil, p.startFailed(w, "its objective could not be built: "+r.Error, kind)
		}
		w.setPhase("idle")
		w.mu.Lock()
		w.tree = r.Tree
		w.rdy = r
		if w.launcher != nil && onThisHost(r) {
			w.wpid = r.PID
		}
		w.mu.Unlock()
		base, err := w.rss()
		if err != nil && w.launcher != nil {
			base = r.RSSBytes // measured by the worker itself, elsewhere
		}
		w.noteRSS(base)
		w.mu.Lock()
		w.up = true
		w.baseRSS = base
		w.limits = r.Limits
		if o.MaxRSSBytes > 0 && cgNote != "" {
			w.limits += "; " + cgNote
		}
		w.mu.Unlock()
		if o.OnStart != nil {
			o.OnStart(slot, *r)
		}
		return w, nil
	case <-w.readerDone:
		return nil, p.startFailed(w, "it ended before answering hello", errs.Unavailable)
	case <-timer.C:
		return nil, p.startFailed(w, fmt.Sprintf("no ready frame within %v", o.StartTimeout), errs.Unavailable)
	case <-ctx.Done():
		return nil, p.startFailed(w, "canceled", errs.Canceled)
	case <-p.closed:
		return nil, p.startFailed(w, "the pool closed", errs.Canceled)
	}
}

// startFailed kills a worker that did not start and describes why.
func (p *Pool) startFailed(w *proc, why, kind string) error {
	w.kill(CauseCanceled)
	<-w.exited
	select {
	case <-w.stderrDone:
	case <-time.After(time.Second):
	}
	w.removeCgroup()
	p.mu.Lock()
	delete(p.procs, w)
	p.mu.Unlock()
	e := errs.New(kind, "worker.start", "worker %d (pid %d, %q) failed to start: %s", w.slot, w.pid, w.argv[0], why)
	if t := w.tail.tail(10); t != "" {
		e.Msg += "; stderr: " + t
	}
	return e
}

func (w *proc) readStdout(r *os.File) {
	defer close(w.readerDone)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		f, err := readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				w.mu.Lock()
				w.readErr = err
				w.mu.Unlock()
				w.kill(CauseProtocol)
			}
			return
		}
		w.mu.Lock()
		w.lastFrame = time.Now()
		w.mu.Unlock()
		switch f.Type {
		case frameReady:
			if f.Ready != nil {
				select {
				case w.ready <- f.Ready:
				default:
				}
			}
		case frameHeartbeat:
			if f.Heartbeat != nil {
				w.setPhase(f.Heartbeat.Phase)
				w.mu.Lock()
				tree := w.tree
				w.mu.Unlock()
				if !tree { // the worker's own RSS: the poll measures a tree
					w.noteRSS(f.Heartbeat.RSSBytes)
				}
			}
		case frameResult:
			if f.Result != nil {
				w.setPhase(f.Result.Phase)
				w.results <- f.Result
			}
		}
	}
}

func (w *proc) readStderr(r *os.File, copyTo io.Writer) {
	defer close(w.stderrDone)
	defer r.Close()
	br := bufio.NewReaderSize(r, 16<<10)
	prefix := fmt.Sprintf("[worker %d pid %d] ", w.slot, w.pid)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.tail.Write(line)
			w.noteStderr(line)
			if copyTo != nil {
				copyTo.Write(append([]byte(prefix), line...))
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// watch polls the worker's RSS and its heartbeat until it exits.
func (w *proc) watch(o Options) {
	t := time.NewTicker(o.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-w.exited:
			return
		case <-t.C:
		}
		if rss, err := w.rss(); err == nil {
			w.noteRSS(rss)
			w.mu.Lock()
			up := w.up
			w.mu.Unlock()
			// Not before Ready: a worker's start is bounded by its start
			// limits (and cgroup), and a cap below its baseline is refused
			// by NewPool with a clear message, not killed half-way.
			if up && o.MaxRSSBytes > 0 && rss > o.MaxRSSBytes {
				w.killCap(CapByPoll, rss)
			}
		}
		if o.HeartbeatTimeout > 0 {
			w.mu.Lock()
			silent, up := time.Since(w.lastFrame), w.up
			w.mu.Unlock()
			if up && silent > o.HeartbeatTimeout {
				w.kill(CauseHeartbeat)
			}
		}
	}
}

// noteStderr remembers the first line that explains a crash, which a long
// goroutine dump would push out of the tail.
func (w *proc) noteStderr(line []byte) {
	l := strings.TrimSpace(string(line))
	if note, ok := strings.CutPrefix(l, DeathNote); ok {
		w.mu.Lock()
		w.note = note
		w.mu.Unlock()
		return
	}
	fatal, oom := isFatalLine(l), runtimeOOM(l)
	if !fatal && !oom {
		return
	}
	w.mu.Lock()
	if w.fatal == "" && fatal {
		w.fatal = l
	}
	w.sawOOM = w.sawOOM || oom
	w.mu.Unlock()
}

func (w *proc) noteRSS(rss int64) {
	if rss <= 0 {
		return
	}
	w.mu.Lock()
	w.lastRSS, w.lastPoll = rss, time.Now()
	w.peakRSS = max(w.peakRSS, rss)
	if w.inEval {
		w.evalPeak = max(w.evalPeak, rss)
	}
	w.mu.Unlock()
}

func (w *proc) beginEval() {
	w.mu.Lock()
	w.inEval, w.evalPeak = true, 0
	w.mu.Unlock()
}

// endEval returns the evaluation's peak RSS: the worker's own VmHWM (reset
// at the evaluation's start) or, where that reset is unavailable, the
// largest RSS the parent saw during the evaluation.
func (w *proc) endEval(res Result) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inEval = false
	peak := w.evalPeak
	if res.PeakRSSScope == PeakEval {
		peak = max(peak, res.PeakRSSBytes)
	}
	w.peakRSS = max(w.peakRSS, peak)
	return peak
}

// killCap kills the worker for its memory cap, saying what caught it.
func (w *proc) killCap(by string, rss int64) {
	w.mu.Lock()
	if w.cause == "" {
		w.capBy, w.capPeak = by, rss
	}
	w.mu.Unlock()
	w.kill(CauseRSSCap)
}

// removeCgroup removes the worker's cgroup once it is empty (again on a
// later call if it is not yet).
func (w *proc) removeCgroup() {
	if w.cgroup == nil {
		return
	}
	for i := 0; i < 50; i++ {
		if w.cgroup.Remove() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // the kernel empties it a moment after the exit
	}
}

func (w *proc) setPhase(ph string) {
	if ph == "" {
		return
	}
	w.mu.Lock()
	w.phase = ph
	w.mu.Unlock()
}

// kill SIGKILLs the worker's process group; the first cause given wins.
func (w *proc) kill(cause string) {
	w.mu.Lock()
	first := w.cause == ""
	if first {
		w.cause = cause
	}
	w.mu.Unlock()
	if !first {
		return
	}
	ended := false
	select {
	case <-w.exited:
		ended = true // with a launcher: its step ended with it
	default:
	}
	syscall.Kill(-w.pid, syscall.SIGKILL)
	w.cmd.Process.Kill()
	close(w.killed)
	if !ended {
		w.stopLaunched()
	}
}

// stopLaunched asks the launcher to end what the kill of its process may
// have left of the worker (a Slurm step goes on without srun).
func (w *proc) stopLaunched() {
	if w.launcher == nil {
		return
	}
	w.mu.Lock()
	r := w.rdy
	w.mu.Unlock()
	w.launcher.Stop(w.slot, r)
}

// onThisHost reports whether a worker that answered r runs on this host,
// where the pool can read its /proc.
func onThisHost(r *Ready) bool {
	host, err := os.Hostname()
	if err != nil || r.Host != host || r.PID <= 0 {
		return false
	}
	_, err = os.Stat(fmt.Sprintf("/proc/%d", r.PID))
	return err == nil
}

func (w *proc) isDead() bool {
	select {
	case <-w.exited:
		return true
	case <-w.killed:
		return true
	case <-w.readerDone:
		return true
	default:
		return false
	}
}

// eval sends req and waits for its result or the worker's end. alive is false
// when the worker is dead or was killed (the caller buries it). A Status of
// "" means the death decides it.
func (w *proc) eval(ctx context.Context, req Request, timeout, grace time.Duration) (res Result, alive bool) {
	if err := w.fw.write(&frame{Type: frameEval, Eval: &req}); err != nil {
		return Result{}, false
	}
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout + grace)
		defer t.Stop()
		tc = t.C
	}
	for {
		select {
		case r := <-w.results:
			if r.ID == req.ID {
				return *r, true
			}
		case <-w.readerDone:
			select { // a result sent just before the end still counts
			case r := <-w.results:
				if r.ID == req.ID {
					return *r, false
				}
			default:
			}
			return Result{}, false
		case <-w.exited:
			select {
			case <-w.readerDone:
			case <-time.After(time.Second):
			}
			select {
			case r := <-w.results:
				if r.ID == req.ID {
					return *r, false
				}
			default:
			}
			return Result{}, false
		case <-w.killed:
			return Result{}, false
		case <-tc:
			w.kill(CauseTimeout)
			return Result{}, false
		case <-ctx.Done():
			w.kill(CauseCanceled)
			return Result{Status: StatusCanceled, Error: ctx.Err().Error(), ErrorKind: errs.Canceled}, false
		}
	}
}

// certificate waits for the worker's end (killing it if it lingers) and
// describes its death. It is computed once.
func (w *proc) certificate(o Options, reqID uint64) Death {
	w.mu.Lock()
	if w.certified != nil {
		d := *w.certified
		w.mu.Unlock()
		return d
	}
	w.mu.Unlock()
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		// It closed stdout but does not exit (or the machine is very
		// busy): kill it without changing the recorded cause.
		syscall.Kill(-w.pid, syscall.SIGKILL)
		w.cmd.Process.Kill()
		w.stopLaunched()
		<-w.exited
	}
	select {
	case <-w.stderrDone:
	case <-time.After(time.Second):
	}
	cgKills, cgErr := int64(0), error(nil)
	if w.cgroup != nil {
		cgKills, cgErr = w.cgroup.OOMKills()
		w.removeCgroup()
	}
	now := time.Now()
	pid := w.workerPID() // with a launcher, the worker's own
	w.mu.Lock()
	defer w.mu.Unlock()
	d := Death{
		PID: pid, Worker: w.slot, RequestID: reqID, Phase: w.phase, PeakRSSBytes: w.peakRSS,
		StderrTail: w.tail.tail(o.StderrTailLines), Command: w.argv,
		Started: stamp(w.started, now), Time: stamp(now, now),
		ExitCode: -1, MaxRSSBytes: o.MaxRSSBytes, Limits: w.limits,
	}
	if n, _, err := monitor.OOMKills(); err == nil && w.oomKnown {
		d.OOMKillDelta = OOMDelta{N: n - w.oomBase, Known: true}
	}
	d.LastMonitor = map[string]any{"time": stamp(now, now)}
	if w.lastRSS > 0 {
		d.LastMonitor = map[string]any{"rss_bytes": w.lastRSS, "time": stamp(w.lastPoll, now)}
	}
	if o.LastMonitor != nil {
		mergeMonitor(d.LastMonitor, o.LastMonitor())
	}
	var ws syscall.WaitStatus
	if w.state != nil {
		ws, _ = w.state.Sys().(syscall.WaitStatus)
		d.ExitCode = w.state.ExitCode()
	}
	signaled := w.state != nil && ws.Signaled()
	if signaled {
		d.Signal = SignalName(ws.Signal())
	}
	how := fmt.Sprintf("exited with status %d", d.ExitCode)
	if signaled {
		how = "was killed by " + d.Signal
	}
	d.Cause = w.cause
	switch w.cause {
	case CauseTimeout:
		d.Reason = fmt.Sprintf("evaluation ran past its timeout in phase %q; the pool killed worker %d (pid %d)", d.Phase, w.slot, pid)
	case CauseHeartbeat:
		d.HeartbeatTimeout = true
		d.Reason = fmt.Sprintf("worker %d (pid %d) sent nothing for %v; the pool killed it", w.slot, pid, o.HeartbeatTimeout)
	case CauseRSSCap:
		d.CapEnforcedBy = w.capBy
		if w.capBy == CapByPeak {
			d.Reason = fmt.Sprintf("the evaluation peaked at %d bytes of RAM (its VmHWM), above the worker's memory cap of %d (max_rss); it ended before the pool's RSS poll saw it, so the pool marked it oom and killed worker %d (pid %d), whose memory it may still hold", w.capPeak, o.MaxRSSBytes, w.slot, pid)
		} else {
			d.Reason = fmt.Sprintf("worker %d (pid %d) used %d bytes of RAM, above its memory cap of %d (max_rss); the pool's RSS poll saw it and killed the worker", w.slot, pid, w.capPeak, o.MaxRSSBytes)
		}
	case CauseProtocol:
		d.Reason = fmt.Sprintf("worker %d (pid %d) broke the frame protocol (%v) and %s", w.slot, pid, w.readErr, how)
	case CauseCanceled:
		d.Reason = fmt.Sprintf("worker %d (pid %d) was stopped: the evaluation was canceled or the pool closed", w.slot, pid)
	default:
		switch {
		case signaled && ws.Signal() == syscall.SIGKILL && cgErr == nil && cgKills > 0:
			d.Cause, d.CapEnforcedBy = CauseOOMKill, CapByCgroup
			d.Reason = fmt.Sprintf("worker %d (pid %d) went over its memory cap of %d bytes (max_rss) and the kernel's OOM killer killed it at its cgroup's memory.max (memory.events oom_kill %d)", w.slot, pid, o.MaxRSSBytes, cgKills)
		case (w.sawOOM || runtimeOOM(d.StderrTail)) && o.MaxRSSBytes > 0 && strings.Contains(w.limits, "rlimit_data="):
			d.Cause, d.CapEnforcedBy = CauseRuntimeOOM, CapByRlimit
			d.Reason = fmt.Sprintf("worker %d (pid %d) ran out of memory: an allocation failed against its RLIMIT_DATA, set from its memory cap of %d bytes (max_rss), and it %s", w.slot, pid, o.MaxRSSBytes, how)
		case w.sawOOM || runtimeOOM(d.StderrTail):
			d.Cause = CauseRuntimeOOM
			d.Reason = fmt.Sprintf("worker %d (pid %d) ran out of memory (its memory limit or the host's) and %s", w.slot, pid, how)
		case signaled && ws.Signal() == syscall.SIGKILL && d.OOMKillDelta.Known && d.OOMKillDelta.N > 0:
			d.Cause = CauseOOMKill
			d.Reason = fmt.Sprintf("worker %d (pid %d) was killed by the kernel's OOM killer (cgroup oom_kill +%d)", w.slot, pid, d.OOMKillDelta.N)
		case signaled:
			d.Cause = CauseSignal
			d.Reason = fmt.Sprintf("worker %d (pid %d) %s in phase %q", w.slot, pid, how, d.Phase)
		case goSignal(w.fatal) != "":
			d.Cause = CauseSignal
			d.Signal = goSignal(w.fatal)
			d.Reason = fmt.Sprintf("worker %d (pid %d) got %s (reported by the Go runtime, which then %s) in phase %q", w.slot, pid, d.Signal, how, d.Phase)
		default:
			d.Cause = CauseExit
			d.Reason = fmt.Sprintf("worker %d (pid %d) %s in phase %q", w.slot, pid, how, d.Phase)
		}
	}
	if w.launcher != nil {
		w.launcher.Explain(&d, w.rdy, w.tail.tail(200))
	}
	if w.fatal != "" {
		d.Fatal = w.fatal
		if !strings.Contains(d.StderrTail, w.fatal) {
			d.Reason += ": " + w.fatal
		}
	}
	if w.note != "" {
		d.Reason += "; " + w.note
	}
	w.certified = &d
	return d
}

// stamp formats t for a certificate; a zero t (never set) becomes def.
func stamp(t, def time.Time) string {
	if t.IsZero() {
		t = def
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// mergeMonitor adds the caller's monitor values (the last monitor.csv row)
// to a certificate's last_monitor. The pool's own values (the worker's last
// RSS and when it was read) stay; a caller value under the same key is kept
// as "monitor_KEY". A zero time (a monitor with no row yet) is left out.
func mergeMonitor(dst, src map[string]any) {
	for k, v := range src {
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.IsZero() {
				continue
			}
		}
		if _, taken := dst[k]; taken {
			k = "monitor_" + k
		}
		dst[k] = v
	}
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGABRT: "SIGABRT", syscall.SIGKILL: "SIGKILL", syscall.SIGBUS: "SIGBUS",
	syscall.SIGILL: "SIGILL", syscall.SIGFPE: "SIGFPE", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT",
	syscall.SIGHUP: "SIGHUP", syscall.SIGPIPE: "SIGPIPE", syscall.SIGQUIT: "SIGQUIT", syscall.SIGTRAP: "SIGTRAP",
	syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGSYS: "SIGSYS", syscall.SIGALRM: "SIGALRM",
}

// SignalName is a signal's name as death certificates write it ("SIGSEGV"),
// or "signal N".
func SignalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
