package bindings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/lua"
	"bohost/host/risk"

	glua "github.com/yuin/gopher-lua"
)

// BO is bohost.bo: the ask/tell risk-averse optimiser (host/bo).
type BO struct{}

const optimizerType = "bohost.bo.Optimizer"

func (BO) Name() string { return "bohost.bo" }

// optimizerOptions are the keys of bo.optimizer{...}; the run module
// accepts the same table as its optimizer option.
var optimizerOptions = []string{"space", "env", "alpha", "convention", "n_w", "acquisition", "mode", "n_initial", "seed",
	"kernel", "prior", "mc_samples", "fantasies", "ucb_beta", "restarts", "raw_samples", "recommend_from", "recommend_n_w",
	"hyper_samples", "design", "outlier_factor"}

func (BO) Open(rt *lua.Runtime) *glua.LTable {
	if err := rt.Require("bohost.gp"); err != nil { // opt:model() returns gp models
		panic(err)
	}
	rt.NewType(optimizerType, "Optimizer", []lua.Func{
		{Name: "ask", Sig: "opt:ask() -> x, w, env_index", Desc: "the next evaluation to run (x and w as arrays; env_index is 1-based, nil for continuous w)", Fn: optAsk},
		{Name: "ask_batch", Sig: "opt:ask_batch() -> {{x=, w=, env_index=}, ...}", Desc: "every evaluation of the next proposal (all n_w w's of an x in all_w mode)", Fn: optAskBatch},
		{Name: "tell", Sig: "opt:tell(x, w, y) -> opt", Desc: "records the score y of the evaluation (x, w)", Fn: optTell},
		{Name: "tell_failed", Sig: "opt:tell_failed(x, w [, policy=\"worst\"|\"skip\"]) -> opt", Desc: "records that the evaluation (x, w) failed", Fn: optTellFailed},
		{Name: "recommend", Sig: "opt:recommend() -> {x=, cvar=, mean=, named=}", Desc: "the x with the best posterior-mean CVaR over the W set", Fn: optRecommend},
		{Name: "state", Sig: "opt:state() -> table", Desc: "the complete state as plain data (checkpoint it with ckpt.save; bo.restore rebuilds)", Fn: optState},
		{Name: "iteration", Sig: "opt:iteration() -> n", Desc: "number of BO proposals made after the initial design", Fn: func(L *glua.LState) int {
			L.Push(glua.LNumber(checkOptimizer(L, "Optimizer:iteration").Iteration()))
			return 1
		}},
		{Name: "w_set", Sig: "opt:w_set() -> W, env_indices", Desc: "the current W set (array of w) and, for finite environments, their 1-based indices", Fn: func(L *glua.LState) int {
			o := checkOptimizer(L, "Optimizer:w_set")
			L.Push(lua.Matrix(L, o.WSet()))
			idx := o.WIndices()
			if idx == nil {
				L.Push(glua.LNil)
				return 2
			}
			t := L.CreateTable(len(idx), 0)
			for i, v := range idx {
				t.RawSetInt(i+1, glua.LNumber(v+1))
			}
			L.Push(t)
			return 2
		}},
		{Name: "observations", Sig: "opt:observations() -> {{x=, w=, y=, env_index=, how=}, ...}", Desc: "every told evaluation", Fn: func(L *glua.LState) int {
			o := checkOptimizer(L, "Optimizer:observations")
			obs := o.Observations()
			t := L.CreateTable(len(obs), 0)
			for i, ob := range obs {
				r := L.NewTable()
				L.SetField(r, "x", lua.Floats(L, ob.X))
				L.SetField(r, "w", lua.Floats(L, ob.W))
				L.SetField(r, "y", glua.LNumber(ob.Y))
				L.SetField(r, "how", glua.LString(ob.How))
				if ob.EnvIndex >= 0 {
					L.SetField(r, "env_index", glua.LNumber(ob.EnvIndex+1))
				}
				t.RawSetInt(i+1, r)
			}
			L.Push(t)
			return 1
		}},
		{Name: "diagnostics", Sig: "opt:diagnostics() -> {iteration=, n_train=, fit_s=, acq_s=, acq_value=}", Desc: "timings and acquisition value of the last proposal", Fn: func(L *glua.LState) int {
			d := checkOptimizer(L, "Optimizer:diagnostics").Diagnostics()
			L.Push(lua.FromGo(L, map[string]any{"iteration": d.Iteration, "n_train": d.NTrain, "fit_s": d.FitSeconds, "acq_s": d.AcqSeconds, "acq_value": d.AcqValue}))
			return 1
		}},
		{Name: "model", Sig: "opt:model() -> gp model | nil", Desc: "the GP fitted at the last proposal or recommendation", Fn: func(L *glua.LState) int {
			m := checkOptimizer(L, "Optimizer:model").Model()
			if m == nil {
				L.Push(glua.LNil)
			} else {
				L.Push(lua.NewObject(L, gpModelType, m))
			}
			return 1
		}},
		{Name: "named", Sig: "opt:named(x) -> {name = value}", Desc: "x as a table by parameter name", Fn: func(L *glua.LState) int {
			o := checkOptimizer(L, "Optimizer:named")
			x, err := lua.ToFloats(L.Get(2), "x")
			if err != nil {
				return lua.Raise(L, "Optimizer:named", err)
			}
			L.Push(namedX(L, o.Config().Names, x))
			return 1
		}},
	}, func(v any) string {
		o := v.(*bo.Optimizer)
		c := o.Config()
		return fmt.Sprintf("bohost.bo.Optimizer(%s, alpha=%g %s, n_w=%d, d=%d, %d told, iteration %d)",
			c.Acquisition, c.Alpha, c.Convention, c.NW, len(c.Space), len(o.Observations()), o.Iteration())
	})
	return rt.Funcs("bo", []lua.Func{
		{Name: "new", Sig: "bo.new{space=, env=, alpha=0.1, convention=\"bohost\", n_w=16, acquisition=\"rho_kg\", n_initial=, seed=0, kernel=\"rbf\", prior=, ...} -> optimizer",
			Desc: "an ask/tell optimiser of CVaR over environments (also bo.optimizer in the friendly layer)", Fn: func(L *glua.LState) int {
				cfg := OptimizerConfig(L, "bo.new", "", L.Get(1))
				o, err := bo.New(cfg)
				if err != nil {
					return lua.Raise(L, "bo.new", err)
				}
				L.Push(lua.NewObject(L, optimizerType, o))
				return 1
			}},
		{Name: "restore", Sig: "bo.restore(state) -> optimizer", Desc: "rebuilds an optimiser from opt:state() (e.g. after ckpt.load): the next ask is identical", Fn: func(L *glua.LState) int {
			var st bo.State
			if err := fromLuaJSON(L.Get(1), "state", &st); err != nil {
				return lua.Raise(L, "bo.restore", err)
			}
			o, err := bo.Restore(st)
			if err != nil {
				return lua.Raise(L, "bo.restore", err)
			}
			L.Push(lua.NewObject(L, optimizerType, o))
			return 1
		}},
	})
}

