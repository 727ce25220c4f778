package acq

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"bohost/host/errs"
	"bohost/host/risk"
	"bohost/host/sobol"
)

// KGOptions configure ρKG. The zero value gives the defaults.
type KGOptions struct {
	Fantasies int    // fantasy observations per candidate (default 16, as BoTorch's tutorial); made even (antithetic pairs)
	Seed      uint64 // seeds the fantasy base samples and the inner Sobol candidates
	// InnerSobol is the number of scrambled-Sobol x's in the fixed inner
	// solution set (default 64).
	InnerSobol int
	// Best are x's always in the inner solution set: the evaluated x's with
	// the highest posterior-mean risk, the current recommendation.
	Best [][]float64
	// Local is the number of Gaussian perturbations (sd 2.5 % of the range)
	// added around each of the first 4 Best x's (default 8).
	Local int
}

func (o *KGOptions) defaults() {
	if o.Fantasies <= 0 {
		o.Fantasies = 16
	}
	if o.Fantasies%2 == 1 {
		o.Fantasies++
	}
	if o.InnerSobol <= 0 {
		o.InnerSobol = 64
	}
	if o.Local <= 0 {
		o.Local = 8
	}
}

// KG is ρKG (BoRisk, Cakmak et al. 2020) for CVaR over a W set in the
// one-shot style of BoTorch's tutorial, made affordable:
//
//	ρKG(x, w) = E_y[ max_x' ρ(μ_{n+1}(x', W) | y at (x, w)) ] − max_x' E_y[ ρ(μ_{n+1}(x', W)) ]
//
// The inner value is the risk measure of the posterior mean over W (not the
// posterior mean of the risk measure), the max over x' runs over a fixed set
// of inner solutions (the Best x's, local perturbations of them, Sobol x's)
// plus the candidate's own x, and y runs over antithetic fixed fantasy draws.
// A fantasy at (x, w) moves the posterior mean by the rank-1 update
// k_n(·, (x, w)) (y − μ)/s², so one solve per candidate gives every fantasy.
// Subtracting max_x' E_y[…] instead of max_x' ρ(μ_n(x', W)) removes the
// Jensen gap of ρ(mean) (which is not a martingale): the value is the value
// of information of one observation for choosing x', and it is ≥ 0.
//
// Value is safe for concurrent use.
type KG struct {
	p     *Post
	w     [][]float64
	dx    int
	r     rho
	z     []float64 // fantasy base draws (standard normal, antithetic)
	inner [][]float64
	c     *pointSet // inner × W
	pool  sync.Pool
}

