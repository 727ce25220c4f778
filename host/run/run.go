package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"bohost/host/bo"
	"bohost/host/ckpt"
	"bohost/host/errs"
	"bohost/host/internal/num"
	"bohost/host/journal"
	"bohost/host/monitor"
	"bohost/host/objective"
	"bohost/host/risk"
	"bohost/host/version"
	"bohost/host/worker"
)

// File names of the run directory (docs/rundir.md).
const (
	ConfigFile     = "config.json"
	ScriptFile     = "script.lua"
	ArgsFile       = "args.json"
	ManifestFile   = "manifest.json"
	TrialsFile     = "trials.jsonl"
	IterationsFile = "iterations.jsonl"
	EventsFile     = "events.jsonl"
	MonitorFile    = "monitor.csv"
	SummaryFile    = "summary.json"
	CheckpointFile = "checkpoint.json"
	FinalDir       = "final"
)

// RunDirEnv is set in the workers' environment to the run directory's
// absolute path.
const RunDirEnv = "BOHOST_RUN_DIR"

// Run is one experiment run over a run directory. Open prepares it (a new
// directory, or a resume of an existing one), Execute runs the remaining
// iterations, Close releases the workers and files. A Run is driven by one
// goroutine; hooks are called on it.
type Run struct {
	cfg   Config
	opts  Options
	dir   string
	codec *ckpt.Codec

	opt    *bo.Optimizer
	names  []string
	envIDs []string
	air    *objective.Airline

	trials, iters, events *journal.Writer
	mon                   *monitor.Sampler
	disp                  worker.Dispatcher
	prog                  *progress
	kill                  *testKill

	start    time.Time // the run's start (this session's start minus earlier sessions' elapsed)
	session  time.Time
	sessions int

	nTrials        int // lines in trials.jsonl
	nTold          int // evaluations told (final attempts)
	lastIterRec    int // last iteration with a line in iterations.jsonl (-1: none)
	carry          int // attempts already journaled for the first pending candidate
	failures       map[string]int
	consecutive    int
	last           *Iteration
	finished       *Summary // set when the directory holds a finished run
	forced         bool     // resumed with Force over changed settings
	forceDiffs     []string
	scriptNote     string       // a finished run reopened by a changed script (a warning once the journal is open)
	outliersWarned map[int]bool // observations reported as outliers this session
	warnedNoWorst  bool         // the "worst before the first success" warning was given this session
	lastFailure    string       // the last failed trial, for messages
	closeOnce      sync.Once

	// The pipeline (pipeline.go).
	inFlight   int                    // iterations in flight (Config.InFlight, resolved)
	interleave bool                   // Config.Schedule (resolved) is interleave
	perGroup   int                    // candidates per BO iteration (interleave: n_w)
	queue      []*queued              // candidates asked and not told, in the order they are told
	groupLen   map[int]int            // candidates per asked iteration
	diagOf     map[int]bo.Diagnostics // each asked iteration's fit/acquisition diagnostics until its record
	completed  *journal.Writer        // completed.jsonl, opened on first use
}

// Do opens, executes and closes a run.
func Do(ctx context.Context, cfg Config, opts Options) (Summary, error) {
	r, err := Open(ctx, cfg, opts)
	if err != nil {
		return Summary{}, err
	}
	s, err := r.Execute(ctx)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return s, err
}

