package bindings

import (
	"fmt"

	"bohost/host/acq"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/lua"
	"bohost/host/risk"

	glua "github.com/yuin/gopher-lua"
)

// Acq is bohost.acq: acquisition functions over a fitted GP of (x, w) and a
// W set, and their optimiser. The raw layer behind bo.optimizer, for scripts
// that write their own loop.
type Acq struct{}

const acqType = "bohost.acq.Function"

// acqFn is an acquisition function: value(x) for x-only acquisitions,
// value(x, w) for ρKG, which proposes a pair.
type acqFn struct {
	kind  string
	dx    int
	W     [][]float64
	value func(x, w, grad []float64) float64 // grad (len x) may be nil
	pair  bool
}

func (Acq) Name() string { return "bohost.acq" }

var acqCommon = []string{"model", "w", "alpha", "convention", "seed"}

func (Acq) Open(rt *lua.Runtime) *glua.LTable {
	if err := rt.Require("bohost.gp"); err != nil {
		panic(err)
	}
	rt.NewType(acqType, "Function", []lua.Func{
		{Name: "value", Sig: "f:value(x [, w]) -> number", Desc: "the acquisition value at x (ρKG: at the pair (x, w))", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*acqFn](L, 1, "Function:value", acqType)
			x, w := acqArgs(L, f, "Function:value")
			L.Push(glua.LNumber(f.value(x, w, nil)))
			return 1
		}},
		{Name: "grad", Sig: "f:grad(x [, w]) -> value, dvalue/dx", Desc: "the value and its analytic gradient in x", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*acqFn](L, 1, "Function:grad", acqType)
			x, w := acqArgs(L, f, "Function:grad")
			g := make([]float64, len(x))
			v := f.value(x, w, g)
			L.Push(glua.LNumber(v))
			L.Push(lua.Floats(L, g))
			return 2
		}},
	}, func(v any) string {
		f := v.(*acqFn)
		return fmt.Sprintf("bohost.acq.Function(%s, d_x=%d, n_w=%d)", f.kind, f.dx, len(f.W))
	})

	nei := func(log bool) glua.LGFunction {
		name := "acq.qnei"
		if log {
			name = "acq.qlognei"
		}
		return func(L *glua.LState) int {
			o := lua.CheckOpts(L, 1, name, append(acqCommon, "baseline", "samples")...)
			post, W, m, dx := acqSetup(L, name, o)
			base := o.Matrix("baseline")
			if len(base) == 0 {
				return lua.Raisef(L, errs.BadArg, name, "option 'baseline' (the x's evaluated so far, x only) is required")
			}
			a, err := acq.NewNEI(post, W, base, m, acq.NEIOptions{Log: log, Samples: o.Int("samples", 0), Seed: uint64(o.Int("seed", 0))})
			if err != nil {
				return lua.Raise(L, name, err)
			}
			L.Push(lua.NewObject(L, acqType, &acqFn{kind: name[4:], dx: dx, W: W, value: func(x, _, g []float64) float64 {
				if g == nil {
					return a.Value(x)
				}
				return a.ValueGrad(x, g)
			}}))
			return 1
		}
	}
	meanRisk := func(name string) glua.LGFunction {
		return func(L *glua.LState) int {
			o := lua.CheckOpts(L, 1, "acq."+name, append(acqCommon, "beta", "best")...)
			post, W, m, dx := acqSetup(L, "acq."+name, o)
			mr, err := acq.NewMeanRisk(post, W, m)
			if err != nil {
				return lua.Raise(L, "acq."+name, err)
			}
			var fn func(x, _, g []float64) float64
			switch name {
			case "ucb":
				beta := o.Number("beta", 2)
				fn = func(x, _, g []float64) float64 {
					if g == nil {
						return mr.UCB(x, beta)
					}
					return mr.UCBGrad(x, beta, g)
				}
			case "ei":
				if !o.Has("best") {
					return lua.Raisef(L, errs.BadArg, "acq.ei", "option 'best' (the best posterior risk so far) is required")
				}
				best := o.Number("best", 0)
				fn = func(x, _, g []float64) float64 {
					if g == nil {
						return mr.EI(x, best)
					}
					return mr.EIGrad(x, best, g)
				}
			default: // posterior-mean risk
				fn = func(x, _, g []float64) float64 {
					if g == nil {
						v, _ := mr.Value(x)
						return v
					}
					return mr.Grad(x, g)
				}
			}
			L.Push(lua.NewObject(L, acqType, &acqFn{kind: name, dx: dx, W: W, value: fn}))
			return 1
		}
	}
	return rt.Funcs("acq", []lua.Func{
		{Name: "qnei", Sig: "acq.qnei{model=, w=W, baseline=X, alpha=0.1, convention=\"bohost\", samples=128, seed=0} -> f", Desc: "qNEI of the risk measure over the W set appended to x (BoTorch's qNoisyExpectedImprovement with AppendFeatures)", Fn: nei(false)},
		{Name: "qlognei", Sig: "acq.qlognei{model=, w=W, baseline=X, alpha=0.1, convention=, samples=128, seed=0} -> f", Desc: "qLogNEI: qNEI in the log domain, smooth and numerically stable (BoTorch's recommended form)", Fn: nei(true)},
		{Name: "rho_kg", Sig: "acq.rho_kg{model=, w=W, x_bounds={{lo, hi}, ...}, alpha=0.1, convention=, fantasies=16, seed=0} -> f", Desc: "BoRisk's ρKG: the one-shot knowledge gradient of CVaR for an evaluation at the pair (x, w)", Fn: func(L *glua.LState) int {
			const op = "acq.rho_kg"
			o := lua.CheckOpts(L, 1, op, append(acqCommon, "x_bounds", "fantasies", "best")...)
			post, W, m, dx := acqSetup(L, op, o)
			if !o.Has("x_bounds") {
				return lua.Raisef(L, errs.BadArg, op, "option 'x_bounds' ({{lo, hi}, ...} of x) is required")
			}
			b, _, _ := Space(L, op, "x_bounds", o.Get("x_bounds"))
			if len(b) != dx {
				return lua.Raisef(L, errs.BadArg, op, "x_bounds has %d dimensions, the model's x has %d", len(b), dx)
			}
			lo, hi := make([]float64, dx), make([]float64, dx)
			for i, r := range b {
				lo[i], hi[i] = r[0], r[1]
			}
			kg, err := acq.NewKG(post, W, m, lo, hi, acq.KGOptions{Fantasies: o.Int("fantasies", 0), Seed: uint64(o.Int("seed", 0)), Best: o.Matrix("best")})
			if err != nil {
				return lua.Raise(L, op, err)
			}
			L.Push(lua.NewObject(L, acqType, &acqFn{kind: "rho_kg", dx: dx, W: W, pair: true, value: func(x, w, g []float64) float64 {
				if g == nil {
					return kg.Value(x, w)
				}
				full := make([]float64, len(x)+len(w))
				v := kg.ValueGrad(x, w, full)
				copy(g, full[:len(x)])
				return v
			}}))
			return 1
		}},
		{Name: "ucb", Sig: "acq.ucb{model=, w=W, alpha=, beta=2} -> f", Desc: "UCB of the posterior CVaR (mean + beta·sd, linearised variance)", Fn: meanRisk("ucb")},
		{Name: "ts", Sig: "acq.ts{model=, w=W, alpha=, convention=, features=1024, seed=0} -> f", Desc: "Thompson sampling: the risk measure over W of one posterior draw of the GP (random Fourier features, conditioned pathwise on the data); a new seed draws a new function", Fn: func(L *glua.LState) int {
			o := lua.CheckOpts(L, 1, "acq.ts", append(acqCommon, "features")...)
			post, W, m, dx := acqSetup(L, "acq.ts", o)
			feats := o.Int("features", 1024)
			if feats < 1 || feats > 1<<16 {
				return lua.Raisef(L, errs.BadArg, "acq.ts", "option 'features' must be in [1, 65536], got %d", feats)
			}
			ts, err := acq.NewTS(post, W, m, acq.TSOptions{Features: feats, Seed: uint64(o.Int("seed", 0))})
			if err != nil {
				return lua.Raise(L, "acq.ts", err)
			}
			L.Push(lua.NewObject(L, acqType, &acqFn{kind: "ts", dx: dx, W: W, value: func(x, _, g []float64) float64 { return ts.ValueGrad(x, g) }}))
			return 1
		}},
		{Name: "ei", Sig: "acq.ei{model=, w=W, alpha=, best=} -> f", Desc: "EI of the posterior CVaR over best", Fn: meanRisk("ei")},
		{Name: "posterior_risk", Sig: "acq.posterior_risk{model=, w=W, alpha=} -> f", Desc: "the posterior-mean CVaR over the W set (what the recommendation maximises)", Fn: meanRisk("posterior_risk")},
		{Name: "optimize", Sig: "acq.optimize(f, bounds, {raw_samples=128, restarts=10, max_iter=100, seed=0}) -> x, value [, w]", Desc: "maximises f over the box of x (Sobol raw samples, then L-BFGS on the analytic gradient); for ρKG also picks w from the W set", Fn: func(L *glua.LState) int {
			const op = "acq.optimize"
			f := lua.CheckObject[*acqFn](L, 1, op, acqType)
			b, _, _ := Space(L, op, "bounds", L.Get(2))
			if len(b) != f.dx {
				return lua.Raisef(L, errs.BadArg, op, "bounds has %d dimensions, the acquisition's x has %d", len(b), f.dx)
			}
			lo, hi := make([]float64, f.dx), make([]float64, f.dx)
			for i, r := range b {
				lo[i], hi[i] = r[0], r[1]
			}
			o := lua.CheckOpts(L, 3, op, "raw_samples", "restarts", "max_iter", "seed")
			oo := acq.OptimOptions{RawSamples: o.Int("raw_samples", 0), Restarts: o.Int("restarts", 0), MaxIter: o.Int("max_iter", 0), Seed: uint64(o.Int("seed", 0))}
			if f.pair {
				x, i, v, err := acq.MaximizeDiscreteGrad(luaCtx(L), func(x []float64, i int, g []float64) float64 { return f.value(x, f.W[i], g) }, lo, hi, len(f.W), nil, oo)
				if err != nil {
					return lua.Raise(L, op, err)
				}
				L.Push(lua.Floats(L, x))
				L.Push(glua.LNumber(v))
				L.Push(lua.Floats(L, f.W[i]))
				return 3
			}
			x, v, err := acq.MaximizeGrad(luaCtx(L), func(x, g []float64) float64 { return f.value(x, nil, g) }, lo, hi, nil, oo)
			if err != nil {
				return lua.Raise(L, op, err)
			}
			L.Push(lua.Floats(L, x))
			L.Push(glua.LNumber(v))
			return 2
		}},
	})
}