func checkOptimizer(L *glua.LState, op string) *bo.Optimizer {
	return lua.CheckObject[*bo.Optimizer](L, 1, op, optimizerType)
}

func luaCtx(L *glua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// Space reads a space: an array of {lo, hi} or of {name=, lo=, hi=, scale=}.
func Space(L *glua.LState, op, what string, v glua.LValue) (bounds [][2]float64, names, scales []string) {
	t, ok := v.(*glua.LTable)
	if !ok || t.Len() == 0 {
		lua.Raisef(L, errs.BadArg, op, "option '%s' must be a non-empty array of {lo, hi} or {name=, lo=, hi=, scale=}, got %s", what, lua.TypeName(v))
	}
	named := false
	for i := 1; i <= t.Len(); i++ {
		p, ok := t.RawGetInt(i).(*glua.LTable)
		if !ok {
			lua.Raisef(L, errs.BadArg, op, "%s[%d] must be {lo, hi} or {name=, lo=, hi=}, got %s", what, i, lua.TypeName(t.RawGetInt(i)))
		}
		var lo, hi float64
		name, scale := fmt.Sprintf("x%d", i-1), "linear"
		if p.RawGetString("lo") != glua.LNil || p.RawGetString("name") != glua.LNil {
			named = true
			o := lua.NestedOpts(L, p, op, fmt.Sprintf("%s[%d]", what, i), "name", "lo", "hi", "scale", "default", "integer", "doc")
			name = o.String("name", name)
			lo, hi = o.Number("lo", math.NaN()), o.Number("hi", math.NaN())
			scale = o.Enum("scale", "linear", "linear", "log")
		} else {
			xs, err := lua.ToFloats(p, fmt.Sprintf("%s[%d]", what, i))
			if err != nil {
				lua.Raise(L, op, err)
			}
			if len(xs) != 2 {
				lua.Raisef(L, errs.BadArg, op, "%s[%d] must be {lo, hi}, got %d values", what, i, len(xs))
			}
			lo, hi = xs[0], xs[1]
		}
		if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			lua.Raisef(L, errs.BadArg, op, "%s[%d] (%s) needs finite lo < hi, got lo=%g hi=%g", what, i, name, lo, hi)
		}
		bounds = append(bounds, [2]float64{lo, hi})
		names = append(names, name)
		scales = append(scales, scale)
	}
	if !named {
		names = nil
	}
	return bounds, names, scales
}

