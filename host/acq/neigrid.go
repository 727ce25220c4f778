package acq

import (
	"bohost/host/internal/linalg"

	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// neiGrid is NEI's fast path on the grid route (postKron) when the x of a
// candidate is exactly the grid's x block (dx = s). A candidate's whitened
// cross-covariances are then V_X[(a,j), i] = (Q_xᵀk_x(x))_a·B[j,i]/√e_aj with
// B = Q_wᵀk_w(W_grid, W) fixed for the W set, so everything that involves
// the baseline block is contracted with B once per ask:
//
//	V_Xᵀ V_B[i, ·] = Σ_a (Q_xᵀk_x(x))_a U[a, i, ·],  U[a,i,·] = Σ_j B[j,i] V_B[(a,j),·]/√e_aj
//
// which costs n_x·n_w·n_B per candidate instead of n·n_w·n_B (n = n_x·n_w
// training points). Means, Σ_XX and the gradient reduce the same way.
type neiGrid struct {
	bw   []float64 // nwg×nw: Q_wᵀ k_w(W_grid, W)
	t    []float64 // nxg×nw: A_α k_w(W_grid, W) (A_α = α as nxg×nwg)
	kww  []float64 // nw×nw: k_w(W, W), unit outputscale
	u    []float64 // nxg × (nw·nB)
	bx   []float64 // nBx×s unit x's of the baseline blocks
	isq2 []float64 // nxg×nwg: 1/e
}

// newGrid sets up the fast path; a.b must be built.
func (a *NEI) newGrid() {
	p, kr := a.p, a.p.kr
	s, nxg, nwg, d := kr.s, kr.nx, kr.nw, p.d
	dw := d - s
	nw, nB := len(a.w), a.b.m
	g := &neiGrid{}
	wu := make([]float64, nw*dw) // unit w's of W
	for i := 0; i < nw; i++ {
		copy(wu[i*dw:(i+1)*dw], a.b.u[i*d+s:(i+1)*d])
	}
	kw := make([]float64, nwg*nw)
	for j := 0; j < nwg; j++ {
		for i := 0; i < nw; i++ {
			kw[j*nw+i] = math.Exp(-0.5 * p.r2(kr.uw[j*dw:(j+1)*dw], wu[i*dw:(i+1)*dw], s))
		}
	}
	g.bw = linalg.Gemm(true, false, nwg, nwg, kr.qw, nwg, nw, kw)
	g.t = linalg.Gemm(false, false, nxg, nwg, kr.am, nwg, nw, kw)
	g.kww = make([]float64, nw*nw)
	for i := 0; i < nw; i++ {
		for k := 0; k < nw; k++ {
			g.kww[i*nw+k] = math.Exp(-0.5 * p.r2(wu[i*dw:(i+1)*dw], wu[k*dw:(k+1)*dw], s))
		}
	}
	g.isq2 = make([]float64, nxg*nwg)
	for t, v := range kr.isq {
		g.isq2[t] = v * v
	}
	// U[a, i, ·] = Σ_j B[j,i] isq[a,j] V_B[(a,j), ·]
	g.u = make([]float64, nxg*nw*nB)
	tmp := make([]float64, nwg*nB)
	for ax := 0; ax < nxg; ax++ {
		for j := 0; j < nwg; j++ {
			is := kr.isq[ax*nwg+j]
			src := a.b.v[(ax*nwg+j)*nB : (ax*nwg+j+1)*nB]
			dst := tmp[j*nB : (j+1)*nB]
			for l, v := range src {
				dst[l] = v * is
			}
		}
		blas64.Gemm(blas.Trans, blas.NoTrans, 1,
			blas64.General{Rows: nwg, Cols: nw, Stride: nw, Data: g.bw},
			blas64.General{Rows: nwg, Cols: nB, Stride: nB, Data: tmp},
			0, blas64.General{Rows: nw, Cols: nB, Stride: nB, Data: g.u[ax*nw*nB : (ax+1)*nw*nB]})
	}
	nBx := nB / nw
	g.bx = make([]float64, nBx*s)
	for b := 0; b < nBx; b++ {
		copy(g.bx[b*s:(b+1)*s], a.b.u[b*nw*d:b*nw*d+s])
	}
	a.g = g
}

// gridForward returns the candidate's standardised means (nw), Σ_XX (nw×nw,
// in suu) and Σ_XB (nw×nB, in sub), and k_x(x), Q_xᵀk_x(x) for backward.
func (a *NEI) gridForward(x []float64, sc *neiScratch) (mu, suu, sub, kx, ax []float64) {
	p, kr, g := a.p, a.p.kr, a.g
	s, nxg, nwg := kr.s, kr.nx, kr.nw
	nw, nB := len(a.w), a.b.m
	xu := make([]float64, s)
	p.unit(x, xu)
	kx = make([]float64, nxg)
	for b := 0; b < nxg; b++ {
		kx[b] = p.os * math.Exp(-0.5*p.r2(xu, kr.ux[b*s:(b+1)*s], 0))
	}
	ax = make([]float64, nxg)
	blas64.Gemv(blas.Trans, 1, blas64.General{Rows: nxg, Cols: nxg, Stride: nxg, Data: kr.qx},
		blas64.Vector{N: nxg, Inc: 1, Data: kx}, 0, blas64.Vector{N: nxg, Inc: 1, Data: ax})
	mu = make([]float64, nw)
	for i := range mu {
		mu[i] = p.c0
	}
	blas64.Gemv(blas.Trans, 1, blas64.General{Rows: nxg, Cols: nw, Stride: nw, Data: g.t},
		blas64.Vector{N: nxg, Inc: 1, Data: kx}, 1, blas64.Vector{N: nw, Inc: 1, Data: mu})
	// Σ_XX = σ² K_w(W, W) − Bᵀ diag(c) B, c_j = Σ_a ax_a² / e_aj
	c := make([]float64, nwg)
	for a2 := 0; a2 < nxg; a2++ {
		v := ax[a2] * ax[a2]
		row := g.isq2[a2*nwg : (a2+1)*nwg]
		for j, e := range row {
			c[j] += v * e
		}
	}
	if cap(sc.suu) < nw*nw {
		sc.suu = make([]float64, nw*nw)
	}
	suu = sc.suu[:nw*nw]
	for i := 0; i < nw; i++ {
		for k := 0; k <= i; k++ {
			var v float64
			for j := 0; j < nwg; j++ {
				v += g.bw[j*nw+i] * c[j] * g.bw[j*nw+k]
			}
			v = p.os*g.kww[i*nw+k] - v
			suu[i*nw+k], suu[k*nw+i] = v, v
		}
	}
	// Σ_XB = K_XB − Σ_a ax_a U[a]
	if cap(sc.sub) < nw*nB {
		sc.sub = make([]float64, nw*nB)
	}
	sub = sc.sub[:nw*nB]
	nBx := nB / nw
	for b := 0; b < nBx; b++ {
		kb := p.os * math.Exp(-0.5*p.r2(xu, g.bx[b*s:(b+1)*s], 0))
		for i := 0; i < nw; i++ {
			for l := 0; l < nw; l++ {
				sub[i*nB+b*nw+l] = kb * g.kww[i*nw+l]
			}
		}
	}
	blas64.Gemv(blas.Trans, -1, blas64.General{Rows: nxg, Cols: nw * nB, Stride: nw * nB, Data: g.u},
		blas64.Vector{N: nxg, Inc: 1, Data: ax}, 1, blas64.Vector{N: nw * nB, Inc: 1, Data: sub})
	return mu, suu, sub, kx, ax
}

// gridBackward fills grad from the adjoints of the means (gm), Σ_XX (sbar,
// symmetric) and Σ_XB (subar).
func (a *NEI) gridBackward(x, kx, ax, gm, sbar, subar, grad []float64) {
	p, kr, g := a.p, a.p.kr, a.g
	s, nxg, nwg := kr.s, kr.nx, kr.nw
	nw, nB := len(a.w), a.b.m
	xu := make([]float64, s)
	p.unit(x, xu)
	// coefficient of k_x(x, ux_b) from the means: (A_α k_w) gm
	coef := make([]float64, nxg)
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: nxg, Cols: nw, Stride: nw, Data: g.t},
		blas64.Vector{N: nw, Inc: 1, Data: gm}, 0, blas64.Vector{N: nxg, Inc: 1, Data: coef})
	// adjoint of ax: n_a = −⟨S̄_XB, U[a]⟩ − 2 ax_a Σ_j (B Σ̄ Bᵀ)_jj / e_aj
	na := make([]float64, nxg)
	blas64.Gemv(blas.NoTrans, -1, blas64.General{Rows: nxg, Cols: nw * nB, Stride: nw * nB, Data: g.u},
		blas64.Vector{N: nw * nB, Inc: 1, Data: subar}, 0, blas64.Vector{N: nxg, Inc: 1, Data: na})
	bsb := make([]float64, nwg) // diag(B Σ̄ Bᵀ)
	for j := 0; j < nwg; j++ {
		bj := g.bw[j*nw : (j+1)*nw]
		var v float64
		for i := 0; i < nw; i++ {
			var r float64
			for k := 0; k < nw; k++ {
				r += sbar[i*nw+k] * bj[k]
			}
			v += bj[i] * r
		}
		bsb[j] = v
	}
	for a2 := 0; a2 < nxg; a2++ {
		var v float64
		row := g.isq2[a2*nwg : (a2+1)*nwg]
		for j, e := range row {
			v += e * bsb[j]
		}
		na[a2] -= 2 * ax[a2] * v
	}
	// ax = Q_xᵀ k_x: coefficient of k_x += Q_x n
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: nxg, Cols: nxg, Stride: nxg, Data: kr.qx},
		blas64.Vector{N: nxg, Inc: 1, Data: na}, 1, blas64.Vector{N: nxg, Inc: 1, Data: coef})
	clear(grad)
	addK := func(pt []float64, c float64) {
		if c == 0 {
			return
		}
		gk := c * p.os * math.Exp(-0.5*p.r2(xu, pt, 0))
		for k := range grad {
			grad[k] += gk * (pt[k] - xu[k]) * p.invl2[k] / p.sc[k]
		}
	}
	for b := 0; b < nxg; b++ {
		addK(kr.ux[b*s:(b+1)*s], coef[b])
	}
	// direct term K_XB[i, (b,l)] = k_x(x, x_b) k_w(w_i, w_l)
	nBx := nB / nw
	for b := 0; b < nBx; b++ {
		var c float64
		for i := 0; i < nw; i++ {
			for l := 0; l < nw; l++ {
				c += subar[i*nB+b*nw+l] * g.kww[i*nw+l]
			}
		}
		addK(g.bx[b*s:(b+1)*s], c)
	}
}
