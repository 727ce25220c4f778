package gp

import (
	"context"
	"math"
	"math/rand/v2"

	"bohost/host/errs"
)

// SampleOptions configure SampleHyper.
type SampleOptions struct {
	// Samples is the number of hyper-parameter draws returned (≥ 1).
	Samples int
	// Burn is the number of slice-sampling sweeps discarded first (default 20).
	Burn int
	// Thin is the number of sweeps between kept draws (default 2).
	Thin int
	// Seed seeds the sampler (math/rand/v2 PCG).
	Seed uint64
}

// SampleHyper draws hyper-parameters from their posterior given the model's
// data: p(θ | y) ∝ p(y | θ) p(θ), with θ in the log space of the fit (log ℓ,
// log σ², log(noise − floor)) and the constant mean, restricted to the fit's
// box. The sampler is univariate slice sampling with stepping out (Neal 2003),
// one sweep over the coordinates in order, started at the fitted
// (MAP) hyper-parameters. The density on θ includes the Jacobian of the log
// transforms, so it is the posterior of the priors' own parameters (with
// PriorNone the prior is flat in θ: log-uniform on the fit's box). The
// draws depend only on the data, the fitted hyper-parameters and the seed.
//
// This is the hyper-parameter marginalisation of a fully Bayesian GP
// (BoTorch's SaasFullyBayesianSingleTaskGP uses NUTS for the same purpose):
// an acquisition averaged over the draws accounts for lengthscale
// uncertainty, which the MAP fit ignores.
func (m *Model) SampleHyper(ctx context.Context, so SampleOptions) ([]Hyper, error) {
	const op = "gp.sample_hyper"
	if err := m.needFit(op); err != nil {
		return nil, err
	}
	if so.Samples < 1 {
		return nil, errs.New(errs.BadArg, op, "samples must be at least 1, got %d", so.Samples)
	}
	if so.Burn == 0 {
		so.Burn = 20
	}
	if so.Thin == 0 {
		so.Thin = 2
	}
	if so.Burn < 0 || so.Thin < 1 {
		return nil, errs.New(errs.BadArg, op, "burn must be ≥ 0 and thin ≥ 1, got %d and %d", so.Burn, so.Thin)
	}
	o := m.opts
	pri := makePriors(o.prior(), m.d)
	floor := o.NoiseFloor
	if !o.LearnNoise {
		floor = o.Noise
	}
	p := newProblemGrid(m.u, m.ys, m.d, o.kernel(), pri, o.LearnNoise, floor, !o.DenseOnly)
	w := p.newWork()
	nlog := p.dim() - 1 // every coordinate but the constant mean is a log
	logpost := func(th []float64) float64 {
		for i, t := range th {
			if t < p.lo[i] || t > p.hi[i] {
				return math.Inf(-1)
			}
		}
		lml, lp, ok := p.lmlGrad(w, p.hyper(th), nil)
		if !ok || math.IsNaN(lml) {
			return math.Inf(-1)
		}
		if pri.flat {
			return lml // PriorNone: flat in θ, i.e. log-uniform on the box
		}
		for i := 0; i < nlog; i++ {
			lp += th[i] // Jacobian of the exp transform
		}
		return lml + lp
	}
	th := p.theta(m.h)
	cur := logpost(th)
	if math.IsInf(cur, -1) {
		return nil, errs.New(errs.NotPD, op, "the fitted hyper-parameters have zero posterior density").
			WithHint("refit the model")
	}
	rng := rand.New(rand.NewPCG(so.Seed, 0x51ce))
	sweep := func() error {
		if err := ctx.Err(); err != nil {
			return errs.Wrap(errs.Canceled, op, err)
		}
		for i := range th {
			cur = slice1(th, i, cur, 1, logpost, rng) // width 1 in log space: a factor e
		}
		return nil
	}
	for s := 0; s < so.Burn; s++ {
		if err := sweep(); err != nil {
			return nil, err
		}
	}
	out := make([]Hyper, 0, so.Samples)
	for len(out) < so.Samples {
		for s := 0; s < so.Thin; s++ {
			if err := sweep(); err != nil {
				return nil, err
			}
		}
		out = append(out, p.hyper(th))
	}
	return out, nil
}

// slice1 updates th[i] by one univariate slice-sampling step with stepping
// out (width w, at most 8 steps each way) and shrinkage, and returns the new
// log density. f(th) must be cur on entry.
func slice1(th []float64, i int, cur, w float64, f func([]float64) float64, rng *rand.Rand) float64 {
	x0 := th[i]
	logy := cur + math.Log(1-rng.Float64()) // log(u·p), u ∈ (0, 1]
	l := x0 - w*rng.Float64()
	r := l + w
	eval := func(x float64) float64 {
		th[i] = x
		return f(th)
	}
	j := rng.IntN(8)
	k := 7 - j
	for ; j > 0 && eval(l) > logy; j-- {
		l -= w
	}
	for ; k > 0 && eval(r) > logy; k-- {
		r += w
	}
	for it := 0; it < 200; it++ {
		x := l + rng.Float64()*(r-l)
		if v := eval(x); v > logy {
			return v
		}
		if x < x0 {
			l = x
		} else {
			r = x
		}
	}
	th[i] = x0
	return cur
}
