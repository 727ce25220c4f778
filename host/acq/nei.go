package acq

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"bohost/host/errs"
	"bohost/host/internal/linalg"
	"bohost/host/risk"
	"bohost/host/sobol"
)

// NEIOptions configure qNEI / qLogNEI. The zero value gives BoTorch's
// defaults for the hart6 anchor runs.
type NEIOptions struct {
	Log      bool    // qLogNoisyExpectedImprovement (true) or plain qNEI (false)
	Samples  int     // MC samples (default 128, as the anchors' SobolQMCNormalSampler(128))
	Seed     uint64  // seeds the fixed base samples
	TauRelu  float64 // temperature of the fat softplus (default 1e-6, BoTorch's TAU_RELU)
	NoPrune  bool    // keep every baseline point (BoTorch's prune_baseline=False)
	PruneMax int     // samples used to prune the baseline (default 1024)
	noGrid   bool    // tests: the generic route even on grid data
	noChan   bool    // tests: the grid routes without the channel route
}

func (o *NEIOptions) defaults() {
	if o.Samples <= 0 {
		o.Samples = 128
	}
	if o.TauRelu <= 0 {
		o.TauRelu = 1e-6
	}
	if o.PruneMax <= 0 {
		o.PruneMax = 1024
	}
}

// NEI is qNEI or qLogNEI (q = 1) with a risk-measure objective over a W set
// appended to every x, BoTorch's AppendFeatures + RiskMeasureMCObjective
// setup: for a candidate x the joint posterior of f at (x, w_1..w_nw) and at
// the (pruned) baseline points (x_b, w_1..w_nw) is sampled from fixed base
// samples, the risk measure is taken over the n_w values of every x in every
// sample, and the improvement of x over the best baseline value of the same
// sample is averaged over the samples (sample-average approximation). The
// baseline block is factorised once (BoTorch's cached root decomposition);
// each evaluation only solves for the n_w new rows.
//
// Value is safe for concurrent use.
type NEI struct {
	p        *Post
	w        [][]float64
	dx       int
	r        rho
	o        NEIOptions
	baseline [][]float64 // x's kept after pruning
	b        *pointSet   // baseline × W
	lbb      []float64   // Cholesky of the baseline covariance (nB×nB)
	zb       []float64   // nB×S base samples of the baseline block
	zx       [][]float64 // S×nw base samples of the new block
	best     []float64   // per-sample best baseline objective (raw units)
	g        *neiGrid    // fast path on the grid route (neigrid.go), or nil
	ch       *neiChan    // channel route (neichan.go), or nil
	pool     sync.Pool
}

// baseNormals returns n standard-normal vectors of length dim: scrambled
// Sobol (sobol.Normal) when the dimension allows, else PCG draws (as BoTorch
// falls back to iid normals beyond its Sobol dimension limit).
func baseNormals(dim, n int, seed uint64) [][]float64 {
	if dim <= 53 {
		if z := sobol.Normal(dim, n, seed); len(z) == n {
			return z
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f726d616c73))
	z := make([][]float64, n)
	for i := range z {
		z[i] = make([]float64, dim)
		for k := range z[i] {
			z[i][k] = rng.NormFloat64()
		}
	}
	return z
}

// appendW returns the points (x, w) for every w of W.
func appendW(x []float64, W [][]float64) [][]float64 {
	out := make([][]float64, len(W))
	for i, w := range W {
		z := make([]float64, 0, len(x)+len(w))
		out[i] = append(append(z, x...), w...)
	}
	return out
}

