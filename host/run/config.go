package run

import (
	"context"
	"encoding/json"
	"io"
	"runtime"
	"time"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/monitor"
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
type Config struct {
	// Dir is the run directory (created if needed; an existing one resumes).
	Dir string
	// Optimizer configures bo.New. With an airline objective, an empty Space
	// is the evaluator's space and an empty Env is the data set's
	// environment list (one normalised envfeat vector per image).
	Optimizer bo.Config
	// Objective is the worker spec: {"airline": {...}} or {"lua": {"file":,
	// "fn":}} (see host/objective), or anything the worker's factory
	// understands. Required.
	Objective json.RawMessage
	// Iterations is the number of BO iterations after the initial design
	// (default 30).
	Iterations int
	// CheckpointEvery writes checkpoint.json every k iterations (default 1;
	// negative: only at the end). The journal alone always suffices to
	// resume; checkpoints only make resuming faster.
	CheckpointEvery int
	// Workers is the number of worker processes (default runtime.NumCPU()).
	Workers int
	// TimeoutS is the per-evaluation timeout in seconds (default 120;
	// negative: none).
	TimeoutS float64
	// MaxRSSBytes caps each worker's memory (0: none); MaxRSS is the string it
	// was given as, recorded in config.json.
	MaxRSSBytes int64
	MaxRSS      string
	// OnFailure is "worst" (default), "skip" or "retry".
	OnFailure string
	// Retries is the number of extra attempts under "retry" (default 2).
	Retries int
	// RetryFallback is what "retry" does once retries are exhausted:
	// "worst" (default) or "skip".
	RetryFallback string
	// MaxConsecutiveFailures stops the run (status failed) when more
	// evaluations than this fail in a row (default 10).
	MaxConsecutiveFailures int
	// Faults enables bohost.fault in the workers (tests, diagnose).
	Faults bool
	// Script and Args are the script that made the run and its arguments:
	// script.lua and args.json are copies, and a changed script refuses a
	// resume unless forced; a run that had finished, with nothing else
	// changed, is reused with a warning. Both optional.
	Script string
	Args   []string
	// Data describes the data set for config.json (filled in for airline
	// objectives).
	Data *DataInfo
	// Sweep is free-form (e.g. the alphas of a sweep).
	Sweep map[string]any
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
	Progress bool
	Terminal bool
	// OnIteration is called after each iteration's record is written;
	// Every[k] every k iterations. A hook error is logged as a hook_error
	// event and the run goes on, unless HookErrorsFatal.
	OnIteration     func(r *Run, it Iteration) error
	Every           map[int]func(r *Run) error
	HookErrorsFatal bool
	// Force resumes a run whose configuration, script or data set changed.
	Force bool
	// MonitorInterval is the period of monitor.csv rows (default 5 s).
	MonitorInterval time.Duration
	// MemLimitBytes is the soft memory limit passed to workers
	// (BOHOST_MEM_LIMIT); 0: this process's own limit, if any.
	MemLimitBytes int64
	// GPU is the monitor's GPU probe (nil: empty gpu cells).
	GPU func() (monitor.GPUInfo, bool)
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
}

// Validate reports the first bad field (after defaults) as a bad_arg error.
func (c Config) Validate() error {
	const op = "run.config"
	c.defaults()
	bad := func(f string, a ...any) error { return errs.New(errs.BadArg, op, f, a...) }
	switch {
	case c.Dir == "":
		return bad("dir is required (the run directory)")
	case len(c.Objective) == 0:
		return bad("objective is required: {airline = {...}} or {file = ..., fn = ...}")
	case c.Iterations < 0:
		return bad("iterations must be >= 0, got %d", c.Iterations)
	case c.Workers < 1 || c.Workers > 1024:
		return bad("workers must be in [1, 1024], got %d", c.Workers)
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
	case c.Optimizer.Seed > 1<<53:
		return bad("seed must be <= 2^53 (it is stored as a JSON number), got %d", c.Optimizer.Seed)
	}
	if !json.Valid(c.Objective) {
		return bad("objective is not valid JSON")
	}
	return nil
}
