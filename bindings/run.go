package bindings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/objective"
	"bohost/host/run"
	"bohost/host/worker"

	glua "github.com/yuin/gopher-lua"
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

// runOptions is the Lua face of bo.run: every option of run.Config by its
// json tag and of run.Options by its lua tag (a new one needs no edit here),
// and the keys whose Lua shape differs: the optimizer (bo.optimizer's
// options), the objective and the hooks.
type runOptions struct {
	run.Config
	run.Options
	Opt        optimizerOptions `json:"optimizer"` // required unless the objective is airline's (run.Config.Validate)
	Obj        objectiveOption  `json:"objective" lua:",required"`
	HookErrors string           `json:"hook_errors" lua:",enum=log|raise"`
	OnIter     *glua.LFunction  `json:"on_iteration"`
	Every      everyOption      `json:"every"`
}

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
		{Name: "run", Sig: "run.run{" + strings.Join(lua.OptionNames(reflect.TypeFor[runOptions]()), "=, ") + "=} -> summary",
			Desc: "runs (or resumes) a crash-proof optimisation in a run directory; evaluations run in worker processes (options and defaults: docs/runs.md)", Fn: func(L *glua.LState) int {
				return m.run(rt, L)
			}},
	})
}

func checkRun(L *glua.LState, op string) *run.Run {
	return lua.CheckObject[*run.Run](L, 1, op, runType)
}

func (m Run) run(rt *lua.Runtime, L *glua.LState) int {
	const op = "run.run"
	if _, ok := L.Get(1).(*glua.LTable); !ok {
		return lua.ArgError(L, op, 1, "options table expected, got %s", lua.TypeName(L.Get(1)))
	}
	f := runOptions{Options: run.Options{Progress: true}, Opt: newOptimizerOptions()}
	if err := lua.Decode(L.Get(1), "", &f); err != nil {
		return lua.Raise(L, op, err)
	}
	// Under bohost resume: the run being resumed opens where it is now (a
	// copy resumes itself); another run directory is skipped, untouched.
	dir, skip, err := run.ResumeTarget(rt.Getenv(run.ResumeDirEnv), f.Dir)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	if skip != "" {
		fmt.Fprintf(rt.Stderr, "bohost: resume: %s\n", skip)
		return pushJSON(L, op, map[string]any{"status": "skipped", "reason": skip, "dir": f.Dir})
	}
	cfg, ro := f.Config, f.Options
	cfg.Dir, cfg.Objective, cfg.Optimizer = dir, json.RawMessage(f.Obj), f.Opt.config()
	if p := rt.Options(); p.ScriptPath != "" {
		cfg.Script, cfg.Args = p.ScriptPath, p.Args
	}
	ro.WorkerCommand, ro.WorkerEnv, ro.Log = m.WorkerCommand, m.WorkerEnv, rt.Stderr
	ro.HookErrorsFatal = f.HookErrors == "raise"
	f.hooks(L, &ro)
	if err := ro.FromProcess(rt.Getenv); err != nil {
		return lua.Raise(L, op, err)
	}
	s, err := run.Do(luaCtx(L), cfg, ro)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	return pushJSON(L, op, s)
}

// hooks makes on_iteration and every Go callbacks that call the Lua
// functions (protected: an error is the hook's, for the run to log or raise).
func (f *runOptions) hooks(L *glua.LState, ro *run.Options) {
	call := func(fn *glua.LFunction, args ...glua.LValue) error {
		return L.CallByParam(glua.P{Fn: fn, NRet: 0, Protect: true}, args...)
	}
	if fn := f.OnIter; fn != nil {
		ro.OnIteration = func(r *run.Run, it run.Iteration) error {
			rec, err := toLuaJSON(L, it)
			if err != nil {
				return err
			}
			return call(fn, lua.NewObject(L, runType, r), rec)
		}
	}
	if len(f.Every) > 0 {
		ro.Every = map[int]func(*run.Run) error{}
		for k, fn := range f.Every {
			ro.Every[k] = func(r *run.Run) error { return call(fn, lua.NewObject(L, runType, r)) }
		}
	}
}

// pushJSON pushes v (JSON-able) as plain Lua data.
func pushJSON(L *glua.LState, op string, v any) int {
	lv, err := toLuaJSON(L, v)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(lv)
	return 1
}

