package run

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/memctl"
	"bohost/host/monitor"
	"bohost/host/objective"
	"bohost/host/worker"
)

// Failure policies (Config.OnFailure).
const (
	FailWorst = "worst" // tell the optimiser the worst score seen so far
	FailSkip  = "skip"  // tell it nothing useful (the point is dropped from the model)
	FailRetry = "retry" // evaluate again up to Retries times, then RetryFallback
)

// Config is a run's configuration: what config.json records and what a
// resume must find unchanged (Iterations, Workers, CheckpointEvery and Sweep
// may change between sessions).
//
// An option is declared here once. Its json tag is its name everywhere: in
// config.json (written from this struct, and read back by ReadConfig), in
// bo.run's options table (the Lua binding decodes the table into this struct
// with lua.Decode; the `lua` and `zero` tags say what Lua may not give: see
// host/lua/decode.go) and in every validation message. A new option is a
// field here and its line in docs/runs.md.
type Config struct {
	// Dir is the run directory (created if needed; an existing one resumes).
	Dir string `json:"-" lua:"dir,required"`
	// Optimizer configures bo.New. With an airline objective, an empty Space
	// is the evaluator's space and an empty Env is the data set's
	// environment list (one normalised envfeat vector per image).
	Optimizer bo.Config `json:"optimizer"`
	// Objective is the worker spec: {"airline": {...}}, {"lua": {"file":,
	// "fn":}} or {"command": {"command": [...], ...}} (an external
	// evaluator, host/extproc) (see host/objective), or anything the worker's factory
	// understands. Required. A relative Lua objective file is taken from the
	// working directory when it is there, else from the script's directory.
	Objective json.RawMessage `json:"objective" lua:",required"`
	// Iterations is the number of BO iterations after the initial design
	// (default 30).
	Iterations int `json:"iterations" lua:",count"`
	// CheckpointEvery writes checkpoint.json every k iterations (default 1;
	// negative: only at the end). The journal alone always suffices to
	// resume; checkpoints only make resuming faster.
	CheckpointEvery int `json:"checkpoint_every" zero:"must be >= 1 (every k iterations) or negative (only at the end)"`
	// Workers is the number of worker processes (default runtime.NumCPU()).
	Workers int `json:"workers" lua:",count"`
	// InFlight is how many BO iterations may be in flight at once: once
	// iteration g is told, iterations up to g + InFlight are asked, each
	// conditioned on the pending ones (pipeline.go). Default, for a new run:
	// enough to keep every worker busy (Workers in pair mode, Workers / n_w
	// rounded up in all_w mode); a resumed run keeps the value it was made
	// with (1 for runs made before this option), since the trial sequence
	// depends on it.
	InFlight int `json:"in_flight,omitempty" lua:",count"`
	// Schedule is the order in which the evaluations of iterations in
	// flight are told (pipeline.go): "fifo", iteration by iteration, each
	// asked once the oldest is told; or "interleave" (all_w mode), the
	// in-flight x's take turns, one w each, and a new x is asked as one
	// finishes, so every x proposed is conditioned on part of the pending
	// x's results. Default, for a new run: interleave in all_w mode with
	// in_flight > 1, else fifo; a resumed run keeps its own (fifo for runs
	// made before this option).
	Schedule string `json:"schedule,omitempty" lua:",enum=fifo|interleave"`
	// TimeoutS is the per-evaluation timeout in seconds (default 120;
	// negative: none).
	TimeoutS float64 `json:"timeout_s" zero:"must be > 0 seconds, or negative for no timeout"`
	// MaxRSS caps each worker's memory: bytes, or a size such as "4GiB" or
	// "80%" (memctl.ParseSize); "": none. MaxRSSBytes is it in bytes (filled
	// in from MaxRSS when 0).
	MaxRSS      string `json:"max_rss" lua:",size"`
	MaxRSSBytes int64  `json:"max_rss_bytes" lua:"-"`
	// OnFailure is "worst" (default), "skip" or "retry".
	OnFailure string `json:"on_failure" lua:",enum=worst|skip|retry"`
	// Retries is the number of extra attempts under "retry" (default 2).
	Retries int `json:"retries" zero:"must be >= 1 (the extra attempts of on_failure = \"retry\"; for none, set on_failure to \"worst\" or \"skip\")"`
	// RetryFallback is what "retry" does once retries are exhausted:
	// "worst" (default) or "skip".
	RetryFallback string `json:"retry_fallback" lua:",enum=worst|skip"`
	// MaxConsecutiveFailures stops the run (status failed) when more
	// evaluations than this fail in a row (default 10).
	MaxConsecutiveFailures int `json:"max_consecutive_failures" lua:",count"`
	// Executor is where the workers run: "local" (default: child processes
	// of the run) or "slurm" (each worker a Slurm job step started with
	// srun, inside the allocation the run is in, or a job of its own; its
	// resources in Slurm). Like Workers, it may change between sessions.
	Executor string `json:"executor" lua:",enum=local|slurm"`
	// Slurm are the resources of each worker's job step (executor "slurm").
	Slurm *SlurmSteps `json:"slurm,omitempty"`
	// Faults enables bohost.fault in the workers (tests, diagnose).
	Faults bool `json:"faults"`
	// Script and Args are the script that made the run and its arguments:
	// script.lua and args.json are copies, and a changed script refuses a
	// resume unless forced; a run that had finished, with nothing else
	// changed, is reused with a warning. Both optional.
	Script string   `json:"-"`
	Args   []string `json:"-"`
	// Data describes the data set (filled in for airline objectives).
	Data *DataInfo `json:"data" lua:"-"`
	// Sweep is free-form (e.g. the alphas of a sweep).
	Sweep map[string]any `json:"sweep"`
}

