package gp

import (
	"bohost/host/internal/linalg"

	"math"
)

// Grid structure. Risk-averse BO in "all_w" mode evaluates every x at every
// w of a fixed W set, so the training inputs are a complete grid x × W. With
// the RBF kernel, which factorises over any split of the dimensions,
//
//	K = σ²·K_x ⊗ K_w,   K + noise·I = (Q_x ⊗ Q_w)(σ²Λ_x ⊗ Λ_w + noise·I)(Q_x ⊗ Q_w)ᵀ,
//
// and the log marginal likelihood and its gradient cost O(n_x³ + n_w³ +
// n·(n_x + n_w)) instead of O(n³) (Saatçi 2011). Fit detects the structure
// (GridSplit) and uses this exact route for the hyper-parameter search and
// for the final α and log marginal likelihood (factorizeKron); the dense
// Cholesky factor that Predict, Posterior, PredictGrad and Condition use is
// built on their first call (lazyChol), so those methods are unchanged and a
// BO loop that never calls them never pays O(n³) time or O(n²) memory.

// GridSplit reports whether the rows of X form a complete grid x × W in
// x-major order: for some split 0 < dx < len(X[0]), rows j·nw … j·nw+nw−1
// share their first dx values (the j-th x) and row j·nw+i has the same last
// columns as row i (the i-th w), with nx, nw >= 2 and len(X) = nx·nw. Values
// are compared exactly. The split with the fewest w columns wins.
func GridSplit(X [][]float64) (dx, nx, nw int, ok bool) {
	n := len(X)
	if n < 4 {
		return 0, 0, 0, false
	}
	d := len(X[0])
	u := make([]float64, 0, n*d)
	for _, r := range X {
		if len(r) != d {
			return 0, 0, 0, false
		}
		u = append(u, r...)
	}
	return gridSplitU(u, n, d)
}

// gridSplitU is GridSplit on n×d row-major inputs.
func gridSplitU(u []float64, n, d int) (dx, nx, nw int, ok bool) {
	if n < 4 || d < 2 {
		return 0, 0, 0, false
	}
	eq := func(a, b []float64) bool {
		for k := range a {
			if a[k] != b[k] {
				return false
			}
		}
		return true
	}
	for s := d - 1; s >= 1; s-- {
		nw = 1
		for nw < n && eq(u[nw*d:nw*d+s], u[:s]) {
			nw++
		}
		if nw < 2 || n%nw != 0 || n/nw < 2 {
			continue
		}
		nx = n / nw
		good := true
		for j := 0; j < nx && good; j++ {
			x0 := u[j*nw*d : j*nw*d+s]
			for i := 0; i < nw && good; i++ {
				r := u[(j*nw+i)*d : (j*nw+i+1)*d]
				good = eq(r[:s], x0) && eq(r[s:], u[i*d+s:(i+1)*d])
			}
		}
		if good {
			return s, nx, nw, true
		}
	}
	return 0, 0, 0, false
}

// kronData holds the factors of a grid data set: the nx distinct x's and nw
// w's (unit cube) and their per-dimension squared differences.
type kronData struct {
	s, nx, nw int
	sqx       []float64 // nx×nx×s
	sqw       []float64 // nw×nw×(d−s)
}

func newKronData(u []float64, d, s, nx, nw int) *kronData {
	dw := d - s
	kd := &kronData{s: s, nx: nx, nw: nw, sqx: make([]float64, nx*nx*s), sqw: make([]float64, nw*nw*dw)}
	for a := 0; a < nx; a++ {
		ua := u[a*nw*d : a*nw*d+s]
		for b := 0; b < nx; b++ {
			ub := u[b*nw*d : b*nw*d+s]
			for k := 0; k < s; k++ {
				t := ua[k] - ub[k]
				kd.sqx[(a*nx+b)*s+k] = t * t
			}
		}
	}
	for a := 0; a < nw; a++ {
		ua := u[a*d+s : (a+1)*d]
		for b := 0; b < nw; b++ {
			ub := u[b*d+s : (b+1)*d]
			for k := 0; k < dw; k++ {
				t := ua[k] - ub[k]
				kd.sqw[(a*nw+b)*dw+k] = t * t
			}
		}
	}
	return kd
}

// rbfBlock fills the m×m RBF correlation matrix (unit outputscale) from the
// squared differences sq (m×m×len(il)) and inverse squared lengthscales il.
func rbfBlock(m int, sq, il []float64) []float64 {
	K := make([]float64, m*m)
	nd := len(il)
	for a := 0; a < m; a++ {
		for b := a; b < m; b++ {
			q := sq[(a*m+b)*nd : (a*m+b+1)*nd]
			var r2 float64
			for k, v := range il {
				r2 += q[k] * v
			}
			v := math.Exp(-0.5 * r2)
			K[a*m+b], K[b*m+a] = v, v
		}
	}
	return K
}