// everyOption is bo.run's every: {[k] = function(run) ... end}, k >= 1.
type everyOption map[int]*glua.LFunction

func (e *everyOption) UnmarshalLua(v glua.LValue, path string) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return lua.OptionError(path, "must be a table {[k] = function(run) ... end}, got %s", lua.TypeName(v))
	}
	*e = everyOption{}
	var bad error
	t.ForEach(func(k, v glua.LValue) {
		kn, ok1 := k.(glua.LNumber)
		fn, ok2 := v.(*glua.LFunction)
		if !ok1 || !ok2 || float64(kn) < 1 || float64(kn) != math.Trunc(float64(kn)) {
			if bad == nil {
				bad = lua.OptionError(path, "must map iteration counts k >= 1 to functions ({[5] = function(run) ... end}), got [%s] = %s", k.String(), lua.TypeName(v))
			}
			return
		}
		(*e)[int(kn)] = fn
	})
	return bad
}

// objectiveOption is bo.run's objective, {file =, fn = "evaluate"} or
// {airline = {...}}, as the JSON spec of host/objective.
type objectiveOption json.RawMessage

func (o *objectiveOption) UnmarshalLua(v glua.LValue, path string) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return lua.OptionError(path, "must be {file = \"objective.lua\", fn = \"evaluate\"}, {airline = {...}} or {command = {\"python3\", \"eval.py\"}, ...}, got %s", lua.TypeName(v))
	}
	if t.RawGetString("command") != glua.LNil {
		// An external evaluator (host/extproc, docs/evaluators.md): the
		// spec's own fields, strictly, with gpus as a list or a count.
		var c commandObjective
		if err := lua.Decode(t, path, &c); err != nil {
			return err
		}
		c.CommandSpec.GPUs = c.GPUs
		if err := c.CommandSpec.Validate(); err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Op == "objective.command" {
				e.Msg = path + "." + e.Msg
			}
			return err
		}
		*o, _ = json.Marshal(map[string]any{"command": c.CommandSpec})
		return nil
	}
	if t.RawGetString("airline") != glua.LNil {
		var spec struct { // strict keys and types, by the spec's own json tags
			Airline objective.AirlineSpec `json:"airline"`
		}
		if err := lua.Decode(t, path, &spec); err != nil {
			return err
		}
		// The spec is the table as given (the run's fingerprint compares it).
		g, err := lua.ToGo(t.RawGetString("airline"), path+".airline")
		if err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"airline": emptyToObject(g)})
		if _, err := objective.ParseSpec(b); err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Op == "objective.airline" { // names fields inside the airline spec
				e.Msg = path + ".airline." + e.Msg
			}
			return err
		}
		*o = b
		return nil
	}
	l := struct {
		File string `json:"file" lua:",required"` // relative: run.Config resolves it
		Fn   string `json:"fn"`
	}{Fn: "evaluate"}
	if err := lua.Decode(t, path, &l); err != nil {
		return err
	}
	*o, _ = json.Marshal(map[string]any{"lua": map[string]any{"file": l.File, "fn": l.Fn}})
	return nil
}

// commandObjective is bo.run's objective = {command = {...}, env =, cwd =,
// gpus =, setup_timeout_s =}: objective.CommandSpec's options, with gpus
// also given as a count.
type commandObjective struct {
	objective.CommandSpec
	GPUs gpusOption `json:"gpus"`
}

// gpusOption is a list of device indices ({0, 1}) or a count n (0 … n-1).
type gpusOption []int

func (g *gpusOption) UnmarshalLua(v glua.LValue, path string) error {
	if n, ok := v.(glua.LNumber); ok {
		if float64(n) < 1 || float64(n) != math.Trunc(float64(n)) || float64(n) > 1024 {
			return lua.OptionError(path, "must be a count of GPUs >= 1 or a list of device indices ({0, 1}), got %v", float64(n))
		}
		*g = make(gpusOption, int(n))
		for i := range *g {
			(*g)[i] = i
		}
		return nil
	}
	var list []int
	if err := lua.Decode(v, path, &list); err != nil {
		return lua.OptionError(path, "must be a count of GPUs or a list of device indices ({0, 1}), got %s", lua.TypeName(v))
	}
	if len(list) == 0 {
		return lua.OptionError(path, "must list at least one device index ({0, 1}), or be left out")
	}
	*g = list
	return nil
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
