package acq

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"bohost/host/errs"
	"bohost/host/internal/linalg"
)

// neiChan is NEI's channel route: the posterior is on the grid route
// (all_w data, RBF) and W is the grid's own w set, so the joint posterior of
// f over any x's × W splits into n_w independent GPs over x. With
// K_w(W, W) = Q_w Λ_w Q_wᵀ, the rotated values f̃_j(x) = Σ_i Q_w[i,j] f(x, w_i)
// have prior covariance os·λ_j·k_x(x, x') δ_jj' (RBF: k = os·k_x·k_w), and
// rotating the data by the orthogonal Q_w keeps the noise iid, so channel j
// is a GP over x alone with kernel v_j·k_x (v_j = os·λ_j), noise σ² + jitter
// and data Q_wᵀy at the n_x training x's. Its posterior uses the eigenvalues
// 1/e_aj = 1/(v_j·λ_x,a + σ²) the grid route already has.
//
// The baseline's joint posterior is then block diagonal in the rotated basis:
// n_w Cholesky factors of n_Bx × n_Bx instead of one of (n_Bx·n_w)², and a
// candidate's n_w values are independent given the baseline, so its
// conditional covariance is diagonal (no n_w × n_w Cholesky). A sample path
// is f(x, W) = μ(x, W) + Q_w δ̃ with δ̃_j = a_jᵀ z̃_B,j + √c_j z̃_x,j,
// a_j = L_j⁻¹ Σ^j_Bx and c_j = Σ^j_xx − |a_j|²: the same Gaussian as the
// generic route's μ + A z_B + L_xx z_x with another square root of the
// same covariance, so the sample-average values differ by Monte-Carlo noise
// only (same base samples, different paths). A value and gradient cost
// O(n_w·(n_x·n_Bx + n_Bx² + n_Bx·S)) instead of O(n_w·n_B² + n_w·n_B·S).
type neiChan struct {
	nw, nxg, s, m int
	v             []float64 // nw: os·λ_j, the prior variance of channel j (standardised units)
	qw            []float64 // nw×nw: Q_w with its rows in W's order (qw[i*nw+j])
	isq2          []float64 // nxg×nw: 1/e_aj
	t             []float64 // nxg×nw: A_α k_w(W_grid, W) (means: μ = c0 + os·k_xᵀ t)
	bx            []float64 // m×s unit x's of the baseline
	kbb           []float64 // m×m: k_x among the baseline x's (unit outputscale)
	axb           []float64 // nxg×m: Q_xᵀ k_x(X_grid, B)
	mu            []float64 // m×nw: standardised means of the baseline
	lch           []float64 // nw×m×m: lower Cholesky factor of each channel's baseline covariance
	zb            []float64 // nw×m×S: base samples of the baseline, rotated basis ([j][b][s])
}

// chanPerm returns Q_w with its rows in W's order when W is the grid's own
// w set (a permutation of it), or nil.
func chanPerm(p *Post, W [][]float64) []float64 {
	kr := p.kr
	if kr == nil || len(W) != kr.nw {
		return nil
	}
	nw, s, dw := kr.nw, kr.s, p.d-kr.s
	if len(W[0]) != dw {
		return nil
	}
	used := make([]bool, nw)
	qw := make([]float64, nw*nw)
	u := make([]float64, dw)
	for i, w := range W {
		for k := range u {
			u[k] = (w[k] - p.lo[s+k]) / p.sc[s+k]
		}
		found := -1
		for j := 0; j < nw && found < 0; j++ {
			if used[j] {
				continue
			}
			same := true
			for k := range u {
				if math.Abs(u[k]-kr.uw[j*dw+k]) > 1e-12 {
					same = false
					break
				}
			}
			if same {
				found = j
			}
		}
		if found < 0 {
			return nil
		}
		used[found] = true
		copy(qw[i*nw:(i+1)*nw], kr.qw[found*nw:(found+1)*nw])
	}
	return qw
}