// acqSetup reads the model, W set and risk measure shared by every
// acquisition. The model is a fitted GP over (x, w): its inputs are x
// followed by w.
func acqSetup(L *glua.LState, op string, o *lua.Opts) (*acq.Post, [][]float64, risk.Measure, int) {
	mv, ok := o.Get("model").(*glua.LUserData)
	var m *gp.Model
	if ok {
		m, _ = mv.Value.(*gp.Model)
	}
	if m == nil {
		lua.Raisef(L, errs.BadArg, op, "option 'model' must be a fitted bohost.gp.Model over (x, w), got %s", lua.TypeName(o.Get("model")))
	}
	if !m.Fitted() {
		lua.Raise(L, op, errs.New(errs.BadState, op, "the model is not fitted").WithHint("call model:fit(X, Y) with rows x..w first"))
	}
	W := o.Matrix("w")
	if len(W) == 0 {
		lua.Raisef(L, errs.BadArg, op, "option 'w' (the W set: an array of w) is required")
	}
	dx := m.Dim() - len(W[0])
	if dx < 1 {
		lua.Raisef(L, errs.BadArg, op, "w has %d dimensions but the model has only %d inputs (x then w)", len(W[0]), m.Dim())
	}
	meas := risk.Measure{Kind: risk.KindCVaR, Alpha: o.Number("alpha", 0.1), Convention: risk.Convention(o.Enum("convention", "bohost", "bohost", "botorch"))}
	if err := meas.Validate(); err != nil {
		lua.Raise(L, op, err)
	}
	st := m.State()
	post, err := acq.NewPost(m, st.X, st.Y)
	if err != nil {
		lua.Raise(L, op, err)
	}
	return post, W, meas, dx
}

func acqArgs(L *glua.LState, f *acqFn, op string) ([]float64, []float64) {
	x, err := lua.ToFloats(L.Get(2), "x")
	if err != nil {
		lua.Raise(L, op, err)
	}
	if len(x) != f.dx {
		lua.Raisef(L, errs.BadArg, op, "x has %d values, the acquisition's x has %d", len(x), f.dx)
	}
	if !f.pair {
		return x, nil
	}
	w, err := lua.ToFloats(L.Get(3), "w")
	if err != nil {
		lua.Raise(L, op, err)
	}
	if len(w) != len(f.W[0]) {
		lua.Raisef(L, errs.BadArg, op, "w has %d values, the W set's w have %d", len(w), len(f.W[0]))
	}
	return x, w
}
