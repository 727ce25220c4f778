package bindings

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// BO is bohost.bo: the ask/tell risk-averse optimiser (host/bo).
type BO struct{}

const optimizerType = "bohost.bo.Optimizer"

func (BO) Name() string { return "bohost.bo" }

func (BO) Open(rt *lua.Runtime) *glua.LTable {
	if err := rt.Require("bohost.gp"); err != nil { // opt:model() returns gp models
		panic(err)
	}
	rt.NewType(optimizerType, "Optimizer", []lua.Func{
		{Name: "pending", Sig: "opt:pending() -> candidates", Desc: "the candidates asked and not told yet, in ask order, as an array of {x =, w =, env_index =, iteration =}", Fn: optPending},
		{Name: "ask", Sig: "opt:ask([{q = k}]) -> x, w, env_index | candidates", Desc: "the next evaluation to run (x and w as arrays; env_index is 1-based, nil for continuous w); with {q = k}, k new iterations proposed even while earlier candidates are pending, conditioned on them, as an array of {x =, w =, env_index =} (k pairs, or k x's each at every w of the W set in all_w mode); tell them back in any order", Fn: optAsk},
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
				if _, ok := L.Get(1).(*glua.LTable); !ok {
					return lua.ArgError(L, "bo.new", 1, "options table expected, got %s", lua.TypeName(L.Get(1)))
				}
				cfg, err := OptimizerConfig(L.Get(1), "")
				if err != nil {
					return lua.Raise(L, "bo.new", err)
				}
				o, err := bo.New(cfg) // validates, naming options as Lua does
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
	var s spaceOption
	if err := s.UnmarshalLua(v, what); err != nil {
		lua.Raise(L, op, err)
	}
	return s.Bounds, s.Names, s.Scales
}

// spaceOption is a space as Lua gives it: {{lo, hi}, ...}, or
// {{name =, lo =, hi =, scale =}, ...} (as airline.space() returns it, with
// default, integer and doc, which the optimiser ignores).
type spaceOption struct {
	Bounds        [][2]float64
	Names, Scales []string // Names nil for {lo, hi} pairs
}

// spaceParam is one dimension given by name.
type spaceParam struct {
	Name    string  `json:"name"`
	Lo      float64 `json:"lo"`
	Hi      float64 `json:"hi"`
	Scale   string  `json:"scale" lua:",enum=linear|log"`
	Default any     `json:"default"`
	Integer any     `json:"integer"`
	Doc     any     `json:"doc"`
}

func (s *spaceOption) UnmarshalLua(v glua.LValue, path string) error {
	t, ok := v.(*glua.LTable)
	if !ok || t.Len() == 0 {
		return lua.OptionError(path, "must be a non-empty array of {lo, hi} or {name=, lo=, hi=, scale=}, got %s", lua.TypeName(v))
	}
	if n := countKeys(t); n != t.Len() {
		return lua.OptionError(path, "must be an array of {lo, hi} or {name=, lo=, hi=}; it also has %d other keys", n-t.Len())
	}
	*s = spaceOption{}
	named := false
	for i := 1; i <= t.Len(); i++ {
		at := fmt.Sprintf("%s[%d]", path, i)
		pt, ok := t.RawGetInt(i).(*glua.LTable)
		if !ok {
			return lua.OptionError(at, "must be {lo, hi} or {name=, lo=, hi=}, got %s", lua.TypeName(t.RawGetInt(i)))
		}
		p := spaceParam{Name: fmt.Sprintf("x%d", i-1), Lo: math.NaN(), Hi: math.NaN(), Scale: "linear"}
		if pt.RawGetString("lo") != glua.LNil || pt.RawGetString("name") != glua.LNil {
			named = true
			if err := lua.Decode(pt, at, &p); err != nil {
				return err
			}
		} else {
			var lohi [2]float64
			if err := lua.Decode(pt, at, &lohi); err != nil {
				return err
			}
			p.Lo, p.Hi = lohi[0], lohi[1]
		}
		if !(p.Lo < p.Hi) || math.IsInf(p.Lo, 0) || math.IsInf(p.Hi, 0) {
			return errs.New(errs.BadArg, "", "%s (%s) needs finite lo < hi, got lo=%g hi=%g", at, p.Name, p.Lo, p.Hi)
		}
		s.Bounds = append(s.Bounds, [2]float64{p.Lo, p.Hi})
		s.Names = append(s.Names, p.Name)
		s.Scales = append(s.Scales, p.Scale)
	}
	if !named {
		s.Names = nil
	}
	return nil
}

func countKeys(t *glua.LTable) int {
	n := 0
	t.ForEach(func(_, _ glua.LValue) { n++ })
	return n
}

// envOption is env as Lua gives it: a box {{lo, hi}, ...} for continuous w,
// or {list = W, select =, indices =} (indices 1-based) for one w per image.
type envOption bo.Env

func (e *envOption) UnmarshalLua(v glua.LValue, path string) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return lua.OptionError(path, "must be {{lo, hi}, ...} for continuous w, or {list = W} for one w per image, got %s", lua.TypeName(v))
	}
	if t.Len() > 0 {
		var box spaceOption
		err := box.UnmarshalLua(t, path)
		*e = envOption{Bounds: box.Bounds}
		return err
	}
	var f struct {
		bo.Env
		Bounds  *spaceOption `json:"bounds"`
		Indices []int        `json:"indices"` // 1-based
	}
	if err := lua.Decode(t, path, &f); err != nil {
		return err
	}
	*e = envOption(f.Env)
	if f.Bounds != nil {
		e.Bounds = f.Bounds.Bounds
	}
	e.Indices = nil
	for _, i := range f.Indices {
		e.Indices = append(e.Indices, i-1)
	}
	return nil
}