// newChan sets up the channel route for the baseline x's xs (raw x
// coordinates); qw is chanPerm's. It fails (NotPD) when a channel's
// baseline covariance is not positive definite even with jitter.
func newChan(p *Post, W [][]float64, qw []float64, xs [][]float64) (*neiChan, error) {
	kr := p.kr
	s, nxg, nwg, nw, m := kr.s, kr.nx, kr.nw, len(W), len(xs)
	dw := p.d - s
	c := &neiChan{nw: nw, nxg: nxg, s: s, m: m, qw: qw, v: make([]float64, nw), isq2: make([]float64, nxg*nw)}
	for j := range c.v {
		c.v[j] = p.os * kr.lw[j]
	}
	for t, v := range kr.isq {
		c.isq2[t] = v * v
	}
	// t = A_α k_w(W_grid, W)
	wu := make([]float64, dw)
	kw := make([]float64, nwg*nw)
	for i, w := range W {
		for k := range wu {
			wu[k] = (w[k] - p.lo[s+k]) / p.sc[s+k]
		}
		for j := 0; j < nwg; j++ {
			kw[j*nw+i] = math.Exp(-0.5 * p.r2(kr.uw[j*dw:(j+1)*dw], wu, s))
		}
	}
	c.t = linalg.Gemm(false, false, nxg, nwg, kr.am, nwg, nw, kw)
	c.bx = make([]float64, m*s)
	for b, x := range xs {
		p.unit(x, c.bx[b*s:(b+1)*s])
	}
	kxb := make([]float64, nxg*m) // k_x(X_grid, B), unit outputscale
	for a := 0; a < nxg; a++ {
		for b := 0; b < m; b++ {
			kxb[a*m+b] = math.Exp(-0.5 * p.r2(kr.ux[a*s:(a+1)*s], c.bx[b*s:(b+1)*s], 0))
		}
	}
	c.kbb = make([]float64, m*m)
	for b := 0; b < m; b++ {
		for b2 := 0; b2 <= b; b2++ {
			v := math.Exp(-0.5 * p.r2(c.bx[b*s:(b+1)*s], c.bx[b2*s:(b2+1)*s], 0))
			c.kbb[b*m+b2], c.kbb[b2*m+b] = v, v
		}
	}
	// μ(x_b, w_i) = c0 + os Σ_a k_x(x_a, x_b) t[a, i]
	c.mu = linalg.Gemm(true, false, nxg, m, kxb, nxg, nw, c.t)
	for i := range c.mu {
		c.mu[i] = p.c0 + p.os*c.mu[i]
	}
	c.axb = linalg.Gemm(true, false, nxg, nxg, kr.qx, nxg, m, kxb)
	// channel j: Σ^j = v_j K_BB − v_j² axbᵀ diag(1/e_·j) axb
	c.lch = make([]float64, nw*m*m)
	sc := make([]float64, nxg*m)
	vmax := slices.Max(c.v)
	for j := 0; j < nw; j++ {
		vj := c.v[j]
		for a := 0; a < nxg; a++ {
			e := c.isq2[a*nw+j]
			for b := 0; b < m; b++ {
				sc[a*m+b] = c.axb[a*m+b] * e
			}
		}
		L := c.lch[j*m*m : (j+1)*m*m]
		blas64.Gemm(blas.Trans, blas.NoTrans, -vj*vj,
			blas64.General{Rows: nxg, Cols: m, Stride: m, Data: c.axb},
			blas64.General{Rows: nxg, Cols: m, Stride: m, Data: sc},
			0, blas64.General{Rows: m, Cols: m, Stride: m, Data: L})
		for t := range L {
			L[t] += vj * c.kbb[t]
		}
		if linalg.CholLower(L, m) {
			continue
		}
		if vj <= 1e-12*vmax {
			clear(L) // a channel without prior variance: no deviation
			continue
		}
		return nil, errs.New(errs.NotPD, "acq.NewNEI", "baseline posterior covariance (%d x's, channel %d) not positive definite", m, j)
	}
	return c, nil
}

// setSamples stores the baseline's base samples z (S vectors of m·nw values,
// x-major as the generic route's) in the rotated basis.
func (c *neiChan) setSamples(z [][]float64) {
	m, nw, S := c.m, c.nw, len(z)
	c.zb = make([]float64, nw*m*S)
	for s, zs := range z {
		for b := 0; b < m; b++ {
			for j := 0; j < nw; j++ {
				c.zb[(j*m+b)*S+s] = zs[b*nw+j]
			}
		}
	}
}

