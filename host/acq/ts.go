package acq

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"bohost/host/errs"
	"bohost/host/risk"
)

// TSOptions configure a Thompson-sampling acquisition.
type TSOptions struct {
	Features int    // random Fourier features of the prior draw (default 1024)
	Seed     uint64 // seeds the draw
}

// TS is Thompson sampling of the risk measure: one posterior draw f̃ of the
// GP as a function (pathwise conditioning, Wilson et al. 2020: a random
// Fourier feature draw from the prior, f̃ = f_prior + k(·, X)(K + σ²I)⁻¹
// (y − f_prior(X) − ε)), and the acquisition value ρ(f̃(x, W)) with its
// analytic gradient. Maximising it proposes the x that is best under one
// plausible world, so exploration follows the posterior uncertainty instead
// of a fixed optimism multiplier. The draw is fixed for the TS value: Value
// is a deterministic, smooth function of x.
type TS struct {
	p     *Post
	w     [][]float64
	r     rho
	m     int
	omega []float64 // m×d frequencies (unit-cube inputs)
	b     []float64 // m phases
	a     []float64 // m amplitudes √(2σ²/m)·θ
	v     []float64 // n: (K + σ²I)⁻¹ (y − c − f_prior(X) − ε), standardised
}

// NewTS draws the posterior sample of p for the TS acquisition over W.
func NewTS(p *Post, W [][]float64, m risk.Measure, o TSOptions) (*TS, error) {
	if len(W) == 0 {
		return nil, errs.New(errs.BadArg, "acq.NewTS", "W must hold at least one w, got 0")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if o.Features <= 0 {
		o.Features = 1024
	}
	d, M := p.d, o.Features
	rng := newStream(o.Seed, 0x7453)
	t := &TS{p: p, w: W, r: newRho(m, len(W)), m: M,
		omega: make([]float64, M*d), b: make([]float64, M), a: make([]float64, M)}
	// spectral draws: RBF → ω ~ N(0, diag(1/ℓ²)); Matérn-5/2 → multivariate
	// Student-t with 5 degrees of freedom and the same scale.
	chi := distuv.Gamma{Alpha: 2.5, Beta: 1, Src: rng}
	amp := math.Sqrt(2 * p.os / float64(M))
	for j := 0; j < M; j++ {
		s := 1.0
		if p.matern {
			s = math.Sqrt(5 / (2 * chi.Rand()))
		}
		for k := 0; k < d; k++ {
			t.omega[j*d+k] = rng.NormFloat64() * math.Sqrt(p.invl2[k]) * s
		}
		t.b[j] = 2 * math.Pi * rng.Float64()
		t.a[j] = amp * rng.NormFloat64()
	}
	// r = (y − c) − f_prior(X) − ε, then v = (K + σ²I)⁻¹ r = α − (K + σ²I)⁻¹(f_prior(X) + ε)
	n := p.n
	e := make([]float64, n)
	sn := math.Sqrt(p.noise)
	for i := 0; i < n; i++ {
		e[i] = t.prior(p.xs[i*d:(i+1)*d], nil) + sn*rng.NormFloat64()
	}
	p.solve(e)
	t.v = make([]float64, n)
	for i := range t.v {
		t.v[i] = p.alpha[i] - e[i]
	}
	return t, nil
}

// prior returns the feature draw at unit point u and adds its gradient with
// respect to the raw coordinates to grad (first len(grad) coordinates).
func (t *TS) prior(u, grad []float64) float64 {
	d := t.p.d
	var f float64
	for j := 0; j < t.m; j++ {
		om := t.omega[j*d : (j+1)*d]
		arg := t.b[j]
		for k, uk := range u {
			arg += om[k] * uk
		}
		f += t.a[j] * math.Cos(arg)
		if grad != nil {
			g := -t.a[j] * math.Sin(arg)
			for k := range grad {
				grad[k] += g * om[k] / t.p.sc[k]
			}
		}
	}
	return f
}

// sample returns the draw (standardised units) at unit point u and adds its
// gradient (raw coordinates, first len(grad)) to grad when non-nil.
func (t *TS) sample(u, grad []float64) float64 {
	p, d := t.p, t.p.d
	f := p.c0 + t.prior(u, grad)
	for i := 0; i < p.n; i++ {
		xi := p.xs[i*d : (i+1)*d]
		f += t.v[i] * p.k(xi, u)
		if grad != nil {
			p.kgrad(xi, u, t.v[i], grad)
		}
	}
	return f
}

// Value returns ρ(f̃(x, W)) in raw output units.
func (t *TS) Value(x []float64) float64 { return t.ValueGrad(x, nil) }

// ValueGrad returns ρ(f̃(x, W)) and fills grad (len(x), when non-nil) with
// its gradient (the measure's weights at the sampled values).
func (t *TS) ValueGrad(x, grad []float64) float64 {
	p, nw, dx := t.p, len(t.w), len(x)
	z := make([]float64, p.d)
	u := make([]float64, p.d)
	vals := make([]float64, nw)
	var gs []float64 // nw×dx: ∂f̃(x, w_i)/∂x, filled in the same pass as the values
	if grad != nil {
		gs = make([]float64, nw*dx)
	}
	for i, w := range t.w {
		copy(z, x)
		copy(z[dx:], w)
		p.unit(z, u)
		var g []float64
		if gs != nil {
			g = gs[i*dx : (i+1)*dx]
		}
		vals[i] = p.ymu + p.ysd*t.sample(u, g)
	}
	a := make([]float64, nw)
	val := t.r.evalW(vals, make([]float64, nw+1), make([]int, nw+1), a)
	if grad != nil {
		for k := range grad {
			grad[k] = 0
		}
		for i := range t.w {
			if a[i] == 0 {
				continue
			}
			for k := range grad {
				grad[k] += a[i] * p.ysd * gs[i*dx+k]
			}
		}
	}
	return val
}