// Executors (Config.Executor).
const (
	ExecLocal = "local"
	ExecSlurm = "slurm"
)

// SlurmSteps are the srun options of each worker's job step (host/slurm).
type SlurmSteps struct {
	// GPUsPerTask is srun's --gpus-per-task (0: none).
	GPUsPerTask int `json:"gpus_per_task,omitempty"`
	// CPUsPerTask is srun's --cpus-per-task (0: Slurm's default).
	CPUsPerTask int `json:"cpus_per_task,omitempty"`
	// Mem is the step's memory, a Slurm size such as "4G" (srun --mem;
	// Slurm kills a step over it: status oom, cap_enforced_by slurm_mem).
	Mem string `json:"mem,omitempty"`
	// SrunArgs are more srun options ({"--partition=gpu"}).
	SrunArgs []string `json:"srun_args,omitempty"`
}

// DataInfo is the data set of a run.
type DataInfo struct {
	Dir   string `json:"dir"`
	Split string `json:"split"`
}

// Options are the run's process-level settings: nothing here is recorded
// or checked on resume.
type Options struct {
	// WorkerCommand is the argv of a worker (e.g. {exe, "worker"}); required
	// unless NewDispatcher ignores it.
	WorkerCommand []string
	// WorkerEnv is added to the workers' environment.
	WorkerEnv []string
	// NewDispatcher makes the dispatcher (default: a local worker.Pool).
	NewDispatcher func(ctx context.Context, o worker.Options) (worker.Dispatcher, error)
	// Log receives log lines and the progress bar (default io.Discard).
	Log io.Writer
	// Progress draws a progress bar with ETA and best CVaR on Log when
	// Terminal is true; otherwise a plain line per iteration is logged.
	// Like Force, a Lua option of bo.run (the lua tag names it).
	Progress bool `lua:"progress"`
	Terminal bool
	// OnIteration is called after each iteration's record is written;
	// Every[k] every k iterations. A hook error is logged as a hook_error
	// event and the run goes on, unless HookErrorsFatal.
	OnIteration     func(r *Run, it Iteration) error
	Every           map[int]func(r *Run) error
	HookErrorsFatal bool
	// Force resumes a run whose configuration, script or data set changed.
	Force bool `lua:"force"`
	// MonitorInterval is the period of monitor.csv rows (default 5 s).
	MonitorInterval time.Duration
	// MemLimitBytes is the soft memory limit passed to workers
	// (BOHOST_MEM_LIMIT); 0: this process's own limit, if any.
	MemLimitBytes int64
	// GPU is the monitor's GPU probe (nil: empty gpu cells).
	GPU func() (monitor.GPUInfo, bool)
	// WorkersGPU is the monitor's probe of the device memory the workers'
	// processes hold (nil: empty workers_gpu_bytes cells); FromProcess sets
	// it to NVML's per-process figures.
	WorkersGPU func(pids []int) (int64, bool)
	// StderrTo copies worker stderr (nil: kept only for death certificates).
	StderrTo io.Writer
	// KeepMemory skips the full collection (runtime.GC and the return of
	// free memory to the OS) after every iteration. Default false: the
	// collection costs milliseconds and keeps the host's resident set, as
	// monitor.csv shows it, at what the run really holds.
	KeepMemory bool
	// TestKill is a test hook "phase:n[:delay_us]": SIGKILL this process at
	// the n-th time it reaches phase (fit, eval, journal, tell, iteration,
	// checkpoint), after delay_us microseconds while the phase runs.
	TestKill string
}