// paths overwrites Z (nw×m×S, rotated basis, [j][b][s]) with the baseline's
// deviations L_j Z_j in the rotated basis.
func (c *neiChan) paths(Z []float64, S int) {
	m := c.m
	for j := 0; j < c.nw; j++ {
		blas64.Trmm(blas.Left, blas.NoTrans, 1,
			blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: c.lch[j*m*m : (j+1)*m*m]},
			blas64.General{Rows: m, Cols: S, Stride: S, Data: Z[j*m*S : (j+1)*m*S]})
	}
}

// baselineValues calls fn(b, F) for every baseline x b with F (nw×S, row
// stride S) its standardised sample values f(x_b, w_i) in sample s, from the
// rotated deviations Y (the output of paths); F is reused between calls.
func (c *neiChan) baselineValues(Y []float64, S int, fn func(b int, F []float64)) {
	m, nw := c.m, c.nw
	F := make([]float64, nw*S)
	for b := 0; b < m; b++ {
		for i := 0; i < nw; i++ {
			mu := c.mu[b*nw+i]
			row := F[i*S : (i+1)*S]
			for s := range row {
				row[s] = mu
			}
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: c.qw},
			blas64.General{Rows: nw, Cols: S, Stride: m * S, Data: Y[b*S:]},
			1, blas64.General{Rows: nw, Cols: S, Stride: S, Data: F})
		fn(b, F)
	}
}

// pruneChan is prune on the channel route: the same rule (keep the x's that
// are the best in at least one of PruneMax joint posterior samples, ordered
// by how often they win), the samples drawn channel by channel.
func (a *NEI) pruneChan(qw []float64, baseline [][]float64) ([][]float64, error) {
	count, err := a.chanWinCounts(qw, baseline)
	if err != nil {
		return nil, err
	}
	return keepWinners(baseline, count), nil
}

// chanWinCounts is winCounts on the channel route, in chunks of samples so
// that memory stays O(n_x·n_w·chunk).
func (a *NEI) chanWinCounts(qw []float64, baseline [][]float64) ([]int, error) {
	c, err := newChan(a.p, a.w, qw, baseline)
	if err != nil {
		return nil, err
	}
	p, nw, m := a.p, c.nw, c.m
	rng := rand.New(rand.NewPCG(a.o.Seed, 0x7072756e65))
	count := make([]int, m)
	const chunk = 128
	Z := make([]float64, nw*m*chunk)
	best := make([]float64, chunk)
	who := make([]int, chunk)
	f := make([]float64, nw)
	buf := make([]float64, nw+1)
	for s0 := 0; s0 < a.o.PruneMax; s0 += chunk {
		S := min(chunk, a.o.PruneMax-s0)
		for s := 0; s < S; s++ {
			for b := 0; b < m; b++ {
				for j := 0; j < nw; j++ {
					Z[(j*m+b)*S+s] = rng.NormFloat64()
				}
			}
		}
		c.paths(Z[:nw*m*S], S)
		for s := range best[:S] {
			best[s], who[s] = math.Inf(-1), 0
		}
		c.baselineValues(Z[:nw*m*S], S, func(b int, F []float64) {
			for s := 0; s < S; s++ {
				for i := range f {
					f[i] = p.ymu + p.ysd*F[i*S+s]
				}
				if v := a.r.eval(f, buf); v > best[s] {
					best[s], who[s] = v, b
				}
			}
		})
		for _, b := range who[:S] {
			count[b]++
		}
	}
	return count, nil
}

// chanBest sets a.best, the per-sample best baseline objective, on the
// channel route.
func (a *NEI) chanBest() {
	c, p, S := a.ch, a.p, a.o.Samples
	Y := slices.Clone(c.zb)
	c.paths(Y, S)
	a.best = make([]float64, S)
	for s := range a.best {
		a.best[s] = math.Inf(-1)
	}
	f := make([]float64, c.nw)
	buf := make([]float64, c.nw+1)
	c.baselineValues(Y, S, func(_ int, F []float64) {
		for s := 0; s < S; s++ {
			for i := range f {
				f[i] = p.ymu + p.ysd*F[i*S+s]
			}
			a.best[s] = math.Max(a.best[s], a.r.eval(f, buf))
		}
	})
}

// chanScratch is the per-call scratch of the channel route.
type chanScratch struct {
	xu, kxX, kxB, ax, e, pm, am, cv, sq, dt, gt, abar, kbar, ebar, axbar []float64
}