// OptimizerConfig reads the options table of bo.new, or of bo.run's
// optimizer: path is where the table sits in the user's argument ("" for
// bo.new, "optimizer" for bo.run), so that every message names the option as
// the user wrote it ('optimizer.alpha'). An explicit 0 for a count (n_w,
// n_initial, ...) is an error, not the default; leave the key out for that.
func OptimizerConfig(L *glua.LState, op, path string, v glua.LValue) bo.Config {
	t, ok := v.(*glua.LTable)
	if !ok {
		what := "options table"
		if path != "" {
			what = "option '" + path + "' must be a table: the options of bo.optimizer;"
		}
		lua.Raisef(L, errs.BadArg, op, "%s expected, got %s", what, lua.TypeName(v))
	}
	o := lua.NestedOpts(L, t, op, path, optimizerOptions...)
	p := o.Prefix
	var cfg bo.Config
	if !o.Has("space") {
		lua.Raisef(L, errs.BadArg, op, "option '%sspace' is required: {{lo, hi}, ...} or {{name=, lo=, hi=}, ...}", p)
	}
	cfg.Space, cfg.Names, cfg.Scales = Space(L, op, p+"space", o.Get("space"))
	if et := o.Table("env"); et != nil {
		if et.RawGetString("list") != glua.LNil || et.RawGetString("bounds") != glua.LNil || et.RawGetString("select") != glua.LNil {
			eo := lua.NestedOpts(L, et, op, p+"env", "list", "bounds", "select", "indices")
			cfg.Env.List = eo.Matrix("list")
			if eo.Has("bounds") {
				cfg.Env.Bounds, _, _ = Space(L, op, p+"env.bounds", eo.Get("bounds"))
			}
			cfg.Env.Select = eo.String("select", "")
			for _, i := range eo.Floats("indices") {
				cfg.Env.Indices = append(cfg.Env.Indices, int(i)-1)
			}
		} else {
			cfg.Env.Bounds, _, _ = Space(L, op, p+"env", et)
		}
	} else {
		lua.Raisef(L, errs.BadArg, op, "option '%senv' is required: {{lo, hi}, ...} for continuous w, or {list = W} for one w per image", p)
	}
	cfg.Alpha = o.Number("alpha", 0.1)
	cfg.Convention = risk.Convention(o.Enum("convention", "bohost", "bohost", "botorch"))
	cfg.NW = o.Count("n_w", 0)
	cfg.Acquisition = o.Enum("acquisition", bo.AcqRhoKG, bo.AcqRhoKG, bo.AcqQLogNEI, bo.AcqQNEI, bo.AcqUCB, bo.AcqEI, bo.AcqTS, bo.AcqRandom, bo.AcqSobol)
	cfg.Mode = o.String("mode", "")
	cfg.NInitial = o.Count("n_initial", 0)
	cfg.Seed = uint64(o.Int("seed", 0))
	cfg.Design = o.Enum("design", bo.DesignBohost, bo.DesignBohost, bo.DesignTorch)
	if o.Has("kernel") || o.Has("prior") {
		opts := gpDefault()
		opts.Kernel = gpKernel(o.Enum("kernel", "rbf", "rbf", "matern52"))
		if pr := o.Enum("prior", "default", "default", "dimscaled", "gamma", "none"); pr != "default" {
			opts.Prior = gp.Prior(pr) // "default": the kernel's own (BoTorch >= 0.12's dimension-scaled for rbf)
		}
		cfg.GP = &opts
	}
	cfg.MCSamples = o.Count("mc_samples", 0)
	cfg.Fantasies = o.Count("fantasies", 0)
	cfg.UCBBeta = o.Number("ucb_beta", 0)
	if o.Has("ucb_beta") && !(cfg.UCBBeta > 0) {
		lua.Raise(L, op, errs.New(errs.BadArg, op, "option '%sucb_beta' must be > 0, got %g", p, cfg.UCBBeta).
			WithHint("leave ucb_beta out (or nil) for its default, 2"))
	}
	cfg.Optim.Restarts = o.Count("restarts", 0)
	cfg.Optim.RawSamples = o.Count("raw_samples", 0)
	cfg.RecommendFrom = o.String("recommend_from", "")
	cfg.RecommendNW = o.Count("recommend_n_w", 0)
	cfg.HyperSamples = o.Int("hyper_samples", 0)
	cfg.OutlierFactor = o.Number("outlier_factor", 0)
	if o.Has("outlier_factor") && cfg.OutlierFactor == 0 {
		lua.Raise(L, op, errs.New(errs.BadArg, op, "option '%soutlier_factor' must be >= 1, or negative to turn the check off; got 0", p).
			WithHint("leave outlier_factor out (or nil) for its default, %d", bo.DefaultOutlierFactor))
	}
	if err := cfg.Validate(); err != nil {
		// Validate names the field as Lua does ("n_w must ..."); inside
		// bo.run's optimizer the user wrote optimizer.n_w.
		var e *errs.Error
		if p != "" && errors.As(err, &e) {
			e2 := *e
			e2.Msg = p + e2.Msg
			err = &e2
		}
		lua.Raise(L, op, err)
	}
	return cfg
}