// NewNEI sets up qNEI / qLogNEI for the posterior p, the W set W (raw w
// coordinates), the x's evaluated so far (baseline, x only) and the measure.
func NewNEI(p *Post, W [][]float64, baseline [][]float64, m risk.Measure, o NEIOptions) (*NEI, error) {
	const op = "acq.NewNEI"
	o.defaults()
	if len(W) == 0 {
		return nil, errs.New(errs.BadArg, op, "W must hold at least one w, got 0")
	}
	if len(baseline) == 0 {
		return nil, errs.New(errs.BadArg, op, "baseline must hold at least one evaluated x, got 0")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	dx := p.d - len(W[0])
	if dx <= 0 || len(baseline[0]) != dx {
		return nil, errs.New(errs.BadArg, op, "baseline x has %d values, want dim %d - len(w) %d", len(baseline[0]), p.d, len(W[0]))
	}
	a := &NEI{p: p, w: W, dx: dx, r: newRho(m, len(W)), o: o}
	if p.kr != nil && p.kr.s == dx && !o.noGrid && !o.noChan {
		if qw := chanPerm(p, W); qw != nil {
			return a.newChanNEI(qw, baseline)
		}
	}
	nw := len(W)
	if !o.NoPrune && len(baseline) > 1 {
		baseline = a.prune(baseline)
	}
	a.baseline = baseline
	var Z [][]float64
	for _, x := range baseline {
		Z = append(Z, appendW(x, W)...)
	}
	a.b = p.points(Z)
	nB := a.b.m
	a.lbb = p.covMat(a.b, a.b, nil)
	if !linalg.CholLower(a.lbb, nB) {
		return nil, errs.New(errs.NotPD, op, "baseline posterior covariance (%d points) not positive definite", nB)
	}
	if p.kr != nil && p.kr.s == dx && !o.noGrid {
		a.newGrid()
	}
	S := o.Samples
	zb := baseNormals(nB, S, o.Seed^0x62617365)
	a.zx = baseNormals(nw, S, o.Seed)
	a.zb = make([]float64, nB*S)
	for s := 0; s < S; s++ {
		for i := 0; i < nB; i++ {
			a.zb[i*S+s] = zb[s][i]
		}
	}
	// baseline samples f_B = mu_B + L_BB z_B and their best objective
	fb := make([]float64, nB)
	buf := make([]float64, nw+1)
	a.best = make([]float64, S)
	for s := 0; s < S; s++ {
		for i := 0; i < nB; i++ {
			v := a.b.mu[i]
			for k := 0; k <= i; k++ {
				v += a.lbb[i*nB+k] * zb[s][k]
			}
			fb[i] = p.ymu + p.ysd*v
		}
		best := math.Inf(-1)
		for j := 0; j < nB/nw; j++ {
			best = math.Max(best, a.r.eval(fb[j*nw:(j+1)*nw], buf))
		}
		a.best[s] = best
	}
	return a, nil
}

// newChanNEI sets a up on the channel route (neichan.go): the same
// baseline rule, base samples and per-sample best as the generic route, with
// the samples drawn in the rotated basis.
func (a *NEI) newChanNEI(qw []float64, baseline [][]float64) (*NEI, error) {
	if !a.o.NoPrune && len(baseline) > 1 {
		var err error
		if baseline, err = a.pruneChan(qw, baseline); err != nil {
			return nil, err
		}
	}
	a.baseline = baseline
	ch, err := newChan(a.p, a.w, qw, baseline)
	if err != nil {
		return nil, err
	}
	a.ch = ch
	nw, S := len(a.w), a.o.Samples
	ch.setSamples(baseNormals(ch.m*nw, S, a.o.Seed^0x62617365))
	a.zx = baseNormals(nw, S, a.o.Seed)
	a.chanBest()
	return a, nil
}

// prune keeps the baseline x's that are the best (by the risk measure) in at
// least one of PruneMax joint posterior samples, as BoTorch's
// prune_inferior_points, ordered by how often they win.
func (a *NEI) prune(baseline [][]float64) [][]float64 {
	count := a.winCounts(baseline)
	if count == nil {
		return baseline
	}
	return keepWinners(baseline, count)
}

// keepWinners returns the x's of baseline with a positive count, the most
// frequent winner first (stable).
func keepWinners(baseline [][]float64, count []int) [][]float64 {
	idx := make([]int, 0, len(baseline))
	for j, c := range count {
		if c > 0 {
			idx = append(idx, j)
		}
	}
	slices.SortStableFunc(idx, func(i, j int) int { return count[j] - count[i] })
	out := make([][]float64, len(idx))
	for k, j := range idx {
		out[k] = baseline[j]
	}
	return out
}

// winCounts returns, for each x of baseline, in how many of PruneMax joint
// posterior samples it is the best (nil when the joint covariance is not
// positive definite).
func (a *NEI) winCounts(baseline [][]float64) []int {
	p, nw := a.p, len(a.w)
	var Z [][]float64
	for _, x := range baseline {
		Z = append(Z, appendW(x, a.w)...)
	}
	ps := p.points(Z)
	m := ps.m
	L := p.covMat(ps, ps, nil)
	if !linalg.CholLower(L, m) {
		return nil
	}
	S := a.o.PruneMax
	rng := rand.New(rand.NewPCG(a.o.Seed, 0x7072756e65))
	count := make([]int, len(baseline))
	// F = L Z for all samples at once (Z drawn sample by sample, as before)
	F := make([]float64, m*S)
	for s := 0; s < S; s++ {
		for i := 0; i < m; i++ {
			F[i*S+s] = rng.NormFloat64()
		}
	}
	blas64.Trmm(blas.Left, blas.NoTrans, 1, blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: L},
		blas64.General{Rows: m, Cols: S, Stride: S, Data: F})
	f := make([]float64, m)
	buf := make([]float64, nw+1)
	for s := 0; s < S; s++ {
		for i := 0; i < m; i++ {
			f[i] = ps.mu[i] + F[i*S+s]
		}
		bi, bv := 0, math.Inf(-1)
		for j := range baseline {
			if v := a.r.eval(f[j*nw:(j+1)*nw], buf); v > bv {
				bi, bv = j, v
			}
		}
		count[bi]++
	}
	return count
}

