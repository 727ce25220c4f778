package bindings

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/lua"
	"bohost/host/memctl"
	"bohost/host/monitor"
	"bohost/host/objective"
	"bohost/host/run"
	"bohost/host/worker"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/term"
)

// Run is bohost.run: crash-proof experiment runs (host/run) from Lua.
// WorkerCommand is the argv of a worker process (default: this executable
// with the hidden "worker" subcommand).
type Run struct {
	WorkerCommand []string
	WorkerEnv     []string
}

const runType = "bohost.run.Run"

func (Run) Name() string { return "bohost.run" }

var runOptions = []string{"dir", "optimizer", "objective", "iterations", "checkpoint_every", "workers", "timeout_s", "max_rss",
	"on_failure", "retries", "retry_fallback", "max_consecutive_failures", "every", "on_iteration", "force", "progress", "faults",
	"hook_errors", "sweep"}

func (m Run) Open(rt *lua.Runtime) *glua.LTable {
	rt.NewType(runType, "Run", []lua.Func{
		{Name: "iteration", Sig: "run:iteration() -> n", Desc: "the optimiser's iteration (BO proposals after the initial design)", Fn: func(L *glua.LState) int {
			L.Push(glua.LNumber(checkRun(L, "Run:iteration").Iteration()))
			return 1
		}},
		{Name: "dir", Sig: "run:dir() -> path", Desc: "the run directory", Fn: func(L *glua.LState) int {
			L.Push(glua.LString(checkRun(L, "Run:dir").Dir()))
			return 1
		}},
		{Name: "best", Sig: "run:best() -> {iteration=, recommended_x=, posterior_cvar=, best_observed_cvar=, ...} | nil", Desc: "the last iteration record", Fn: func(L *glua.LState) int {
			b := checkRun(L, "Run:best").Best()
			if b == nil {
				L.Push(glua.LNil)
				return 1
			}
			v, err := toLuaJSON(L, b)
			if err != nil {
				return lua.Raise(L, "Run:best", err)
			}
			L.Push(v)
			return 1
		}},
		{Name: "trials", Sig: "run:trials() -> {{trial=, x=, w=, status=, y=, ...}, ...}", Desc: "every line of trials.jsonl so far", Fn: func(L *glua.LState) int {
			tr, err := checkRun(L, "Run:trials").Trials()
			if err != nil {
				return lua.Raise(L, "Run:trials", err)
			}
			if tr == nil {
				tr = []run.Trial{}
			}
			v, err := toLuaJSON(L, tr)
			if err != nil {
				return lua.Raise(L, "Run:trials", err)
			}
			L.Push(v)
			return 1
		}},
	}, func(v any) string {
		r := v.(*run.Run)
		return fmt.Sprintf("bohost.run.Run(%s, iteration %d)", r.Dir(), r.Iteration())
	})
	return rt.Funcs("run", []lua.Func{
		{Name: "run", Sig: "run.run{dir=, optimizer={...}, objective={file=, fn=} | {airline={...}}, iterations=30, checkpoint_every=1, workers=ncpu, timeout_s=120, max_rss=, on_failure=\"worst\", retries=2, max_consecutive_failures=10, every={[k]=fn}, on_iteration=fn, force=false, progress=true, faults=false} -> summary",
			Desc: "runs (or resumes) a crash-proof optimisation in a run directory; evaluations run in worker processes", Fn: func(L *glua.LState) int {
				return m.run(rt, L)
			}},
	})
}

func checkRun(L *glua.LState, op string) *run.Run {
	return lua.CheckObject[*run.Run](L, 1, op, runType)
}