// matchCandidate finds the env index of (x, w) among the pending asks, else
// among the environments.
func matchCandidate(o *bo.Optimizer, x, w []float64) bo.Candidate {
	c := bo.Candidate{X: x, W: w, EnvIndex: -1}
	st := o.State()
	for _, p := range st.Pending {
		if equalVec(p.X, x) && equalVec(p.W, w) {
			c.EnvIndex = p.EnvIndex
			return c
		}
	}
	for i, e := range st.Config.Env.List {
		if equalVec(e, w) {
			c.EnvIndex = i
			return c
		}
	}
	return c
}

func equalVec(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pushCandidate(L *glua.LState, c bo.Candidate) {
	L.Push(lua.Floats(L, c.X))
	L.Push(lua.Floats(L, c.W))
	if c.EnvIndex >= 0 {
		L.Push(glua.LNumber(c.EnvIndex + 1))
	} else {
		L.Push(glua.LNil)
	}
}

func optAsk(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:ask")
	cs, err := o.Ask(luaCtx(L))
	if err != nil {
		return lua.Raise(L, "Optimizer:ask", err)
	}
	if len(cs) == 0 {
		return lua.Raisef(L, errs.Internal, "Optimizer:ask", "the optimiser proposed nothing")
	}
	pushCandidate(L, cs[0])
	return 3
}

func optAskBatch(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:ask_batch")
	cs, err := o.Ask(luaCtx(L))
	if err != nil {
		return lua.Raise(L, "Optimizer:ask_batch", err)
	}
	t := L.CreateTable(len(cs), 0)
	for i, c := range cs {
		r := L.NewTable()
		L.SetField(r, "x", lua.Floats(L, c.X))
		L.SetField(r, "w", lua.Floats(L, c.W))
		if c.EnvIndex >= 0 {
			L.SetField(r, "env_index", glua.LNumber(c.EnvIndex+1))
		}
		t.RawSetInt(i+1, r)
	}
	L.Push(t)
	return 1
}

func xw(L *glua.LState, op string) (*bo.Optimizer, []float64, []float64) {
	o := checkOptimizer(L, op)
	x, err := lua.ToFloats(L.Get(2), "x")
	if err != nil {
		lua.Raise(L, op, err)
	}
	w, err := lua.ToFloats(L.Get(3), "w")
	if err != nil {
		lua.Raise(L, op, err)
	}
	return o, x, w
}

func optTell(L *glua.LState) int {
	const op = "Optimizer:tell"
	o, x, w := xw(L, op)
	var y float64
	switch v := L.Get(4).(type) {
	case glua.LNumber:
		y = float64(v)
	case *glua.LTable: // a score record: its f
		f, ok := v.RawGetString("f").(glua.LNumber)
		if !ok {
			return lua.ArgError(L, op, 4, "a number or a score record with a numeric f expected")
		}
		y = float64(f)
	default:
		return lua.ArgError(L, op, 4, "y must be a number or a score record, got %s", lua.TypeName(v))
	}
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return lua.Raisef(L, errs.BadArg, op, "y must be finite, got %v (use opt:tell_failed for failed evaluations)", y)
	}
	if err := o.Tell(matchCandidate(o, x, w), y); err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(L.Get(1))
	return 1
}