// Baseline returns the baseline x's kept after pruning.
func (a *NEI) Baseline() [][]float64 { return a.baseline }

type neiScratch struct {
	suu, sub, f, buf, az, logs, wts, g, imps, fs, mu []float64
	ib                                               []int
	ch                                               *chanScratch
}

// Value returns qLogNEI (log of the expected improvement, raw units) or qNEI
// at the x-only point x.
func (a *NEI) Value(x []float64) float64 { return a.ValueGrad(x, nil) }

// ValueGrad returns Value(x) and, when grad != nil (len(x)), fills grad with
// its exact gradient in x for the fixed base samples. Each sample path f(x,
// W) = μ + A z_B + L_xx z_x (A = Σ_XB L_BB⁻ᵀ, L_xx the Cholesky factor of
// Σ_XX − AAᵀ) is differentiated through μ, the cross-covariances and the
// Cholesky factor (reverse mode, Murray 2016); the risk measure contributes
// its (sub)gradient weights at the sample.
func (a *NEI) ValueGrad(x, grad []float64) float64 {
	p, nw, S := a.p, len(a.w), a.o.Samples
	sc, _ := a.pool.Get().(*neiScratch)
	if sc == nil {
		sc = &neiScratch{buf: make([]float64, nw+1), f: make([]float64, nw), ib: make([]int, nw+1),
			logs: make([]float64, S), wts: make([]float64, nw), g: make([]float64, nw*S),
			imps: make([]float64, S), fs: make([]float64, nw*S), mu: make([]float64, nw)}
		if a.ch != nil {
			sc.ch = a.ch.scratch(S)
		}
	}
	defer a.pool.Put(sc)
	if a.ch != nil {
		a.chanForward(x, sc.ch, sc.fs, sc.mu)
		val := a.improve(sc.fs, grad != nil, sc)
		if grad != nil {
			a.chanBackward(x, sc.ch, sc.g, grad)
		}
		return val
	}
	nB := a.b.m
	var ps *pointSet
	var mu, kx, ax []float64
	if a.g != nil {
		mu, sc.suu, sc.sub, kx, ax = a.gridForward(x, sc)
	} else {
		ps = p.points(appendW(x, a.w))
		mu = ps.mu
		sc.suu = p.covMat(ps, ps, sc.suu)
		sc.sub = p.covMat(ps, a.b, sc.sub)
	}
	lbb := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: nB, Stride: nB, Data: a.lbb}
	// A = Sub L_BB^{-T}: solve A L_BBᵀ = Sub in place.
	blas64.Trsm(blas.Right, blas.Trans, 1, lbb, blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: sc.sub})
	A := sc.sub
	// Cxx = Suu - A Aᵀ
	blas64.Gemm(blas.NoTrans, blas.Trans, -1,
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: A},
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: A},
		1, blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: sc.suu})
	if !linalg.CholLower(sc.suu, nw) {
		clear(grad)
		return math.Inf(-1)
	}
	lxx := sc.suu
	// AZ = A Z_B (nw×S)
	if cap(sc.az) < nw*S {
		sc.az = make([]float64, nw*S)
	}
	az := sc.az[:nw*S]
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: A},
		blas64.General{Rows: nB, Cols: S, Stride: S, Data: a.zb},
		0, blas64.General{Rows: nw, Cols: S, Stride: S, Data: az})
	F := sc.fs // nw×S: standardised sample values
	for s := 0; s < S; s++ {
		zx := a.zx[s]
		for i := 0; i < nw; i++ {
			v := mu[i] + az[i*S+s]
			for k := 0; k <= i; k++ {
				v += lxx[i*nw+k] * zx[k]
			}
			F[i*S+s] = v
		}
	}
	val := a.improve(F, grad != nil, sc)
	if grad == nil {
		return val
	}
	gm, sbar, subar := a.adjoints(A, lxx, sc.g)
	if a.g != nil {
		a.gridBackward(x, kx, ax, gm, sbar, subar, grad)
		return val
	}
	a.backward(ps, gm, sbar, subar, grad)
	return val
}