// Open prepares the run directory: a new run writes config.json, the
// script and args copies and manifest.json; an existing one is checked
// against cfg and resumed from its checkpoint and journal. Then the monitor
// and the workers are started.
func Open(ctx context.Context, cfg Config, opts Options) (_ *Run, err error) {
	const op = "run.open"
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	kill, err := parseTestKill(opts.TestKill)
	if err != nil {
		return nil, err
	}
	r := &Run{cfg: cfg, opts: opts, dir: cfg.Dir, codec: ckpt.NewCodec(), kill: kill, lastIterRec: -1,
		groupLen: map[int]int{}, diagOf: map[int]bo.Diagnostics{},
		failures: map[string]int{worker.StatusFailed: 0, worker.StatusCrashed: 0, worker.StatusTimeout: 0, worker.StatusOOM: 0}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	manifest, objSHA, err := r.prepareObjective()
	if err != nil {
		return nil, err
	}
	if err := r.cfg.Optimizer.Validate(); err != nil {
		return nil, optimizerError(err)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, errs.New(errs.IO, op, "creating the run directory %s: %v", r.dir, err)
	}
	o, err := bo.New(r.cfg.Optimizer)
	if err != nil {
		return nil, err
	}
	r.cfg.Optimizer = o.Config()
	r.names = r.cfg.Optimizer.Names
	if len(r.names) == 0 {
		for i := range r.cfg.Optimizer.Space {
			r.names = append(r.names, fmt.Sprintf("x%d", i))
		}
	}
	resume := fileExists(filepath.Join(r.dir, ConfigFile))
	r.resolveInFlight(resume)
	cf, err := r.configFile()
	if err != nil {
		return nil, err
	}
	fp := r.fingerprint(cf, objSHA)
	r.session = time.Now()
	var base float64
	if resume {
		if base, err = r.checkResume(cf, fp, manifest); err != nil {
			return nil, err
		}
	} else {
		if fileExists(filepath.Join(r.dir, TrialsFile)) {
			return nil, errs.New(errs.BadState, op, "%s has %s but no %s: not a bohost run directory I can resume", r.dir, TrialsFile, ConfigFile)
		}
		if err := r.writeRecords(cf, fp, manifest); err != nil {
			return nil, err
		}
	}
	r.start = r.session.Add(-time.Duration(base * float64(time.Second)))
	if r.events, err = journal.Open(filepath.Join(r.dir, EventsFile), &journal.Options{TruncateTorn: true}); err != nil {
		return nil, err
	}
	if r.trials, err = journal.Open(filepath.Join(r.dir, TrialsFile), &journal.Options{TruncateTorn: true, Exclusive: true}); err != nil {
		return nil, err
	}
	if r.scriptNote != "" {
		r.warn("warning", r.scriptNote, nil)
	}
	if rep := r.trials.Repaired(); rep.Torn {
		r.warn("warning", "trials.jsonl had a torn last line (an evaluation being written when the run died): cut off: "+rep.String(), nil)
	}
	if r.iters, err = journal.Open(filepath.Join(r.dir, IterationsFile), &journal.Options{TruncateTorn: true}); err != nil {
		return nil, err
	}
	r.prog = newProgress(opts.Log, opts.Progress, opts.Terminal, r.totalEvals(), 0)
	if resume {
		if err := r.resume(ctx, o); err != nil {
			return nil, err
		}
		if r.scriptNote != "" && r.finished == nil {
			// summary.json said finished but the journal does not: refuse as
			// for any other changed script.
			return nil, errs.New(errs.BadState, op, "cannot resume %s: the script (%s differs from the run's script.lua) changed since the run started", r.dir, r.cfg.Script).
				WithHint("use a new run directory, or force the resume (force = true, bohost resume --force) to continue with the new settings")
		}
	} else {
		r.opt = o
		r.eventExtra("start", fmt.Sprintf("new run in %s: %d iterations, %s, seed %d", r.dir, r.cfg.Iterations, r.cfg.Optimizer.Acquisition, r.cfg.Optimizer.Seed), nil, r.sessionExtra())
	}
	if r.finished != nil {
		return r, nil
	}
	r.gpuEvent()
	if r.mon, err = monitor.Start(monitor.Options{Path: filepath.Join(r.dir, MonitorFile), Interval: opts.MonitorInterval,
		Start: r.start, WorkerPIDs: r.workerPIDs, GPU: opts.GPU, WorkersGPU: opts.WorkersGPU}); err != nil {
		return nil, err
	}
	if err := r.startWorkers(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// prepareObjective fills the space and env of an airline objective and
// returns the data-set manifest and the hash of a Lua objective file.
func (r *Run) prepareObjective() (manifest any, objSHA string, err error) {
	spec, perr := objective.ParseSpec(r.cfg.Objective)
	switch {
	case perr != nil:
		// Not an objective this package knows: the worker's factory decides.
		return map[string]any{"dir": "", "files": []any{}, "sha256": ""}, "", nil
	case spec.Command != nil:
		// An external evaluator (host/extproc): its code is the user's to
		// keep unchanged between sessions; nothing to hash or open here.
		return map[string]any{"dir": "", "files": []any{}, "sha256": ""}, "", nil
	case spec.Lua != nil:
		b, err := os.ReadFile(spec.Lua.File)
		if err != nil {
			return nil, "", errs.New(errs.IO, "run.open", "reading the objective file: %v", err)
		}
		h := sha256.Sum256(b)
		return map[string]any{"dir": "", "files": []any{}, "sha256": ""}, hex.EncodeToString(h[:]), nil
	}
	a, err := objective.NewAirline(*spec.Airline)
	if err != nil {
		return nil, "", err
	}
	r.air = a
	oc := &r.cfg.Optimizer
	if len(oc.Space) == 0 {
		ps, err := a.Space()
		if err != nil {
			return nil, "", err
		}
		oc.Names, oc.Scales = nil, nil
		for _, p := range ps {
			oc.Space = append(oc.Space, [2]float64{p.Lo, p.Hi})
			oc.Names = append(oc.Names, p.Name)
			sc := p.Scale
			if sc == "" {
				sc = "linear"
			}
			oc.Scales = append(oc.Scales, sc)
		}
	}
	envs, err := a.Envs()
	if err != nil {
		return nil, "", err
	}
	if len(oc.Env.List) == 0 && len(oc.Env.Bounds) == 0 {
		oc.Env.List = envs.Features
	}
	if len(oc.Env.List) == len(envs.IDs) {
		r.envIDs = envs.IDs
	}
	m, err := a.Manifest()
	if err != nil {
		return nil, "", err
	}
	d := spec.Airline.Data
	if d == "" {
		d = "synthetic"
	}
	r.cfg.Data = &DataInfo{Dir: d, Split: m.Split}
	return m, "", nil
}

func (r *Run) configFile() (configFile, error) {
	return newConfigFile(r.cfg, r.names, r.envIDs)
}

// newConfigFile is config.json for cfg: every option of cfg by its json tag,
// under a summary of the optimiser for readers (host/report, pandas).
func newConfigFile(cfg Config, names, envIDs []string) (configFile, error) {
	oc := cfg.Optimizer
	if _, err := json.Marshal(oc); err != nil {
		return configFile{}, errs.New(errs.BadArg, "run.open", "optimizer configuration is not JSON-able: %v", err)
	}
	var obj bytes.Buffer
	if err := json.Compact(&obj, cfg.Objective); err != nil {
		return configFile{}, errs.New(errs.BadArg, "run.open", "objective: %v", err)
	}
	cfg.Objective = obj.Bytes()
	cf := configFile{Format: 1, BohostVersion: version.Version, Alpha: oc.Alpha, Convention: string(oc.Convention), NW: oc.NW,
		Acquisition: oc.Acquisition, Mode: oc.Mode, NInitial: oc.NInitial, Seed: oc.Seed, Config: cfg}
	for i, b := range oc.Space {
		sc := "linear"
		if i < len(oc.Scales) && oc.Scales[i] != "" {
			sc = oc.Scales[i]
		}
		name := fmt.Sprintf("x%d", i)
		if i < len(names) {
			name = names[i]
		}
		cf.Space = append(cf.Space, spaceDim{Name: name, Lo: b[0], Hi: b[1], Scale: sc})
	}
	if len(oc.Env.List) > 0 {
		cf.Env = envDesc{Kind: "list", N: len(oc.Env.List), IDs: envIDs, Select: oc.Env.Select}
	} else {
		cf.Env = envDesc{Kind: "box", Bounds: oc.Env.Bounds, Select: oc.Env.Select}
	}
	return cf, nil
}

func (r *Run) fingerprint(cf configFile, objSHA string) []byte {
	ob, _ := json.Marshal(cf.Optimizer) // newConfigFile checked it
	fp := fingerprint{Optimizer: ob, Objective: cf.Objective, OnFailure: cf.OnFailure, Retries: cf.Retries, RetryFallback: cf.RetryFallback}
	if cf.InFlight > 1 {
		fp.InFlight = cf.InFlight
	}
	if cf.Schedule == ScheduleInterleave {
		fp.Schedule = cf.Schedule
	}
	b, _ := json.Marshal(struct {
		fingerprint
		ObjectiveSHA string `json:"objective_file_sha256,omitempty"`
	}{fp, objSHA})
	return b
}

// fingerprintFile holds the fingerprint in the run directory (hidden from
// readers of the contract files; unknown files are ignored).
const fingerprintFile = ".fingerprint.json"

func (r *Run) writeRecords(cf configFile, fp []byte, manifest any) error {
	fresh := !fileExists(filepath.Join(r.dir, ConfigFile))
	if err := r.copyObjective(fp, fresh); err != nil {
		return err
	}
	if err := writeJSONAtomic(filepath.Join(r.dir, ConfigFile), cf); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(r.dir, fingerprintFile), fp); err != nil {
		return err
	}
	if err := writeJSONAtomic(filepath.Join(r.dir, ManifestFile), manifest); err != nil {
		return err
	}
	if r.cfg.Script != "" {
		b, err := os.ReadFile(r.cfg.Script)
		if err != nil {
			return errs.New(errs.IO, "run.open", "copying the script: %v", err)
		}
		if err := writeFileAtomic(filepath.Join(r.dir, ScriptFile), b); err != nil {
			return err
		}
	}
	args := r.cfg.Args
	if args == nil {
		args = []string{}
	}
	script := r.cfg.Script
	if abs, err := filepath.Abs(script); err == nil && script != "" {
		script = abs
	}
	cwd, _ := os.Getwd()
	// The run directory's own path: `bohost resume` of a copy (or a moved
	// directory) maps bo.run on this path to the copy (locate.go).
	dir, err := filepath.Abs(r.dir)
	if err != nil {
		return errs.New(errs.IO, "run.open", "the run directory's absolute path: %v", err)
	}
	return writeJSONAtomic(filepath.Join(r.dir, ArgsFile), Args{Script: script, Args: args, Cwd: cwd, Dir: dir})
}

// checkResume compares the directory's records with cfg and returns the
// elapsed seconds of earlier sessions.
func (r *Run) checkResume(cf configFile, fp []byte, manifest any) (float64, error) {
	const op = "run.resume"
	var diffs []string
	old, err := os.ReadFile(filepath.Join(r.dir, fingerprintFile))
	if err != nil {
		return 0, errs.New(errs.IO, op, "%s: reading %s: %v", r.dir, fingerprintFile, err)
	}
	if !bytes.Equal(bytes.TrimSpace(old), fp) && !sameButObjectivePath(old, fp) {
		diffs = append(diffs, "configuration ("+describeDiff(old, fp)+")")
	}
	scriptDiff := false
	if r.cfg.Script != "" {
		cur, err1 := os.ReadFile(r.cfg.Script)
		saved, err2 := os.ReadFile(filepath.Join(r.dir, ScriptFile))
		scriptDiff = err1 == nil && err2 == nil && !bytes.Equal(cur, saved)
	}
	mb, _ := json.Marshal(manifest)
	if oldm, err := os.ReadFile(filepath.Join(r.dir, ManifestFile)); err == nil {
		var a, b struct {
			SHA256 string `json:"sha256"`
		}
		json.Unmarshal(oldm, &a)
		json.Unmarshal(mb, &b)
		if a.SHA256 != b.SHA256 {
			diffs = append(diffs, fmt.Sprintf("data set (manifest sha256 %.12s… now %.12s…)", a.SHA256, b.SHA256))
		}
	}
	if scriptDiff {
		if len(diffs) == 0 && !r.opts.Force && r.finishedAt(r.cfg.Iterations) {
			// Nothing is left to evaluate, and what the evaluations were
			// (configuration, objective, data) is unchanged: a sweep re-run
			// with an edited or updated script reuses the finished run.
			r.scriptNote = fmt.Sprintf("the script %s differs from the run's script.lua, but the run had finished with the same configuration, objective and data set: its results are kept (use a new run directory to redo it)", r.cfg.Script)
		} else {
			diffs = append(diffs, "script ("+r.cfg.Script+" differs from the run's script.lua)")
		}
	}
	if len(diffs) > 0 && !r.opts.Force {
		return 0, errs.New(errs.BadState, op, "cannot resume %s: the %s changed since the run started", r.dir, strings.Join(diffs, ", the ")).
			WithHint("use a new run directory, or force the resume (force = true, bohost resume --force) to continue with the new settings")
	}
	r.forced = len(diffs) > 0
	r.forceDiffs = diffs
	// Iterations, workers, cadence and sweep may change: rewrite config.json;
	// a forced resume also takes the new script and manifest.
	if r.forced {
		if err := r.writeRecords(cf, fp, manifest); err != nil {
			return 0, err
		}
	} else if err := writeJSONAtomic(filepath.Join(r.dir, ConfigFile), cf); err != nil {
		return 0, err
	}
	base := 0.0
	for _, f := range []string{EventsFile, TrialsFile} {
		journal.ReadAll(filepath.Join(r.dir, f), func(line []byte) error {
			var e struct {
				ElapsedS float64 `json:"elapsed_s"`
			}
			if json.Unmarshal(line, &e) == nil && e.ElapsedS > base {
				base = e.ElapsedS
			}
			return nil
		})
	}
	return base, nil
}

// sameButObjectivePath reports whether two fingerprints differ at most in
// the path of a Lua objective file whose content (objective_file_sha256) is
// the same: a run directory copied to another place or machine, whose
// script now finds the same objective elsewhere, is the same experiment.
func sameButObjectivePath(a, b []byte) bool {
	norm := func(fp []byte) (string, bool) {
		var m map[string]json.RawMessage
		if json.Unmarshal(fp, &m) != nil {
			return "", false
		}
		var obj map[string]map[string]any
		if json.Unmarshal(m["objective"], &obj) != nil || obj["lua"] == nil {
			return "", false
		}
		var sha string
		if json.Unmarshal(m["objective_file_sha256"], &sha) != nil || sha == "" {
			return "", false // no hash recorded: the path is all there is
		}
		delete(obj["lua"], "file")
		m["objective"], _ = json.Marshal(obj)
		out, _ := json.Marshal(m)
		return string(out), true
	}
	na, oka := norm(a)
	nb, okb := norm(b)
	return oka && okb && na == nb
}

func describeDiff(old, cur []byte) string {
	var a, b map[string]json.RawMessage
	json.Unmarshal(old, &a)
	json.Unmarshal(cur, &b)
	var keys []string
	for k, v := range b {
		if !bytes.Equal(a[k], v) {
			keys = append(keys, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "format"
	}
	sortStrings(keys)
	return "changed: " + strings.Join(keys, ", ")
}

func (r *Run) startWorkers(ctx context.Context) error {
	env := append([]string{}, r.opts.WorkerEnv...)
	if r.cfg.Faults {
		env = append(env, "BOHOST_FAULTS=1")
	}
	lim := r.opts.MemLimitBytes
	if lim == 0 {
		if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
			lim = l
		}
	}
	if lim > 0 {
		env = append(env, fmt.Sprintf("BOHOST_MEM_LIMIT=%d", lim))
	}
	// The run directory, for objectives that keep files there (an external
	// evaluator's per-worker log: RUN/workers/worker_N.log).
	if dir, err := filepath.Abs(r.dir); err == nil {
		env = append(env, RunDirEnv+"="+dir)
	}
	timeout := time.Duration(r.cfg.TimeoutS * float64(time.Second))
	if r.cfg.TimeoutS < 0 {
		timeout = 0
	}
	var start time.Duration // the pool's default
	if spec, err := objective.ParseSpec(r.cfg.Objective); err == nil && spec.Command != nil && spec.Command.SetupTimeoutS > 0 {
		// An external evaluator's setup (loading a model) may take longer
		// than a worker's usual start.
		start = time.Duration(spec.Command.SetupTimeoutS*float64(time.Second)) + 10*time.Second
	}
	wo := worker.Options{Command: r.opts.WorkerCommand, Env: env, Size: r.cfg.Workers, Spec: r.cfg.Objective,
		MaxRSSBytes: r.cfg.MaxRSSBytes, Timeout: timeout, Stderr: r.opts.StderrTo, StartTimeout: start,
		OnDeath: func(d worker.Death) {
			dd := d
			r.event("worker_death", fmt.Sprintf("worker %d (pid %d) died: %s", d.Worker, d.PID, d.Reason), &dd)
		},
		LastMonitor: func() map[string]any {
			if r.mon == nil {
				return nil
			}
			row := r.mon.Last()
			if row.Time.IsZero() {
				return nil // no row yet: the certificate keeps the pool's own time and RSS
			}
			m := map[string]any{"time": row.Time.UTC().Format(monitor.TimeFormat), "elapsed_s": row.ElapsedS, "iteration": row.Iteration,
				"host_rss_bytes": row.HostRSS, "workers_rss_bytes": row.WorkersRSS, "go_heap_bytes": row.GoHeap}
			if row.WorkersGPU >= 0 {
				m["workers_gpu_bytes"] = row.WorkersGPU
			}
			return m
		}}
	l, err := r.launcher(ctx)
	if err != nil {
		return err
	}
	if l != nil {
		wo.Launcher, wo.OnStart = l, r.workerStarted
	}
	mk := r.opts.NewDispatcher
	if mk == nil {
		mk = func(ctx context.Context, o worker.Options) (worker.Dispatcher, error) { return worker.NewPool(ctx, o) }
	}
	d, err := mk(context.WithoutCancel(ctx), wo)
	if err != nil {
		return err
	}
	r.disp = d
	return nil
}

func (r *Run) workerPIDs() []int {
	if p, ok := r.disp.(interface{ PIDs() []int }); ok && p != nil {
		return p.PIDs()
	}
	return nil
}

// Close stops the workers and the monitor and closes the journals.
func (r *Run) Close() error {
	var first error
	r.closeOnce.Do(func() {
		if r.disp != nil {
			first = r.disp.Close()
		}
		if r.mon != nil {
			r.mon.Close()
		}
		for _, w := range []*journal.Writer{r.trials, r.iters, r.events, r.completed} {
			if w != nil {
				if err := w.Close(); err != nil && first == nil {
					first = err
				}
			}
		}
	})
	return first
}

// Dir is the run directory.
func (r *Run) Dir() string { return r.dir }

// Iteration is the optimiser's iteration (BO proposals after the initial
// design).
func (r *Run) Iteration() int { return max(r.lastDoneGroup(), 0) }

// Optimizer is the run's optimiser (read it, do not ask or tell).
func (r *Run) Optimizer() *bo.Optimizer { return r.opt }

// Best is the last iteration record (the recommendation and the best
// observed CVaR), nil before the first.
func (r *Run) Best() *Iteration { return r.last }

// Trials reads trials.jsonl.
func (r *Run) Trials() ([]Trial, error) { return ReadTrials(r.dir) }

// ReadTrials reads a run directory's trials.jsonl (a torn last line is
// ignored).
func ReadTrials(dir string) ([]Trial, error) {
	var out []Trial
	_, err := journal.ReadAll(filepath.Join(dir, TrialsFile), func(line []byte) error {
		var t Trial
		if err := json.Unmarshal(line, &t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

// ReadConfig rebuilds, from a run directory's config.json, the Config the
// run was made with: every option config.json records (the optimiser
// complete, defaults filled in), that is every field of Config but Dir,
// Script and Args.
func ReadConfig(dir string) (Config, error) {
	const op = "run.read_config"
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return Config{}, errs.New(errs.IO, op, "cannot read %s: %v (is %s a run directory?)", p, err, dir)
	}
	var cf configFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return Config{}, errs.New(errs.BadArg, op, "%s: %v", p, err)
	}
	var obj bytes.Buffer
	if json.Compact(&obj, cf.Objective) == nil {
		cf.Objective = obj.Bytes()
	}
	return cf.Config, nil
}

func (r *Run) elapsed() float64 { return time.Since(r.start).Seconds() }

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// event appends to events.jsonl (errors are reported on the log: the
// journal of trials is what must not fail).
func (r *Run) event(name, msg string, d *worker.Death) {
	r.eventExtra(name, msg, d, nil)
}

func (r *Run) eventExtra(name, msg string, d *worker.Death, extra map[string]any) {
	if r.events == nil {
		return
	}
	if err := r.events.Append(Event{Time: now(), ElapsedS: r.elapsed(), Event: name, Msg: msg, Death: d, Extra: extra}); err != nil {
		fmt.Fprintf(r.opts.Log, "bohost run: cannot write events.jsonl: %v\n", err)
	}
}

// warn logs an event and prints it.
func (r *Run) warn(name, msg string, d *worker.Death) {
	r.event(name, msg, d)
	if r.prog != nil {
		r.prog.logf("bohost run: %s: %s", name, msg)
	} else {
		fmt.Fprintf(r.opts.Log, "bohost run: %s: %s\n", name, msg)
	}
}

func (r *Run) totalEvals() int {
	oc := r.cfg.Optimizer
	per := 1
	if oc.Mode == bo.ModeAllW {
		per = oc.NW
	}
	return (oc.NInitial + r.cfg.Iterations) * per
}

func (r *Run) named(x []float64) map[string]float64 {
	m := make(map[string]float64, len(x))
	for i, v := range x {
		m[r.names[i]] = v
	}
	return m
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// bestObservedCVaR is the best CVaR over the W set among x's evaluated (ok)
// at every w of the W set.
func (r *Run) bestObservedCVaR() *float64 {
	W := r.opt.WSet()
	if len(W) == 0 {
		return nil
	}
	widx := map[string]int{}
	for i, w := range W {
		widx[num.Key(w)] = i
	}
	type acc struct {
		ys   []float64
		seen []bool
		n    int
	}
	byX := map[string]*acc{}
	for _, ob := range r.opt.Observations() {
		if ob.How != "ok" {
			continue
		}
		j, ok := widx[num.Key(ob.W)]
		if !ok {
			continue
		}
		k := num.Key(ob.X)
		a := byX[k]
		if a == nil {
			a = &acc{ys: make([]float64, len(W)), seen: make([]bool, len(W))}
			byX[k] = a
		}
		if !a.seen[j] {
			a.seen[j], a.ys[j] = true, ob.Y
			a.n++
		}
	}
	var best *float64
	for _, a := range byX {
		if a.n < len(W) {
			continue
		}
		c, err := risk.CVaR(a.ys, r.cfg.Optimizer.Alpha, r.cfg.Optimizer.Convention)
		if err == nil && (best == nil || c > *best) {
			best = ptr(c)
		}
	}
	return best
}

// finishedAt reports whether the directory's summary.json records a finished
// run of at least iters iterations.
func (r *Run) finishedAt(iters int) bool {
	b, err := os.ReadFile(filepath.Join(r.dir, SummaryFile))
	if err != nil {
		return false
	}
	var s Summary
	return json.Unmarshal(b, &s) == nil && s.Status == "finished" && s.Iterations >= iters
}