// NewKG sets up ρKG for the posterior p over (x, w), the W set W, the x box
// [xlo, xhi] and the measure.
func NewKG(p *Post, W [][]float64, m risk.Measure, xlo, xhi []float64, o KGOptions) (*KG, error) {
	const op = "acq.NewKG"
	o.defaults()
	if len(W) == 0 {
		return nil, errs.New(errs.BadArg, op, "W must hold at least one w, got 0")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	dx := p.d - len(W[0])
	if dx <= 0 || len(xlo) != dx || len(xhi) != dx {
		return nil, errs.New(errs.BadArg, op, "x bounds have %d/%d values, want %d", len(xlo), len(xhi), dx)
	}
	a := &KG{p: p, w: W, dx: dx, r: newRho(m, len(W))}
	half := baseNormals(1, o.Fantasies/2, o.Seed^0x66616e74)
	for _, h := range half {
		a.z = append(a.z, h[0], -h[0])
	}
	a.inner = innerSet(o, xlo, xhi)
	var Z [][]float64
	for _, x := range a.inner {
		Z = append(Z, appendW(x, W)...)
	}
	a.c = p.points(Z)
	return a, nil
}

// innerSet builds the fixed inner solution set.
func innerSet(o KGOptions, lo, hi []float64) [][]float64 {
	dx := len(lo)
	var out [][]float64
	for _, b := range o.Best {
		out = append(out, clip(append([]float64(nil), b...), lo, hi))
	}
	rng := newStream(o.Seed, 0x6c6f63616c)
	for bi, b := range o.Best {
		if bi >= 4 {
			break
		}
		for j := 0; j < o.Local; j++ {
			x := make([]float64, dx)
			for k := range x {
				x[k] = b[k] + 0.025*(hi[k]-lo[k])*rng.NormFloat64()
			}
			out = append(out, clip(x, lo, hi))
		}
	}
	if s, err := sobol.New(dx, true, o.Seed^0x696e6e6572); err == nil {
		for _, u := range s.Draw(o.InnerSobol) {
			x := make([]float64, dx)
			for k := range x {
				x[k] = lo[k] + u[k]*(hi[k]-lo[k])
			}
			out = append(out, x)
		}
	}
	return out
}

func clip(x, lo, hi []float64) []float64 {
	for k := range x {
		x[k] = math.Min(math.Max(x[k], lo[k]), hi[k])
	}
	return x
}

// Inner returns the fixed inner solution set.
func (a *KG) Inner() [][]float64 { return a.inner }

type kgScratch struct {
	cv, mean, vals, buf []float64
}

// Value returns ρKG at the pair (x, w) in raw output units.
func (a *KG) Value(x, w []float64) float64 { return a.ValueGrad(x, w, nil) }

// ValueGrad returns Value(x, w) and, when grad != nil (len(x)+len(w)),
// fills it with the exact gradient in (x, w) for the fixed fantasy draws and
// inner set (the maxima over x' and the measure's tails held at their
// current choices): through the fantasy's cross-covariances with the inner
// and own points, its predictive variance, and the own points' means.
func (a *KG) ValueGrad(x, w, grad []float64) float64 {
	p, nw := a.p, len(a.w)
	sc, _ := a.pool.Get().(*kgScratch)
	if sc == nil {
		sc = &kgScratch{vals: make([]float64, nw), buf: make([]float64, nw+1)}
	}
	defer a.pool.Put(sc)
	zp := p.points([][]float64{append(append([]float64(nil), x...), w...)})
	s2 := p.noise + p.cov(zp, 0, zp, 0)
	clamped := false
	if !(s2 > 1e-12) {
		s2, clamped = 1e-12, true
	}
	inv := 1 / math.Sqrt(s2)
	own := p.points(appendW(x, a.w))
	M := len(a.inner) + 1
	nC := a.c.m
	if cap(sc.cv) < M*nw {
		sc.cv = make([]float64, M*nw)
		sc.mean = make([]float64, M)
	}
	cv := sc.cv[:M*nw]
	// c = k(C, z) − V_Cᵀ v_z for the inner set, then the candidate's own x.
	d := p.d
	for j := 0; j < nC; j++ {
		cv[j] = p.k(a.c.u[j*d:(j+1)*d], zp.u)
	}
	blas64.Gemv(blas.Trans, -1, blas64.General{Rows: p.n, Cols: nC, Stride: nC, Data: a.c.v},
		blas64.Vector{N: p.n, Inc: 1, Data: zp.v}, 1, blas64.Vector{N: nC, Inc: 1, Data: cv[:nC]})
	for i := 0; i < nw; i++ {
		cv[nC+i] = p.cov(own, i, zp, 0)
	}
	for i := range cv {
		cv[i] *= inv
	}
	mean := sc.mean[:M]
	clear(mean)
	vals := func(m int, z float64) []float64 {
		mu, off := a.c.mu, m*nw
		if m == M-1 {
			mu, off = own.mu, 0
		}
		for i := 0; i < nw; i++ {
			sc.vals[i] = mu[off+i] + cv[m*nw+i]*z
		}
		return sc.vals
	}
	var sumBest float64
	var argBest []int
	if grad != nil {
		argBest = make([]int, len(a.z))
	}
	for zi, z := range a.z {
		best, bm := math.Inf(-1), 0
		for m := 0; m < M; m++ {
			v := a.r.eval(vals(m, z), sc.buf)
			mean[m] += v
			if v > best {
				best, bm = v, m
			}
		}
		sumBest += best
		if argBest != nil {
			argBest[zi] = bm
		}
	}
	J := float64(len(a.z))
	today, mo := math.Inf(-1), 0
	for m, v := range mean {
		if v/J > today {
			today, mo = v/J, m
		}
	}
	val := (sumBest/J - today) * p.ysd
	if grad == nil {
		return val
	}
	// adjoints of cv (M×nw) and of the own means, standardised units
	cvbar := make([]float64, M*nw)
	mubar := make([]float64, nw)
	wts := make([]float64, nw)
	ib := make([]int, nw+1)
	add := func(m int, z, sign float64) {
		a.r.evalW(vals(m, z), sc.buf, ib, wts)
		for i, wi := range wts {
			cvbar[m*nw+i] += sign * wi * z / J
			if m == M-1 {
				mubar[i] += sign * wi / J
			}
		}
	}
	for zi, z := range a.z {
		add(argBest[zi], z, 1)
		add(mo, z, -1)
	}
	dx := len(x)
	clear(grad)
	covbar := cvbar
	var invbar float64
	for i := range cvbar {
		invbar += cvbar[i] * cv[i] / inv // cv = cov·inv
		covbar[i] = cvbar[i] * inv
	}
	s2bar := 0.0
	if !clamped {
		s2bar = -0.5 * invbar * inv * inv * inv
	}
	n := p.n
	// v̄_z = −V_C cov̄_C − V_own cov̄_own − 2 s̄2 v_z
	vz := make([]float64, n)
	for t := range vz {
		vz[t] = -2 * s2bar * zp.v[t]
	}
	blas64.Gemv(blas.NoTrans, -1, blas64.General{Rows: n, Cols: nC, Stride: nC, Data: a.c.v},
		blas64.Vector{N: nC, Inc: 1, Data: covbar[:nC]}, 1, blas64.Vector{N: n, Inc: 1, Data: vz})
	blas64.Gemv(blas.NoTrans, -1, blas64.General{Rows: n, Cols: nw, Stride: nw, Data: own.v},
		blas64.Vector{N: nw, Inc: 1, Data: covbar[nC:]}, 1, blas64.Vector{N: n, Inc: 1, Data: vz})
	// V̄_own = −v_z cov̄_ownᵀ
	vown := make([]float64, n*nw)
	for t := 0; t < n; t++ {
		for i := 0; i < nw; i++ {
			vown[t*nw+i] = -zp.v[t] * covbar[nC+i]
		}
	}
	// direct kernel terms: k(C_j, z) and k(own_i, z) (the latter only in w:
	// own_i and z share x)
	for j := 0; j < nC; j++ {
		if c := covbar[j]; c != 0 {
			p.kgrad(a.c.u[j*d:(j+1)*d], zp.u, c, grad)
		}
	}
	for i := 0; i < nw; i++ {
		if c := covbar[nC+i]; c != 0 {
			p.kgrad(own.u[i*d:(i+1)*d], zp.u, c, grad)
		}
	}
	p.adjoint(zp, nil, vz, grad)
	p.adjoint(own, mubar, vown, grad[:dx])
	for k := range grad {
		grad[k] *= p.ysd
	}
	return val
}