// improve returns the sample-average (log) improvement of the candidate's
// standardised sample values F (nw×S) over the per-sample best baseline
// value and, when grad, fills sc.g (nw×S) with its derivative in F.
func (a *NEI) improve(F []float64, grad bool, sc *neiScratch) float64 {
	p, nw, S := a.p, len(a.w), a.o.Samples
	var acc float64
	logs, imps := sc.logs, sc.imps
	G := sc.g
	for s := 0; s < S; s++ {
		for i := 0; i < nw; i++ {
			sc.f[i] = p.ymu + p.ysd*F[i*S+s]
		}
		var r float64
		if grad {
			r = a.r.evalW(sc.f, sc.buf, sc.ib, sc.wts)
			for i := 0; i < nw; i++ {
				G[i*S+s] = sc.wts[i]
			}
		} else {
			r = a.r.eval(sc.f, sc.buf)
		}
		imp := r - a.best[s]
		imps[s] = imp
		if a.o.Log {
			logs[s] = logFatplus(imp, a.o.TauRelu)
		} else if imp > 0 {
			acc += imp
		}
	}
	val := acc / float64(S)
	if a.o.Log {
		val = logMeanExp(logs)
	}
	if !grad {
		return val
	}
	// c_s = d value / d imp_s; G_is = c_s · a_i(s) · ysd
	for s := 0; s < S; s++ {
		var c float64
		switch {
		case a.o.Log:
			if !math.IsInf(val, 0) {
				c = math.Exp(logs[s]-val) / float64(S) * dLogFatplus(imps[s], a.o.TauRelu)
			}
		case imps[s] > 0:
			c = 1 / float64(S)
		}
		c *= p.ysd
		for i := 0; i < nw; i++ {
			G[i*S+s] *= c
		}
	}
	return val
}