// optimizerOptions is the Lua face of bo.Config, the options of bo.new and
// bo.run's optimizer: bo.Config's own options by their json tags (a new one
// needs no edit here), and the keys whose Lua shape differs from
// config.json's.
type optimizerOptions struct {
	bo.Config
	Space      spaceOption `json:"space"` // also Names and Scales
	Env        envOption   `json:"env"`
	Kernel     string      `json:"kernel" lua:",enum=rbf|matern52"`                // GP
	Prior      string      `json:"prior" lua:",enum=default|dimscaled|gamma|none"` // GP ("default": the kernel's own)
	Restarts   int         `json:"restarts" lua:",count"`                          // Optim
	RawSamples int         `json:"raw_samples" lua:",count"`                       // Optim
}

// newOptimizerOptions has the defaults of the Lua face that bo.Config
// does not have (its zero alpha is an error): decode into it.
func newOptimizerOptions() optimizerOptions {
	return optimizerOptions{Config: bo.Config{Alpha: 0.1}}
}

func (o *optimizerOptions) config() bo.Config {
	c := o.Config
	c.Space, c.Names, c.Scales = o.Space.Bounds, o.Space.Names, o.Space.Scales
	c.Env = bo.Env(o.Env)
	if o.Kernel != "" || o.Prior != "" {
		g := gpDefault()
		if o.Kernel != "" {
			g.Kernel = gp.Kernel(o.Kernel)
		}
		if o.Prior != "" && o.Prior != "default" {
			g.Prior = gp.Prior(o.Prior) // "default": the kernel's own (BoTorch >= 0.12's dimension-scaled for rbf)
		}
		c.GP = &g
	}
	c.Optim.Restarts, c.Optim.RawSamples = o.Restarts, o.RawSamples
	return c
}

// OptimizerConfig decodes the options table of bo.new, or of bo.run's
// optimizer (path "optimizer": messages name 'optimizer.alpha' as the user
// wrote it). An explicit 0 for a count (n_w, n_initial, ...) is an error,
// not the default; leave the key out for that. The config is not validated:
// bo.New and run.Config.Validate do that, naming options as Lua does.
func OptimizerConfig(v glua.LValue, path string) (bo.Config, error) {
	o := newOptimizerOptions()
	if err := lua.Decode(v, path, &o); err != nil {
		return bo.Config{}, err
	}
	return o.config(), nil
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
	if L.GetTop() >= 2 && L.Get(2) != glua.LNil {
		return optAskMore(L, o)
	}
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

// optAskMore is opt:ask{q = k}: the asynchronous ask (bo.Optimizer.AskMore).
func optAskMore(L *glua.LState, o *bo.Optimizer) int {
	const op = "Optimizer:ask"
	var args struct {
		Q int `json:"q" lua:",count"`
	}
	if err := lua.Decode(L.Get(2), "", &args); err != nil {
		return lua.Raise(L, op, err)
	}
	if args.Q == 0 {
		args.Q = 1
	}
	cs, err := o.AskMore(luaCtx(L), args.Q)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	pushCandidates(L, cs)
	return 1
}

func optAskBatch(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:ask_batch")
	cs, err := o.Ask(luaCtx(L))
	if err != nil {
		return lua.Raise(L, "Optimizer:ask_batch", err)
	}
	pushCandidates(L, cs)
	return 1
}

func optPending(L *glua.LState) int {
	o := checkOptimizer(L, "Optimizer:pending")
	cs, at := o.Pending()
	pushCandidates(L, cs)
	t := L.Get(-1).(*glua.LTable)
	for i := range cs {
		t.RawGetInt(i+1).(*glua.LTable).RawSetString("iteration", glua.LNumber(at[i]))
	}
	return 1
}

// pushCandidates pushes an array of {x =, w =, env_index =}.
func pushCandidates(L *glua.LState, cs []bo.Candidate) {
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
	if err := o.Tell(o.CandidateFor(x, w), y); err != nil {
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
	if err := o.TellFailed(o.CandidateFor(x, w), policy); err != nil {
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