// lmlGradKron is lmlGrad for grid data with the RBF kernel.
func (p *problem) lmlGradKron(h Hyper, grad []float64) (lml, lp float64, ok bool) {
	kd := p.kr
	n, d, s, nx, nw := p.n, p.d, kd.s, kd.nx, kd.nw
	il := make([]float64, d)
	for k, l := range h.Lengthscales {
		il[k] = 1 / (l * l)
	}
	Kx := rbfBlock(nx, kd.sqx, il[:s])
	Kw := rbfBlock(nw, kd.sqw, il[s:])
	lx, Qx, ok1 := linalg.EigSym(nx, Kx)
	lw, Qw, ok2 := linalg.EigSym(nw, Kw)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	os := h.Outputscale
	e := make([]float64, n)
	var logDet float64
	for j := 0; j < nx; j++ {
		for i := 0; i < nw; i++ {
			v := os*lx[j]*lw[i] + h.Noise
			if !(v > 0) {
				return 0, 0, false
			}
			e[j*nw+i] = v
			logDet += math.Log(v)
		}
	}
	R := make([]float64, n)
	for t := range R {
		R[t] = p.y[t] - h.Mean
	}
	// R̃ = Q_xᵀ R Q_w, Ã = R̃ / e
	Rt := linalg.Gemm(false, false, nx, nw, linalg.Gemm(true, false, nx, nx, Qx, nx, nw, R), nw, nw, Qw)
	var quad float64
	for t := range Rt {
		a := Rt[t] / e[t]
		quad += Rt[t] * a
		Rt[t] = a
	}
	lml = -0.5*quad - 0.5*logDet - 0.5*float64(n)*math.Log(2*math.Pi)
	lp = p.logPrior(h)
	if grad == nil {
		return lml, lp, true
	}
	At := Rt
	Am := linalg.Gemm(false, true, nx, nw, linalg.Gemm(false, false, nx, nx, Qx, nx, nw, At), nw, nw, Qw) // α as nx×nw
	clear(grad)
	// x dimensions: G_x = A K_w Aᵀ, T_x = Q_x diag(c_x) Q_xᵀ
	cx := make([]float64, nx)
	cw := make([]float64, nw)
	var gos, gnoise, sumA float64
	for j := 0; j < nx; j++ {
		for i := 0; i < nw; i++ {
			t := j*nw + i
			cx[j] += os * lw[i] / e[t]
			cw[i] += os * lx[j] / e[t]
			lm := os * lx[j] * lw[i]
			gos += lm*At[t]*At[t] - lm/e[t]
			gnoise += At[t]*At[t] - 1/e[t]
		}
	}
	for _, a := range Am {
		sumA += a
	}
	blockGrad := func(m, nd int, Kb, sq, G, Q, c, ilb, dst []float64) {
		// T = Q diag(c) Qᵀ
		Qc := make([]float64, m*m)
		for a := 0; a < m; a++ {
			for j := 0; j < m; j++ {
				Qc[a*m+j] = Q[a*m+j] * c[j]
			}
		}
		T := linalg.Gemm(false, true, m, m, Qc, m, m, Q)
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				wab := 0.5 * Kb[a*m+b] * (os*G[a*m+b] - T[a*m+b])
				q := sq[(a*m+b)*nd : (a*m+b+1)*nd]
				for k := range dst {
					dst[k] += wab * q[k]
				}
			}
		}
		for k := range dst {
			dst[k] *= ilb[k]
		}
	}
	Gx := linalg.Gemm(false, true, nx, nw, linalg.Gemm(false, false, nx, nw, Am, nw, nw, Kw), nx, nw, Am)
	blockGrad(nx, s, Kx, kd.sqx, Gx, Qx, cx, il[:s], grad[:s])
	Gw := linalg.Gemm(true, false, nx, nw, Am, nx, nw, linalg.Gemm(false, false, nx, nx, Kx, nx, nw, Am))
	blockGrad(nw, d-s, Kw, kd.sqw, Gw, Qw, cw, il[s:], grad[s:d])
	p.finishGrad(h, grad, 0.5*gos, 0.5*gnoise, sumA)
	return lml, lp, true
}

// logPrior is the log prior density of h (0 for flat priors).
func (p *problem) logPrior(h Hyper) (lp float64) {
	pri := p.pri
	if pri.flat {
		return 0
	}
	for _, l := range h.Lengthscales {
		lp += pri.ls.logPDF(l)
	}
	if pri.learnOS {
		lp += pri.os.logPDF(h.Outputscale)
	}
	if p.learnNoise {
		lp += pri.noise.logPDF(h.Noise)
	}
	return lp
}