// adjoints returns, from G = d value / d f (nw×S, standardised units), A =
// Σ_XB L_BB⁻ᵀ and the candidate block's factor lxx, the adjoints of the
// candidate's means (gm), of Σ_XX (sbar, symmetric) and of Σ_XB (subar).
func (a *NEI) adjoints(A, lxx, G []float64) (gm, sbar, subar []float64) {
	nw, S := len(a.w), a.o.Samples
	nB := a.b.m
	gm = make([]float64, nw)
	for i := 0; i < nw; i++ {
		for s := 0; s < S; s++ {
			gm[i] += G[i*S+s]
		}
	}
	// L̄ = tril(G Z_xᵀ)
	lbar := make([]float64, nw*nw)
	for s := 0; s < S; s++ {
		zx := a.zx[s]
		for i := 0; i < nw; i++ {
			gi := G[i*S+s]
			if gi == 0 {
				continue
			}
			for k := 0; k <= i; k++ {
				lbar[i*nw+k] += gi * zx[k]
			}
		}
	}
	sbar = cholBackward(lxx, lbar, nw) // Σ̄ of Cxx (symmetric)
	// Ā = G Z_Bᵀ − 2 Σ̄ A
	abar := make([]float64, nw*nB)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1,
		blas64.General{Rows: nw, Cols: S, Stride: S, Data: G},
		blas64.General{Rows: nB, Cols: S, Stride: S, Data: a.zb},
		0, blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: abar})
	blas64.Gemm(blas.NoTrans, blas.NoTrans, -2,
		blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: sbar},
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: A},
		1, blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: abar})
	// S̄_XB = Ā L_BB⁻¹
	blas64.Trsm(blas.Right, blas.NoTrans, 1,
		blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: nB, Stride: nB, Data: a.lbb},
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: abar})
	return gm, sbar, abar
}

// backward fills grad with d value / dx on the generic route from the
// adjoints of the candidate's means, Σ_XX and Σ_XB (see adjoints).
func (a *NEI) backward(ps *pointSet, gm, sbar, subar, grad []float64) {
	p, nw := a.p, len(a.w)
	nB, n := a.b.m, a.p.n
	// V̄_X = −2 V_X Σ̄ − V_B S̄_XBᵀ (n×nw)
	vbar := make([]float64, n*nw)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, -2,
		blas64.General{Rows: n, Cols: nw, Stride: nw, Data: ps.v},
		blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: sbar},
		0, blas64.General{Rows: n, Cols: nw, Stride: nw, Data: vbar})
	blas64.Gemm(blas.NoTrans, blas.Trans, -1,
		blas64.General{Rows: n, Cols: nB, Stride: nB, Data: a.b.v},
		blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: subar},
		1, blas64.General{Rows: n, Cols: nw, Stride: nw, Data: vbar})
	clear(grad)
	p.adjoint(ps, gm, vbar, grad)
	// direct term: Σ S̄_XB[i,b] ∂k(B_b, X_i)/∂x
	d := p.d
	for i := 0; i < nw; i++ {
		ui := ps.u[i*d : (i+1)*d]
		for b := 0; b < nB; b++ {
			if c := subar[i*nB+b]; c != 0 {
				p.kgrad(a.b.u[b*d:(b+1)*d], ui, c, grad)
			}
		}
	}
}

// cholBackward returns the symmetric Σ̄ = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹) for the
// lower m×m factor L of Σ and the lower-triangular adjoint L̄ (Murray 2016,
// "Differentiation of the Cholesky decomposition"), Φ taking the lower
// triangle with the diagonal halved.
func cholBackward(L, lbar []float64, m int) []float64 {
	P := make([]float64, m*m)
	// P = Lᵀ L̄
	blas64.Gemm(blas.Trans, blas.NoTrans, 1,
		blas64.General{Rows: m, Cols: m, Stride: m, Data: L},
		blas64.General{Rows: m, Cols: m, Stride: m, Data: lbar},
		0, blas64.General{Rows: m, Cols: m, Stride: m, Data: P})
	for i := 0; i < m; i++ {
		P[i*m+i] *= 0.5
		for j := i + 1; j < m; j++ {
			P[i*m+j] = 0
		}
	}
	lt := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: L}
	g := blas64.General{Rows: m, Cols: m, Stride: m, Data: P}
	blas64.Trsm(blas.Left, blas.Trans, 1, lt, g)    // L⁻ᵀ P
	blas64.Trsm(blas.Right, blas.NoTrans, 1, lt, g) // (L⁻ᵀ P) L⁻¹
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			v := 0.5 * (P[i*m+j] + P[j*m+i])
			P[i*m+j], P[j*m+i] = v, v
		}
	}
	return P
}
