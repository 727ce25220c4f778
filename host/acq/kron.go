package acq

import (
	"bohost/host/internal/linalg"

	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// newKron sets up the grid route (postKron) for grid data with split dx and
// returns false when the eigenvalues of K + σ²I are too small for it (then
// the dense route is used).
func (p *Post) newKron(s, nx, nw int, y []float64, jit float64) bool {
	d := p.d
	kr := &postKron{s: s, nx: nx, nw: nw, ux: make([]float64, nx*s), uw: make([]float64, nw*(d-s))}
	for j := 0; j < nx; j++ {
		copy(kr.ux[j*s:(j+1)*s], p.xs[j*nw*d:j*nw*d+s])
	}
	for i := 0; i < nw; i++ {
		copy(kr.uw[i*(d-s):(i+1)*(d-s)], p.xs[i*d+s:(i+1)*d])
	}
	Kx := make([]float64, nx*nx)
	for a := 0; a < nx; a++ {
		for b := 0; b < nx; b++ {
			Kx[a*nx+b] = math.Exp(-0.5 * p.r2(kr.ux[a*s:(a+1)*s], kr.ux[b*s:(b+1)*s], 0))
		}
	}
	Kw := make([]float64, nw*nw)
	dw := d - s
	for a := 0; a < nw; a++ {
		for b := 0; b < nw; b++ {
			Kw[a*nw+b] = math.Exp(-0.5 * p.r2(kr.uw[a*dw:(a+1)*dw], kr.uw[b*dw:(b+1)*dw], s))
		}
	}
	lx, qx, ok1 := linalg.EigSym(nx, Kx)
	lw, qw, ok2 := linalg.EigSym(nw, Kw)
	if !ok1 || !ok2 {
		return false
	}
	kr.qx, kr.qw, kr.lx, kr.lw = qx, qw, lx, lw
	n := p.n
	kr.isq = make([]float64, n)
	emax := p.os*lx[nx-1]*lw[nw-1] + p.noise + jit
	R := make([]float64, n)
	for j := 0; j < nx; j++ {
		for i := 0; i < nw; i++ {
			e := p.os*lx[j]*lw[i] + p.noise + jit
			if !(e > 1e-10*emax) {
				return false
			}
			kr.isq[j*nw+i] = 1 / math.Sqrt(e)
		}
	}
	for t := range R {
		R[t] = (y[t]-p.ymu)/p.ysd - p.c0
	}
	p.kr = kr
	p.solve(R) // α = Q D⁻¹ Qᵀ r
	kr.am, p.alpha = R, R
	return true
}

// r2 is the scaled squared distance of a and b over the dimensions off,
// off+1, … (len(a) of them).
func (p *Post) r2(a, b []float64, off int) float64 {
	var s float64
	for k := range a {
		t := a[k] - b[k]
		s += t * t * p.invl2[off+k]
	}
	return s
}

// fillKron is fill on the grid route.
func (p *Post) fillKron(ps *pointSet) {
	kr, d, m := p.kr, p.d, ps.m
	s, nx, nw, dw := kr.s, kr.nx, kr.nw, p.d-kr.s
	if m == 0 {
		return
	}
	KX := make([]float64, nx*m)
	KW := make([]float64, nw*m)
	for j := 0; j < m; j++ {
		u := ps.u[j*d : (j+1)*d]
		for a := 0; a < nx; a++ {
			KX[a*m+j] = p.os * math.Exp(-0.5*p.r2(u[:s], kr.ux[a*s:(a+1)*s], 0))
		}
		for i := 0; i < nw; i++ {
			KW[i*m+j] = math.Exp(-0.5 * p.r2(u[s:], kr.uw[i*dw:(i+1)*dw], s))
		}
	}
	AX := linalg.Gemm(true, false, nx, nx, kr.qx, nx, m, KX)
	BW := linalg.Gemm(true, false, nw, nw, kr.qw, nw, m, KW)
	T := linalg.Gemm(false, false, nx, nw, kr.am, nw, m, KW)
	for j := 0; j < m; j++ {
		mu := p.c0
		for a := 0; a < nx; a++ {
			mu += KX[a*m+j] * T[a*m+j]
		}
		ps.mu[j] = mu
	}
	for a := 0; a < nx; a++ {
		ax := AX[a*m : (a+1)*m]
		for i := 0; i < nw; i++ {
			is := kr.isq[a*nw+i]
			bw := BW[i*m : (i+1)*m]
			row := ps.v[(a*nw+i)*m : (a*nw+i+1)*m]
			for j := range row {
				row[j] = ax[j] * bw[j] * is
			}
		}
	}
}

// whitenT replaces the n×m row-major M by Wᵀ M, W the whitening operator
// (V = W k): L⁻ᵀ M on the dense route, Q D^{-1/2} M on the grid route.
func (p *Post) whitenT(M []float64, m int) {
	if p.kr == nil {
		blas64.Trsm(blas.Left, blas.Trans, 1, p.l, blas64.General{Rows: p.n, Cols: m, Stride: m, Data: M})
		return
	}
	kr := p.kr
	nx, nw := kr.nx, kr.nw
	col := make([]float64, p.n)
	for j := 0; j < m; j++ {
		for t := range col {
			col[t] = M[t*m+j] * kr.isq[t]
		}
		r := linalg.Gemm(false, true, nx, nw, linalg.Gemm(false, false, nx, nx, kr.qx, nx, nw, col), nw, nw, kr.qw)
		for t := range r {
			M[t*m+j] = r[t]
		}
	}
}

// kgrad adds c·∂k(a, b)/∂b_k to grad[k] for k < len(grad), in raw units of
// b (a, b unit cube).
func (p *Post) kgrad(a, b []float64, c float64, grad []float64) {
	r2 := p.r2(a, b, 0)
	var g float64
	if p.matern {
		r := math.Sqrt(r2)
		g = 5.0 / 3.0 * p.os * (1 + sqrt5*r) * math.Exp(-sqrt5*r)
	} else {
		g = p.os * math.Exp(-0.5*r2)
	}
	g *= c
	for k := range grad {
		grad[k] += g * (a[k] - b[k]) * p.invl2[k] / p.sc[k]
	}
}

// adjoint adds to grad (raw units, len nd) the derivative with respect to
// the first nd coordinates of the points of ps (shared by all of them, or
// of a single point) of Σ_j mbar_j μ_j + Σ_{t,j} vbar[t,j] V[t,j], with μ
// the standardised means and V the whitened cross-covariances of ps. vbar
// (n×m) is overwritten; nil means zero.
func (p *Post) adjoint(ps *pointSet, mbar, vbar []float64, grad []float64) {
	n, d, m := p.n, p.d, ps.m
	if p.kr != nil && len(grad) <= p.kr.s {
		p.adjointKron(ps, mbar, vbar, grad)
		return
	}
	if vbar != nil {
		p.whitenT(vbar, m)
	}
	for t := 0; t < n; t++ {
		xt := p.xs[t*d : (t+1)*d]
		for j := 0; j < m; j++ {
			c := 0.0
			if mbar != nil {
				c = p.alpha[t] * mbar[j]
			}
			if vbar != nil {
				c += vbar[t*m+j]
			}
			if c != 0 {
				p.kgrad(xt, ps.u[j*d:(j+1)*d], c, grad)
			}
		}
	}
}

// adjointKron is adjoint on the grid route when only x coordinates (the
// first s) are differentiated: V[(a,i), j] = (Q_xᵀk_x(u_j))_a (Q_wᵀk_w(u_j))_i
// /√e_ai and μ_j = c + k_x(u_j)ᵀ A k_w(u_j) depend on them only through
// k_x, so the adjoint needs n_x kernel gradients per point instead of n.
func (p *Post) adjointKron(ps *pointSet, mbar, vbar []float64, grad []float64) {
	kr, d, m := p.kr, p.d, ps.m
	s, nx, nw, dw := kr.s, kr.nx, kr.nw, p.d-kr.s
	KW := make([]float64, nw*m)
	for j := 0; j < m; j++ {
		u := ps.u[j*d : (j+1)*d]
		for i := 0; i < nw; i++ {
			KW[i*m+j] = math.Exp(-0.5 * p.r2(u[s:], kr.uw[i*dw:(i+1)*dw], s))
		}
	}
	C := make([]float64, nx*m) // coefficient of k_x(ux_b, u_j)
	if vbar != nil {
		BW := linalg.Gemm(true, false, nw, nw, kr.qw, nw, m, KW)
		N := make([]float64, nx*m)
		for a := 0; a < nx; a++ {
			for i := 0; i < nw; i++ {
				is := kr.isq[a*nw+i]
				vb := vbar[(a*nw+i)*m : (a*nw+i+1)*m]
				bw := BW[i*m : (i+1)*m]
				nr := N[a*m : (a+1)*m]
				for j := range nr {
					nr[j] += vb[j] * bw[j] * is
				}
			}
		}
		C = linalg.Gemm(false, false, nx, nx, kr.qx, nx, m, N)
	}
	if mbar != nil {
		T := linalg.Gemm(false, false, nx, nw, kr.am, nw, m, KW)
		for b := 0; b < nx; b++ {
			for j := 0; j < m; j++ {
				C[b*m+j] += mbar[j] * T[b*m+j]
			}
		}
	}
	nd := len(grad)
	for j := 0; j < m; j++ {
		u := ps.u[j*d : j*d+s]
		for b := 0; b < nx; b++ {
			c := C[b*m+j]
			if c == 0 {
				continue
			}
			xb := kr.ux[b*s : (b+1)*s]
			g := c * p.os * math.Exp(-0.5*p.r2(u, xb, 0))
			for k := 0; k < nd; k++ {
				grad[k] += g * (xb[k] - u[k]) * p.invl2[k] / p.sc[k]
			}
		}
	}
}