func (m Run) run(rt *lua.Runtime, L *glua.LState) int {
	const op = "run.run"
	o := lua.CheckOpts(L, 1, op, runOptions...)
	if o.T == nil {
		return lua.ArgError(L, op, 1, "options table expected")
	}
	cfg := run.Config{Dir: o.String("dir", "")}
	if cfg.Dir == "" {
		return lua.Raisef(L, errs.BadArg, op, "option 'dir' is required (the run directory)")
	}
	// Under bohost resume: the run being resumed opens where it is now (a
	// copy resumes itself); another run directory is skipped, untouched.
	if dir, skip, err := run.ResumeTarget(rt.Getenv(run.ResumeDirEnv), cfg.Dir); err != nil {
		return lua.Raise(L, op, err)
	} else if skip != "" {
		fmt.Fprintf(rt.Stderr, "bohost: resume: %s\n", skip)
		v, _ := toLuaJSON(L, map[string]any{"status": "skipped", "reason": skip, "dir": cfg.Dir})
		L.Push(v)
		return 1
	} else {
		cfg.Dir = dir
	}
	// objective
	obj := o.Table("objective")
	if obj == nil {
		return lua.Raisef(L, errs.BadArg, op, "option 'objective' is required: {file = \"objective.lua\", fn = \"evaluate\"} or {airline = {...}}")
	}
	airline := obj.RawGetString("airline") != glua.LNil
	if airline {
		oo := lua.NestedOpts(L, obj, op, "objective", "airline")
		g, err := lua.ToGo(oo.Get("airline"), "objective.airline")
		if err != nil {
			return lua.Raise(L, op, err)
		}
		b, _ := json.Marshal(map[string]any{"airline": emptyToObject(g)})
		if _, err := objective.ParseSpec(b); err != nil {
			return lua.Raise(L, op, err)
		}
		cfg.Objective = b
	} else {
		oo := lua.NestedOpts(L, obj, op, "objective", "file", "fn")
		file, fn := oo.String("file", ""), oo.String("fn", "evaluate")
		if file == "" {
			return lua.Raisef(L, errs.BadArg, op, "objective.file is required (a Lua file defining the objective), or give objective.airline")
		}
		file = resolveFile(rt, file)
		b, _ := json.Marshal(map[string]any{"lua": map[string]any{"file": file, "fn": fn}})
		cfg.Objective = b
	}
	// optimizer: the keys of bo.new; an airline objective supplies space and env.
	ot := o.Table("optimizer")
	if ot == nil {
		if !airline {
			return lua.Raisef(L, errs.BadArg, op, "option 'optimizer' is required (the options of bo.new)")
		}
		ot = L.NewTable()
	}
	noSpace, noEnv := ot.RawGetString("space") == glua.LNil, ot.RawGetString("env") == glua.LNil
	if airline && (noSpace || noEnv) {
		cp := L.NewTable()
		ot.ForEach(func(k, v glua.LValue) { cp.RawSet(k, v) })
		if noSpace {
			cp.RawSetString("space", L.NewTable())
			cp.RawGetString("space").(*glua.LTable).Append(lua.Floats(L, []float64{0, 1}))
		}
		if noEnv {
			cp.RawSetString("env", L.NewTable())
			cp.RawGetString("env").(*glua.LTable).Append(lua.Floats(L, []float64{0, 1}))
		}
		ot = cp
	}
	cfg.Optimizer = OptimizerConfig(L, op, "optimizer", ot)
	if airline && noSpace {
		cfg.Optimizer.Space, cfg.Optimizer.Names, cfg.Optimizer.Scales = nil, nil, nil
	}
	if airline && noEnv {
		cfg.Optimizer.Env.Bounds = nil
	}
	// 0 means "the default" to host/run; from Lua an explicit 0 is an error
	// naming the option (absent or nil is the default).
	cfg.Iterations = o.Count("iterations", 30)
	cfg.CheckpointEvery = o.Int("checkpoint_every", 1)
	if cfg.CheckpointEvery == 0 {
		return lua.Raise(L, op, errs.New(errs.BadArg, op, "option 'checkpoint_every' must be >= 1 (every k iterations) or negative (only at the end), got 0"))
	}
	cfg.Workers = o.Count("workers", 0)
	cfg.TimeoutS = o.Number("timeout_s", 120)
	if cfg.TimeoutS == 0 || math.IsNaN(cfg.TimeoutS) {
		return lua.Raise(L, op, errs.New(errs.BadArg, op, "option 'timeout_s' must be > 0 seconds, or negative for no timeout, got %g", cfg.TimeoutS))
	}
	if o.Has("max_rss") {
		switch v := o.Get("max_rss").(type) {
		case glua.LNumber:
			cfg.MaxRSSBytes, cfg.MaxRSS = int64(v), fmt.Sprint(int64(v))
		case glua.LString:
			b, err := memctl.ParseSize(string(v), "max_rss")
			if err != nil {
				return lua.Raise(L, op, err)
			}
			cfg.MaxRSSBytes, cfg.MaxRSS = b, string(v)
		default:
			return lua.Raisef(L, errs.BadArg, op, "option 'max_rss' must be bytes or a size string such as \"4GiB\", got %s", lua.TypeName(v))
		}
	}
	cfg.OnFailure = o.Enum("on_failure", run.FailWorst, run.FailWorst, run.FailSkip, run.FailRetry)
	cfg.Retries = o.Int("retries", 0)
	if cfg.OnFailure == run.FailRetry && o.Has("retries") && cfg.Retries < 1 {
		return lua.Raise(L, op, errs.New(errs.BadArg, op, "option 'retries' must be >= 1 with on_failure = \"retry\", got %d", cfg.Retries).
			WithHint("for no retries, set on_failure to what retry_fallback would do (\"worst\" or \"skip\")"))
	}
	cfg.RetryFallback = o.Enum("retry_fallback", run.FailWorst, run.FailWorst, run.FailSkip)
	cfg.MaxConsecutiveFailures = o.Count("max_consecutive_failures", 0)
	cfg.Faults = o.Bool("faults", false)
	if st := o.Table("sweep"); st != nil {
		g, err := lua.ToGo(st, "sweep")
		if err != nil {
			return lua.Raise(L, op, err)
		}
		if mm, ok := g.(map[string]any); ok {
			cfg.Sweep = mm
		}
	}
	opts := rt.Options()
	if opts.ScriptPath != "" {
		cfg.Script = opts.ScriptPath
		cfg.Args = opts.Args
	}
	// hooks
	ctx := luaCtx(L)
	callHook := func(fn *glua.LFunction, args ...glua.LValue) error {
		return L.CallByParam(glua.P{Fn: fn, NRet: 0, Protect: true}, args...)
	}
	ro := run.Options{
		WorkerCommand: m.WorkerCommand, WorkerEnv: m.WorkerEnv, Log: rt.Stderr,
		Progress: o.Bool("progress", true), Force: o.Bool("force", false) || rt.Getenv("BOHOST_RESUME_FORCE") == "1",
		HookErrorsFatal: o.Enum("hook_errors", "log", "log", "raise") == "raise",
		TestKill:        rt.Getenv("BOHOST_TEST_KILL"),
	}
	if f, ok := rt.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ro.Terminal = true
	}
	if len(ro.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return lua.Raisef(L, errs.Unavailable, op, "cannot find the bohost executable for the workers: %v", err)
		}
		ro.WorkerCommand = []string{exe, "worker"}
	}
	if fn := o.Func("on_iteration"); fn != nil {
		ro.OnIteration = func(r *run.Run, it run.Iteration) error {
			rec, err := toLuaJSON(L, it)
			if err != nil {
				return err
			}
			return callHook(fn, lua.NewObject(L, runType, r), rec)
		}
	}
	if et := o.Table("every"); et != nil {
		ro.Every = map[int]func(*run.Run) error{}
		var bad error
		et.ForEach(func(k, v glua.LValue) {
			kn, ok1 := k.(glua.LNumber)
			fn, ok2 := v.(*glua.LFunction)
			if !ok1 || !ok2 || float64(kn) < 1 || float64(kn) != math.Trunc(float64(kn)) {
				if bad == nil {
					bad = errs.New(errs.BadArg, op, "option 'every' must map iteration counts k >= 1 to functions ({[5] = function(run) ... end}), got [%s] = %s", k.String(), lua.TypeName(v))
				}
				return
			}
			ro.Every[int(kn)] = func(r *run.Run) error { return callHook(fn, lua.NewObject(L, runType, r)) }
		})
		if bad != nil {
			return lua.Raise(L, op, bad)
		}
	}
	if gpu.Available() {
		ro.GPU = func() (monitor.GPUInfo, bool) {
			m, err := gpu.Memory()
			if err != nil {
				return monitor.GPUInfo{}, false
			}
			return monitor.GPUInfo{Used: m.Total - m.Free, Total: m.Total, Pool: m.Used + m.Cached}, true
		}
	}
	s, err := run.Do(ctx, cfg, ro)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	v, jerr := toLuaJSON(L, s)
	if jerr != nil {
		return lua.Raise(L, op, jerr)
	}
	L.Push(v)
	return 1
}