func (c *neiChan) scratch(S int) *chanScratch {
	nw, nxg, m := c.nw, c.nxg, c.m
	return &chanScratch{xu: make([]float64, c.s), kxX: make([]float64, nxg), kxB: make([]float64, m),
		ax: make([]float64, nxg), e: make([]float64, nw*nxg), pm: make([]float64, nw*m), am: make([]float64, nw*m),
		cv: make([]float64, nw), sq: make([]float64, nw), dt: make([]float64, nw*S), gt: make([]float64, nw*S),
		abar: make([]float64, nw*m), kbar: make([]float64, nxg), ebar: make([]float64, nw*nxg), axbar: make([]float64, nxg)}
}

// chanForward fills F (nw×S, standardised) with the candidate's sample
// values f(x, w_i) in sample s, and mu (nw) with its means; the scratch
// keeps what chanBackward needs.
func (a *NEI) chanForward(x []float64, cs *chanScratch, F, mu []float64) {
	p, kr, c, S := a.p, a.p.kr, a.ch, a.o.Samples
	nw, nxg, m, s := c.nw, c.nxg, c.m, c.s
	p.unit(x, cs.xu)
	for b := 0; b < nxg; b++ {
		cs.kxX[b] = math.Exp(-0.5 * p.r2(cs.xu, kr.ux[b*s:(b+1)*s], 0))
	}
	for b := 0; b < m; b++ {
		cs.kxB[b] = math.Exp(-0.5 * p.r2(cs.xu, c.bx[b*s:(b+1)*s], 0))
	}
	blas64.Gemv(blas.Trans, 1, blas64.General{Rows: nxg, Cols: nxg, Stride: nxg, Data: kr.qx},
		blas64.Vector{N: nxg, Inc: 1, Data: cs.kxX}, 0, blas64.Vector{N: nxg, Inc: 1, Data: cs.ax})
	for i := range mu {
		mu[i] = p.c0
	}
	blas64.Gemv(blas.Trans, p.os, blas64.General{Rows: nxg, Cols: nw, Stride: nw, Data: c.t},
		blas64.Vector{N: nxg, Inc: 1, Data: cs.kxX}, 1, blas64.Vector{N: nw, Inc: 1, Data: mu})
	// E[j,a] = ax_a / e_aj; P = E axb
	for j := 0; j < nw; j++ {
		for b := 0; b < nxg; b++ {
			cs.e[j*nxg+b] = cs.ax[b] * c.isq2[b*nw+j]
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: nw, Cols: nxg, Stride: nxg, Data: cs.e},
		blas64.General{Rows: nxg, Cols: m, Stride: m, Data: c.axb},
		0, blas64.General{Rows: nw, Cols: m, Stride: m, Data: cs.pm})
	for j := 0; j < nw; j++ {
		vj := c.v[j]
		aj := cs.am[j*m : (j+1)*m]
		pj := cs.pm[j*m : (j+1)*m]
		for b := range aj {
			aj[b] = vj*cs.kxB[b] - vj*vj*pj[b]
		}
		// a_j = L_j⁻¹ Σ^j_Bx
		blas64.Trsv(blas.NoTrans, blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: c.lch[j*m*m : (j+1)*m*m]},
			blas64.Vector{N: m, Inc: 1, Data: aj})
		var q float64
		for b := 0; b < nxg; b++ {
			q += cs.ax[b] * cs.e[j*nxg+b]
		}
		cv := vj - vj*vj*q
		for _, v := range aj {
			cv -= v * v
		}
		cs.cv[j], cs.sq[j] = cv, 0
		if cv > 1e-12*vj {
			cs.sq[j] = math.Sqrt(cv)
		}
		// δ̃_j = a_jᵀ Z_B,j + √c_j z_x,j
		dj := cs.dt[j*S : (j+1)*S]
		blas64.Gemv(blas.Trans, 1, blas64.General{Rows: m, Cols: S, Stride: S, Data: c.zb[j*m*S : (j+1)*m*S]},
			blas64.Vector{N: m, Inc: 1, Data: aj}, 0, blas64.Vector{N: S, Inc: 1, Data: dj})
		if sq := cs.sq[j]; sq > 0 {
			for t := range dj {
				dj[t] += sq * a.zx[t][j]
			}
		}
	}
	for i := 0; i < nw; i++ {
		row := F[i*S : (i+1)*S]
		for t := range row {
			row[t] = mu[i]
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: c.qw},
		blas64.General{Rows: nw, Cols: S, Stride: S, Data: cs.dt},
		1, blas64.General{Rows: nw, Cols: S, Stride: S, Data: F})
}