func (c *Config) defaults() {
	if c.Iterations == 0 {
		c.Iterations = 30
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 1
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.TimeoutS == 0 {
		c.TimeoutS = 120
	}
	if c.OnFailure == "" {
		c.OnFailure = FailWorst
	}
	if c.OnFailure == FailRetry && c.Retries == 0 {
		c.Retries = 2
	}
	if c.RetryFallback == "" {
		c.RetryFallback = FailWorst
	}
	if c.MaxConsecutiveFailures == 0 {
		c.MaxConsecutiveFailures = 10
	}
	if c.Executor == "" {
		c.Executor = ExecLocal
	}
	if c.MaxRSSBytes == 0 && c.MaxRSS != "" {
		c.MaxRSSBytes, _ = memctl.ParseSize(c.MaxRSS, "max_rss") // an error is Validate's
	}
	c.Objective = resolveObjectiveFile(c.Objective, c.Script)
}

// resolveObjectiveFile makes a Lua objective's relative file absolute:
// relative to the working directory when it exists there, else to the
// script's directory. Anything else is returned as it is.
func resolveObjectiveFile(spec json.RawMessage, script string) json.RawMessage {
	var m map[string]map[string]json.RawMessage
	if json.Unmarshal(spec, &m) != nil || len(m) != 1 || m["lua"] == nil {
		return spec
	}
	var file string
	if json.Unmarshal(m["lua"]["file"], &file) != nil || file == "" || filepath.IsAbs(file) {
		return spec
	}
	if _, err := os.Stat(file); err != nil && script != "" {
		if alt := filepath.Join(filepath.Dir(script), file); fileExists(alt) {
			file = alt
		}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return spec
	}
	m["lua"]["file"], _ = json.Marshal(abs)
	b, err := json.Marshal(m)
	if err != nil {
		return spec
	}
	return b
}

// Validate reports the first bad field (after defaults) as a bad_arg error
// naming it as bo.run and config.json do: "workers", "optimizer.n_w".
func (c Config) Validate() error {
	const op = "run.config"
	c.defaults()
	bad := func(f string, a ...any) error { return errs.New(errs.BadArg, op, f, a...) }
	switch {
	case c.Dir == "":
		return bad("dir is required (the run directory)")
	case len(c.Objective) == 0:
		return bad("objective is required: {airline = {...}}, {file = ..., fn = ...} or {command = {...}}")
	case c.Iterations < 0:
		return bad("iterations must be >= 0, got %d", c.Iterations)
	case c.Workers < 1 || c.Workers > 1024:
		return bad("workers must be in [1, 1024], got %d", c.Workers)
	case math.IsNaN(c.TimeoutS):
		return bad("timeout_s must be > 0 seconds, or negative for no timeout, got NaN")
	case c.MaxRSSBytes < 0:
		return bad("max_rss must be >= 0 bytes, got %d", c.MaxRSSBytes)
	case c.OnFailure != FailWorst && c.OnFailure != FailSkip && c.OnFailure != FailRetry:
		return bad("on_failure must be \"worst\", \"skip\" or \"retry\", got %q", c.OnFailure)
	case c.Retries < 0 || c.Retries > 100:
		return bad("retries must be in [0, 100], got %d", c.Retries)
	case c.RetryFallback != FailWorst && c.RetryFallback != FailSkip:
		return bad("retry_fallback must be \"worst\" or \"skip\", got %q", c.RetryFallback)
	case c.MaxConsecutiveFailures < 1:
		return bad("max_consecutive_failures must be >= 1, got %d", c.MaxConsecutiveFailures)
	case c.Executor != ExecLocal && c.Executor != ExecSlurm:
		return bad("executor must be \"local\" or \"slurm\", got %q", c.Executor)
	case c.Slurm != nil && (c.Slurm.GPUsPerTask < 0 || c.Slurm.CPUsPerTask < 0):
		return bad("slurm.gpus_per_task and slurm.cpus_per_task must be >= 0, got %d and %d", c.Slurm.GPUsPerTask, c.Slurm.CPUsPerTask)
	case c.Slurm != nil && !slurmMem.MatchString(c.Slurm.Mem):
		return bad("slurm.mem must be a Slurm size such as \"4G\" or \"500M\" (a number, then K, M, G or T), got %q", c.Slurm.Mem)
	case c.Optimizer.Seed > 1<<53:
		return bad("optimizer.seed must be <= 2^53 (it is stored as a JSON number), got %d", c.Optimizer.Seed)
	}
	if c.MaxRSS != "" {
		if _, err := memctl.ParseSize(c.MaxRSS, "max_rss"); err != nil {
			return errs.Wrap(errs.BadArg, op, err)
		}
	}
	if !json.Valid(c.Objective) {
		return bad("objective is not valid JSON")
	}
	return c.validateOptimizer()
}

// slurmMem is a Slurm memory size (srun --mem), or "".
var slurmMem = regexp.MustCompile(`^([0-9]+[KMGT]?)?$`)

// validateOptimizer checks the optimiser's options before the objective is
// opened. An airline objective supplies a missing space (the evaluator's)
// and env (one w per image) when the run opens; until then placeholders
// stand in for them, so that everything else is checked at once.
func (c Config) validateOptimizer() error {
	oc := c.Optimizer
	noSpace, noEnv := len(oc.Space) == 0, len(oc.Env.List) == 0 && len(oc.Env.Bounds) == 0
	if spec, err := objective.ParseSpec(c.Objective); err == nil && spec.Airline != nil {
		if noSpace {
			oc.Space, oc.Names, oc.Scales = [][2]float64{{0, 1}}, nil, nil
			if len(oc.InitialX) > 0 {
				// initial_x is checked against the evaluator's space when
				// the run opens; here only its shape.
				oc.Space = make([][2]float64, len(oc.InitialX[0]))
				for k := range oc.Space {
					lo, hi := math.Inf(1), math.Inf(-1)
					for _, x := range oc.InitialX {
						if k < len(x) {
							lo, hi = math.Min(lo, x[k]), math.Max(hi, x[k])
						}
					}
					oc.Space[k] = [2]float64{lo - 1, hi + 1}
				}
			}
		}
		if noEnv {
			oc.Env = placeholderEnv(oc)
		}
	} else if noSpace && noEnv {
		return errs.New(errs.BadArg, "run.config", "optimizer is required: the options of bo.optimizer (space, env, alpha, ...)")
	}
	return optimizerError(oc.Validate())
}

// placeholderEnv stands in for the environments an airline objective will
// supply: a box, or for a finite-environment selection a list long enough
// for the selection's own checks.
func placeholderEnv(oc bo.Config) bo.Env {
	e := oc.Env
	if e.Select != bo.SelectSnap && e.Select != bo.SelectFixed {
		e.Bounds = [][2]float64{{0, 1}}
		return e
	}
	n := max(oc.NW, 16)
	for _, i := range e.Indices {
		n = max(n, i+1)
	}
	for i := range n {
		e.List = append(e.List, []float64{float64(i)})
	}
	return e
}

// optimizerError names a refused optimiser field by its place in the run's
// options and config.json: "optimizer.n_w".
func optimizerError(err error) error {
	var e *errs.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	e2 := *e
	if !strings.HasPrefix(e2.Msg, "optimizer") {
		e2.Msg = "optimizer." + e2.Msg
	}
	return &e2
}