// emptyToObject turns empty Lua tables (decoded as empty maps or arrays)
// into empty JSON objects where options are expected.
func emptyToObject(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = emptyToObject(e)
		}
	case []any:
		if len(x) == 0 {
			return map[string]any{}
		}
		for i, e := range x {
			x[i] = emptyToObject(e)
		}
	}
	return v
}

// resolveFile makes a Lua objective file absolute: relative to the working
// directory when it exists there, else to the script's directory.
func resolveFile(rt *lua.Runtime, file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	if _, err := os.Stat(file); err != nil {
		if sp := rt.Options().ScriptPath; sp != "" {
			alt := filepath.Join(filepath.Dir(sp), file)
			if _, err := os.Stat(alt); err == nil {
				file = alt
			}
		}
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return file
}

// LuaObjective is the worker side of a Lua objective: fn(x, w, env_index)
// from file, run in rt (which the caller built with every module). The file
// may return a table of functions or define fn as a global.
type LuaObjective struct {
	rt *lua.Runtime
	fn *glua.LFunction
}

// NewLuaObjective loads file in rt and finds fn.
func NewLuaObjective(ctx context.Context, rt *lua.Runtime, file, fn string) (*LuaObjective, error) {
	const op = "worker.lua"
	res, err := rt.DoFile(ctx, file)
	if err != nil {
		return nil, err
	}
	var f glua.LValue = glua.LNil
	if len(res) > 0 {
		if t, ok := res[0].(*glua.LTable); ok {
			f = t.RawGetString(fn)
		}
	}
	if f == glua.LNil {
		f = rt.L.GetGlobal(fn)
	}
	lf, ok := f.(*glua.LFunction)
	if !ok {
		return nil, errs.New(errs.BadArg, op, "%s defines no function %q (return a table of functions or define a global), got %s", file, fn, lua.TypeName(f))
	}
	return &LuaObjective{rt: rt, fn: lf}, nil
}

// Eval implements worker.Objective: a number is y; a table is a score
// record whose f is y.
func (o *LuaObjective) Eval(ctx context.Context, req worker.Request) (worker.Result, error) {
	const op = "worker.lua"
	L := o.rt.L
	var ei glua.LValue = glua.LNil
	if req.EnvIndex >= 0 {
		ei = glua.LNumber(req.EnvIndex + 1)
	}
	out, err := o.rt.Call(ctx, o.fn, lua.Floats(L, req.X), lua.Floats(L, req.W), ei)
	if err != nil {
		return worker.Result{}, err
	}
	if len(out) == 0 {
		return worker.Result{}, errs.New(errs.BadArg, op, "the objective returned nothing; return a number or a score record {f = ...}")
	}
	switch v := out[0].(type) {
	case glua.LNumber:
		return worker.Result{Y: float64(v), Score: map[string]any{"f": float64(v)}}, nil
	case *glua.LTable:
		f, ok := v.RawGetString("f").(glua.LNumber)
		if !ok {
			return worker.Result{}, errs.New(errs.BadArg, op, "the score record has no numeric f (got %s)", lua.TypeName(v.RawGetString("f")))
		}
		score := map[string]any{}
		keys := lua.SortedKeys(v)
		sort.Strings(keys)
		for _, k := range keys {
			switch x := v.RawGetString(k).(type) {
			case glua.LNumber:
				score[k] = float64(x)
			case glua.LString:
				score[k] = string(x)
			case glua.LBool:
				score[k] = bool(x)
			}
		}
		return worker.Result{Y: float64(f), Score: score}, nil
	}
	return worker.Result{}, errs.New(errs.BadArg, op, "the objective must return a number or a score record {f = ...}, got %s", lua.TypeName(out[0]))
}