// chanBackward fills grad (raw units of x) from G = d value / dF (nw×S)
// after chanForward at x.
func (a *NEI) chanBackward(x []float64, cs *chanScratch, G, grad []float64) {
	p, kr, c, S := a.p, a.p.kr, a.ch, a.o.Samples
	nw, nxg, m, s := c.nw, c.nxg, c.m, c.s
	// adjoint of the means: k̄_x += os t gm
	clear(cs.kbar)
	for i := 0; i < nw; i++ {
		var gm float64
		for _, g := range G[i*S : (i+1)*S] {
			gm += g
		}
		for b := 0; b < nxg; b++ {
			cs.kbar[b] += p.os * c.t[b*nw+i] * gm
		}
	}
	// G̃ = Q_wᵀ G
	blas64.Gemm(blas.Trans, blas.NoTrans, 1,
		blas64.General{Rows: nw, Cols: nw, Stride: nw, Data: c.qw},
		blas64.General{Rows: nw, Cols: S, Stride: S, Data: G},
		0, blas64.General{Rows: nw, Cols: S, Stride: S, Data: cs.gt})
	kbB := make([]float64, m) // adjoint of k_x(x, B)
	clear(cs.axbar)
	for j := 0; j < nw; j++ {
		vj := c.v[j]
		gj := cs.gt[j*S : (j+1)*S]
		ab := cs.abar[j*m : (j+1)*m]
		blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: m, Cols: S, Stride: S, Data: c.zb[j*m*S : (j+1)*m*S]},
			blas64.Vector{N: S, Inc: 1, Data: gj}, 0, blas64.Vector{N: m, Inc: 1, Data: ab})
		var cbar float64
		if sq := cs.sq[j]; sq > 0 {
			for t, g := range gj {
				cbar += g * a.zx[t][j]
			}
			cbar /= 2 * sq
		}
		aj := cs.am[j*m : (j+1)*m]
		for b := range ab {
			ab[b] -= 2 * cbar * aj[b]
		}
		// Σ̄^j_Bx = L_j⁻ᵀ ā_j
		blas64.Trsv(blas.Trans, blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: c.lch[j*m*m : (j+1)*m*m]},
			blas64.Vector{N: m, Inc: 1, Data: ab})
		for b, v := range ab {
			kbB[b] += vj * v
			ab[b] = -vj * vj * v // P̄
		}
		// c_j's term −v_j² Σ_a ax_a² / e_aj
		if cbar != 0 {
			f := -2 * vj * vj * cbar
			for b := 0; b < nxg; b++ {
				cs.axbar[b] += f * cs.ax[b] * c.isq2[b*nw+j]
			}
		}
	}
	// Ē = P̄ axbᵀ; āx_a += Σ_j Ē[j,a] / e_aj
	blas64.Gemm(blas.NoTrans, blas.Trans, 1,
		blas64.General{Rows: nw, Cols: m, Stride: m, Data: cs.abar},
		blas64.General{Rows: nxg, Cols: m, Stride: m, Data: c.axb},
		0, blas64.General{Rows: nw, Cols: nxg, Stride: nxg, Data: cs.ebar})
	for j := 0; j < nw; j++ {
		for b := 0; b < nxg; b++ {
			cs.axbar[b] += cs.ebar[j*nxg+b] * c.isq2[b*nw+j]
		}
	}
	// ax = Q_xᵀ k_x: k̄_x += Q_x āx
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: nxg, Cols: nxg, Stride: nxg, Data: kr.qx},
		blas64.Vector{N: nxg, Inc: 1, Data: cs.axbar}, 1, blas64.Vector{N: nxg, Inc: 1, Data: cs.kbar})
	clear(grad)
	add := func(pt []float64, c float64) {
		if c == 0 {
			return
		}
		for k := range grad {
			grad[k] += c * (pt[k] - cs.xu[k]) * p.invl2[k] / p.sc[k]
		}
	}
	for b := 0; b < nxg; b++ {
		add(kr.ux[b*s:(b+1)*s], cs.kbar[b]*cs.kxX[b])
	}
	for b := 0; b < m; b++ {
		add(c.bx[b*s:(b+1)*s], kbB[b]*cs.kxB[b])
	}
}