func optTellFailed(L *glua.LState) int {
	const op = "Optimizer:tell_failed"
	o, x, w := xw(L, op)
	policy := L.OptString(4, bo.FailWorst)
	if policy != bo.FailWorst && policy != bo.FailSkip {
		return lua.ArgError(L, op, 4, "policy must be \"worst\" or \"skip\", got %q", policy)
	}
	if err := o.TellFailed(matchCandidate(o, x, w), policy); err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(L.Get(1))
	return 1
}

func optRecommend(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:recommend")
	r, err := o.Recommend(luaCtx(L))
	if err != nil {
		return lua.Raise(L, "Optimizer:recommend", err)
	}
	t := L.NewTable()
	L.SetField(t, "x", lua.Floats(L, r.X))
	L.SetField(t, "cvar", glua.LNumber(r.CVaR))
	L.SetField(t, "mean", glua.LNumber(r.Mean))
	L.SetField(t, "named", namedX(L, o.Config().Names, r.X))
	L.Push(t)
	return 1
}

func namedX(L *glua.LState, names []string, x []float64) *glua.LTable {
	t := L.NewTable()
	for i, v := range x {
		n := fmt.Sprintf("x%d", i)
		if i < len(names) && names[i] != "" {
			n = names[i]
		}
		L.SetField(t, n, glua.LNumber(v))
	}
	return t
}

func optState(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:state")
	v, err := toLuaJSON(L, o.State())
	if err != nil {
		return lua.Raise(L, "Optimizer:state", err)
	}
	L.Push(v)
	return 1
}

// toLuaJSON converts a JSON-serialisable Go value to plain Lua data.
// Non-finite floats are not JSON; the engines' states contain none.
func toLuaJSON(L *glua.LState, v any) (glua.LValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, "", err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, errs.Wrap(errs.Internal, "", err)
	}
	return lua.FromGo(L, g), nil
}

// fromLuaJSON fills dst (a JSON-tagged struct) from plain Lua data.
func fromLuaJSON(v glua.LValue, what string, dst any) error {
	g, err := lua.ToGo(v, what)
	if err != nil {
		return err
	}
	b, err := json.Marshal(emptyToNil(g))
	if err != nil {
		return errs.New(errs.BadArg, "", "%s: %v", what, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return errs.New(errs.BadArg, "", "%s is not a valid state: %v", what, err)
	}
	return nil
}

// emptyToNil turns empty Lua tables (which decode as empty objects) into
// JSON nulls, so they fit slice, map and struct fields alike.
func emptyToNil(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		for k, e := range x {
			x[k] = emptyToNil(e)
		}
	case []any:
		for i, e := range x {
			x[i] = emptyToNil(e)
		}
	}
	return v
}
