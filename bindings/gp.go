package bindings

import (
	"context"
	"fmt"
	"math/rand/v2"

	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// GP is bohost.gp: exact Gaussian-process regression (host/gp).
type GP struct{}

const gpModelType = "bohost.gp.Model"

func (GP) Name() string { return "bohost.gp" }

func (GP) Open(rt *lua.Runtime) *glua.LTable {
	rt.NewType(gpModelType, "Model", []lua.Func{
		{Name: "fit", Sig: "model:fit(X, Y) -> model", Desc: "fits the hyper-parameters (MAP, L-BFGS with restarts) to rows X and targets Y", Fn: gpFit},
		{Name: "predict", Sig: "model:predict(X) -> means, variances", Desc: "posterior mean and latent variance at each row of X", Fn: gpPredict},
		{Name: "sample", Sig: "model:sample(X, n [, seed]) -> samples", Desc: "n joint posterior samples over the rows of X (n arrays of #X values), deterministic for a seed", Fn: gpSample},
		{Name: "hyper", Sig: "model:hyper() -> {lengthscales=, outputscale=, noise=, mean=}", Desc: "hyper-parameters in unit-cube and standardised units", Fn: gpHyper},
		{Name: "lml", Sig: "model:lml() -> number", Desc: "log marginal likelihood of the standardised data (without priors)", Fn: func(L *glua.LState) int {
			m := checkFitted(L, "Model:lml")
			L.Push(glua.LNumber(m.LogMarginalLikelihood()))
			return 1
		}},
		{Name: "n", Sig: "model:n() -> number", Desc: "number of training points", Fn: func(L *glua.LState) int {
			L.Push(glua.LNumber(lua.CheckObject[*gp.Model](L, 1, "Model:n", gpModelType).N()))
			return 1
		}},
	}, func(v any) string {
		m := v.(*gp.Model)
		k := m.Options().Kernel
		if k == "" {
			k = gp.RBF
		}
		if !m.Fitted() {
			return fmt.Sprintf("bohost.gp.Model(%s, not fitted)", k)
		}
		return fmt.Sprintf("bohost.gp.Model(n=%d, d=%d, %s)", m.N(), m.Dim(), k)
	})
	return rt.Funcs("gp", []lua.Func{
		{Name: "new", Sig: "gp.new{kernel=\"rbf\"|\"matern52\", bounds=, noise=, noise_floor=1e-4, restarts=4, max_iter=200, seed=0} -> model",
			Desc: "a GP model; noise=nil learns the noise, a number fixes it (standardised units)", Fn: gpNew},
	})
}

func gpNew(L *glua.LState) int {
	const op = "gp.new"
	o := lua.CheckOpts(L, 1, op, "kernel", "bounds", "noise", "noise_floor", "restarts", "max_iter", "seed")
	opts := gp.DefaultOptions()
	opts.Kernel = gp.Kernel(o.Enum("kernel", "rbf", "rbf", "matern52"))
	if o.Has("noise") {
		opts.LearnNoise = false
		opts.Noise = o.Number("noise", 0)
	}
	opts.NoiseFloor = o.Number("noise_floor", opts.NoiseFloor)
	opts.Restarts = o.Int("restarts", opts.Restarts)
	opts.MaxIter = o.Int("max_iter", opts.MaxIter)
	opts.Seed = uint64(o.Int("seed", 0))
	if b := o.Matrix("bounds"); b != nil {
		for i, r := range b {
			if len(r) != 2 {
				return lua.Raisef(L, errs.BadArg, op, "bounds[%d] must be {lo, hi}, got %d values", i+1, len(r))
			}
			opts.Bounds = append(opts.Bounds, [2]float64{r[0], r[1]})
		}
	}
	m, err := gp.New(opts)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(lua.NewObject(L, gpModelType, m))
	return 1
}

func checkFitted(L *glua.LState, op string) *gp.Model {
	m := lua.CheckObject[*gp.Model](L, 1, op, gpModelType)
	if !m.Fitted() {
		lua.Raise(L, op, errs.New(errs.BadState, op, "the model is not fitted").WithHint("call model:fit(X, Y) first"))
	}
	return m
}

func gpFit(L *glua.LState) int {
	const op = "Model:fit"
	m := lua.CheckObject[*gp.Model](L, 1, op, gpModelType)
	X, err := lua.ToMatrix(L.Get(2), "X")
	if err != nil {
		return lua.Raise(L, op, err)
	}
	Y, err := lua.ToFloats(L.Get(3), "Y")
	if err != nil {
		return lua.Raise(L, op, err)
	}
	if len(X) != len(Y) {
		return lua.Raisef(L, errs.BadArg, op, "X has %d rows but Y has %d values", len(X), len(Y))
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := m.Fit(ctx, X, Y); err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(L.Get(1))
	return 1
}

func gpPredict(L *glua.LState) int {
	const op = "Model:predict"
	m := checkFitted(L, op)
	X, err := lua.ToMatrix(L.Get(2), "X")
	if err != nil {
		return lua.Raise(L, op, err)
	}
	mean, vr, err := m.Predict(X)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(lua.Floats(L, mean))
	L.Push(lua.Floats(L, vr))
	return 2
}

func gpSample(L *glua.LState) int {
	const op = "Model:sample"
	m := checkFitted(L, op)
	X, err := lua.ToMatrix(L.Get(2), "X")
	if err != nil {
		return lua.Raise(L, op, err)
	}
	n := L.CheckInt(3)
	if n < 1 || n > 1_000_000 {
		return lua.Raisef(L, errs.BadArg, op, "n must be in [1, 1e6], got %d", n)
	}
	seed := uint64(L.OptInt(4, 0))
	post, err := m.Posterior(X)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	base := make([]float64, len(X))
	out := L.CreateTable(n, 0)
	for i := 0; i < n; i++ {
		for j := range base {
			base[j] = r.NormFloat64()
		}
		out.RawSetInt(i+1, lua.Floats(L, post.Sample(base, nil)))
	}
	L.Push(out)
	return 1
}

func gpHyper(L *glua.LState) int {
	m := checkFitted(L, "Model:hyper")
	h := m.Hyper()
	L.Push(lua.FromGo(L, map[string]any{"lengthscales": h.Lengthscales, "outputscale": h.Outputscale, "noise": h.Noise, "mean": h.Mean}))
	return 1
}

func gpDefault() gp.Options { o := gp.DefaultOptions(); o.Restarts = 1; return o }
