package gp

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

	"bohost/host/internal/linalg"
)

// lazyChol is the dense Cholesky factor of a model factorised on the grid
// route (factorizeKron): built on first use by the methods that need it
// (Predict, Posterior, PredictGrad, Condition), once, safely for concurrent
// readers. A BO loop that only reads the hyper-parameters, α and the LML
// (acq.NewPost builds its own Kronecker posterior) never builds it, which
// saves the O(n³) factorisation and its two n×n matrices (44 MB at n = 1664).
type lazyChol struct {
	once sync.Once
	chol mat.Cholesky
}

// factor returns the model's dense Cholesky factor of K + (noise+jitter)·I.
func (m *Model) factor() *mat.Cholesky {
	lz := m.lazy
	if lz == nil {
		return &m.chol
	}
	lz.once.Do(func() {
		k := m.kernelMatrix()
		// The grid route accepted this jitter with every eigenvalue above
		// 1e-10 of the largest, so the factorisation succeeds at it.
		if _, ok := linalg.Chol(&lz.chol, k, m.jitter); !ok {
			panic("gp: kernel matrix not positive definite on the dense route after the grid route accepted it")
		}
	})
	return &lz.chol
}

// kernelMatrix returns K + noise·I at m.h for the stored data.
func (m *Model) kernelMatrix() *mat.SymDense {
	n, d := m.n, m.d
	k := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		ui := m.u[i*d : i*d+d]
		k.SetSym(i, i, m.h.Outputscale+m.h.Noise)
		for j := i + 1; j < n; j++ {
			k.SetSym(i, j, m.kn.cov(ui, m.u[j*d:j*d+d]))
		}
	}
	return k
}

// factorizeKron is factorize on the grid route: for RBF models on grid data
// (GridSplit, unless Options.DenseOnly) α and the log marginal likelihood
// come from the eigendecompositions of K_x and K_w (O(n_x³ + n_w³ + n·(n_x +
// n_w)), as the hyper-parameter search's lmlGradKron), and the dense factor
// is deferred to first use (lazyChol). jitter > 0 is used as given (exact
// resume), else none. It returns false, changing nothing, when the data are
// not a grid or an eigenvalue of K + (noise+jitter)·I is below 1e-10 of the
// largest (the dense route then climbs its jitter ladder).
func (m *Model) factorizeKron(jitter float64) bool {
	n, d := m.n, m.d
	if m.opts.DenseOnly || m.opts.kernel() != RBF {
		return false
	}
	s, nx, nw, ok := gridSplitU(m.u, n, d)
	if !ok {
		return false
	}
	kd := newKronData(m.u, d, s, nx, nw)
	il := make([]float64, d)
	for k, l := range m.h.Lengthscales {
		il[k] = 1 / (l * l)
	}
	lx, Qx, ok1 := linalg.EigSym(nx, rbfBlock(nx, kd.sqx, il[:s]))
	lw, Qw, ok2 := linalg.EigSym(nw, rbfBlock(nw, kd.sqw, il[s:]))
	if !ok1 || !ok2 {
		return false
	}
	os, nz := m.h.Outputscale, m.h.Noise+jitter
	e := make([]float64, n)
	emax := os*lx[nx-1]*lw[nw-1] + nz
	var logDet float64
	for j := 0; j < nx; j++ {
		for i := 0; i < nw; i++ {
			v := os*lx[j]*lw[i] + nz
			if !(v > 1e-10*emax) {
				return false
			}
			e[j*nw+i] = v
			logDet += math.Log(v)
		}
	}
	r := make([]float64, n)
	for t := range r {
		r[t] = m.ys[t] - m.h.Mean
	}
	// α = Q D⁻¹ Qᵀ r, Q = Q_x ⊗ Q_w (r as an nx×nw matrix R: Q_xᵀ R Q_w)
	Rt := linalg.Gemm(false, false, nx, nw, linalg.Gemm(true, false, nx, nx, Qx, nx, nw, r), nw, nw, Qw)
	var quad float64
	for t := range Rt {
		a := Rt[t] / e[t]
		quad += Rt[t] * a
		Rt[t] = a
	}
	m.alpha = linalg.Gemm(false, true, nx, nw, linalg.Gemm(false, false, nx, nx, Qx, nx, nw, Rt), nw, nw, Qw)
	m.lml = -0.5*quad - 0.5*logDet - 0.5*float64(n)*math.Log(2*math.Pi)
	m.jitter = jitter
	m.chol = mat.Cholesky{}
	m.lazy = &lazyChol{}
	m.fitted = true
	m.warm = true
	return true
}
