package acq

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/internal/linalg"
)

var sqrt5 = math.Sqrt(5)

// Post is the exact GP posterior that the acquisition functions evaluate:
// the training inputs scaled to the unit cube, the lower Cholesky factor L of
// K + σ²I and α = (K + σ²I)⁻¹(y_s − c) in standardised output units, built
// from a fitted model's hyper-parameters. Keeping its own factor lets the
// acquisitions batch triangular solves, share cross-covariances between
// candidates and fantasies, and do rank-1 fantasy updates without copying
// the model. Its predictions equal gp.Model.Predict (checked in the tests).
//
// A Post is read-only after NewPost and safe for concurrent use.
type Post struct {
	d      int
	lo, sc []float64 // raw -> unit: (z - lo) / sc
	invl2  []float64
	os     float64 // outputscale (standardised units)
	noise  float64 // noise variance (standardised units)
	c0     float64 // constant mean (standardised units)
	ymu    float64 // raw = ymu + ysd * standardised
	ysd    float64
	matern bool
	n      int
	xs     []float64         // n×d unit-cube inputs, row-major
	l      blas64.Triangular // dense route: lower Cholesky factor of K + σ²I
	kr     *postKron         // grid route (RBF on x × W grid data), nil otherwise
	alpha  []float64
}

// postKron is the Kronecker form of (K + σ²I)⁻¹ for grid training data
// (gp.GridSplit) and the RBF kernel, which factorises over x and w:
// K + σ²I = Q (σ²Λ_x⊗Λ_w + σ²_n I) Qᵀ with Q = Q_x⊗Q_w. The whitening
// operator is then D^{-1/2}Qᵀ instead of L⁻¹, and V = D^{-1/2}Qᵀk(X, z)
// costs O(n) per point instead of O(n²), because k(X, z) = k_x ⊗ k_w.
type postKron struct {
	s, nx, nw int
	ux, uw    []float64 // nx×s grid x's, nw×(d−s) grid w's (unit cube)
	qx, qw    []float64 // eigenvectors (columns), nx×nx and nw×nw
	isq       []float64 // n: 1/√(eigenvalue of K + σ²I), x-major
	lx, lw    []float64 // eigenvalues of the unit x and w kernel matrices (ascending, as qx, qw)
	am        []float64 // α as an nx×nw matrix
}

// NewPost builds the posterior of the fitted model m on its training data X,
// y (the rows m was fitted on): m's hyper-parameters, kernel, input bounds,
// output standardisation and diagonal jitter.
func NewPost(m *gp.Model, X [][]float64, y []float64) (*Post, error) {
	if m == nil || !m.Fitted() {
		return nil, errs.New(errs.BadState, "acq.NewPost", "the GP model is not fitted")
	}
	ym, ys := m.YTransform()
	return newPost(X, y, m.Hyper(), m.Options(), ym, ys, m.Jitter())
}

// newPost builds the posterior from hyper-parameters h, options opts (kernel
// and bounds), the output standardisation ym, ys and the diagonal jitter.
func newPost(X [][]float64, y []float64, h gp.Hyper, opts gp.Options, ym, ys, jit float64) (*Post, error) {
	const op = "acq.NewPost"
	n := len(X)
	if n == 0 || len(y) != n {
		return nil, errs.New(errs.BadArg, op, "need len(X) == len(y) >= 1, got %d and %d", n, len(y))
	}
	d := len(X[0])
	if len(h.Lengthscales) != d {
		return nil, errs.New(errs.BadArg, op, "hyper has %d lengthscales for %d input dimensions", len(h.Lengthscales), d)
	}
	p := &Post{d: d, n: n, os: h.Outputscale, noise: h.Noise, c0: h.Mean,
		matern: opts.Kernel == gp.Matern52,
		lo:     make([]float64, d), sc: make([]float64, d), invl2: make([]float64, d)}
	for k := 0; k < d; k++ {
		p.lo[k], p.sc[k] = 0, 1
		if opts.Bounds != nil {
			p.lo[k], p.sc[k] = opts.Bounds[k][0], opts.Bounds[k][1]-opts.Bounds[k][0]
		}
		p.invl2[k] = 1 / (h.Lengthscales[k] * h.Lengthscales[k])
	}
	p.ymu, p.ysd = ym, ys
	p.xs = make([]float64, n*d)
	for i, x := range X {
		if len(x) != d {
			return nil, errs.New(errs.BadArg, op, "X[%d] has %d values, want %d", i, len(x), d)
		}
		p.unit(x, p.xs[i*d:(i+1)*d])
	}
	if dx, nx, nw, ok := gp.GridSplit(X); ok && !p.matern && !opts.DenseOnly {
		if p.newKron(dx, nx, nw, y, jit) {
			return p, nil
		}
	}
	K := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		K.SetSym(i, i, p.os+p.noise)
		for j := 0; j < i; j++ {
			K.SetSym(i, j, p.k(p.xs[i*d:(i+1)*d], p.xs[j*d:(j+1)*d]))
		}
	}
	// The model's own jitter first: the factor is then the model's.
	var ch mat.Cholesky
	if _, ok := linalg.Chol(&ch, K, jit); !ok {
		return nil, errs.New(errs.NotPD, op, "kernel matrix not positive definite after jitter 1e-4").
			WithHint("raise the GP noise floor")
	}
	var L mat.TriDense
	ch.LTo(&L)
	p.l = L.RawTriangular()
	p.alpha = make([]float64, n)
	for i := range y {
		p.alpha[i] = (y[i]-p.ymu)/p.ysd - p.c0
	}
	p.solve(p.alpha)
	return p, nil
}

// Dim is the input dimension (x and w together).
func (p *Post) Dim() int { return p.d }

// N is the number of training points.
func (p *Post) N() int { return p.n }

// Scale returns the standard deviation that converts standardised output
// units to raw units.
func (p *Post) Scale() float64 { return p.ysd }

func (p *Post) unit(z, dst []float64) {
	for k := range dst {
		dst[k] = (z[k] - p.lo[k]) / p.sc[k]
	}
}

// k is the kernel on unit-cube inputs, standardised units.
func (p *Post) k(a, b []float64) float64 {
	var r2 float64
	for i, il := range p.invl2 {
		d := a[i] - b[i]
		r2 += d * d * il
	}
	if p.matern {
		r := math.Sqrt(r2)
		return p.os * (1 + sqrt5*r + 5.0/3.0*r2) * math.Exp(-sqrt5*r)
	}
	return p.os * math.Exp(-0.5*r2)
}

// pointSet holds the quantities every posterior computation at a set of m
// points needs: unit coordinates u (m×d), V = L⁻¹k(X, U) stored as an n×m
// row-major matrix, and the standardised means.
type pointSet struct {
	m  int
	u  []float64
	v  []float64 // n×m
	mu []float64
}

// points computes the pointSet of the raw points Z (each of length Dim).
func (p *Post) points(Z [][]float64) *pointSet {
	m := len(Z)
	ps := &pointSet{m: m, u: make([]float64, m*p.d), v: make([]float64, p.n*m), mu: make([]float64, m)}
	for j, z := range Z {
		p.unit(z, ps.u[j*p.d:(j+1)*p.d])
	}
	p.fill(ps)
	return ps
}

// fill computes v and mu of ps from its u.
func (p *Post) fill(ps *pointSet) {
	if p.kr != nil {
		p.fillKron(ps)
		return
	}
	n, d, m := p.n, p.d, ps.m
	for i := 0; i < n; i++ {
		xi := p.xs[i*d : (i+1)*d]
		row := ps.v[i*m : (i+1)*m]
		for j := 0; j < m; j++ {
			row[j] = p.k(xi, ps.u[j*d:(j+1)*d])
		}
	}
	for j := 0; j < m; j++ {
		s := p.c0
		for i := 0; i < n; i++ {
			s += ps.v[i*m+j] * p.alpha[i]
		}
		ps.mu[j] = s
	}
	if m > 0 {
		blas64.Trsm(blas.Left, blas.NoTrans, 1, p.l, blas64.General{Rows: n, Cols: m, Stride: m, Data: ps.v})
	}
}

// cov returns the standardised posterior covariance between point a of A and
// point b of B.
func (p *Post) cov(A *pointSet, a int, B *pointSet, b int) float64 {
	c := p.k(A.u[a*p.d:(a+1)*p.d], B.u[b*p.d:(b+1)*p.d])
	for i := 0; i < p.n; i++ {
		c -= A.v[i*A.m+a] * B.v[i*B.m+b]
	}
	return c
}

// covMat returns the standardised posterior covariance matrix between A and
// B as an A.m×B.m row-major slice.
func (p *Post) covMat(A, B *pointSet, dst []float64) []float64 {
	if cap(dst) < A.m*B.m {
		dst = make([]float64, A.m*B.m)
	}
	dst = dst[:A.m*B.m]
	d := p.d
	for a := 0; a < A.m; a++ {
		for b := 0; b < B.m; b++ {
			dst[a*B.m+b] = p.k(A.u[a*d:(a+1)*d], B.u[b*d:(b+1)*d])
		}
	}
	if p.n > 0 {
		// dst -= Vaᵀ Vb
		blas64.Gemm(blas.Trans, blas.NoTrans, -1,
			blas64.General{Rows: p.n, Cols: A.m, Stride: A.m, Data: A.v},
			blas64.General{Rows: p.n, Cols: B.m, Stride: B.m, Data: B.v},
			1, blas64.General{Rows: A.m, Cols: B.m, Stride: B.m, Data: dst})
	}
	return dst
}

// Predict returns the posterior mean and latent variance at the raw points Z
// in raw output units (as gp.Model.Predict).
func (p *Post) Predict(Z [][]float64) (mean, variance []float64) {
	ps := p.points(Z)
	mean = make([]float64, ps.m)
	variance = make([]float64, ps.m)
	for j := range mean {
		mean[j] = p.ymu + p.ysd*ps.mu[j]
		variance[j] = math.Max(p.cov(ps, j, ps, j), 0) * p.ysd * p.ysd
	}
	return mean, variance
}

// solve overwrites r with (K + σ²I)⁻¹ r (standardised units).
func (p *Post) solve(r []float64) {
	if kr := p.kr; kr != nil {
		nx, nw := kr.nx, kr.nw
		Rt := linalg.Gemm(true, false, nx, nx, kr.qx, nx, nw, r)
		Rt = linalg.Gemm(false, false, nx, nw, Rt, nw, nw, kr.qw)
		for t := range Rt {
			Rt[t] *= kr.isq[t] * kr.isq[t]
		}
		copy(r, linalg.Gemm(false, true, nx, nw, linalg.Gemm(false, false, nx, nx, kr.qx, nx, nw, Rt), nw, nw, kr.qw))
		return
	}
	v := blas64.Vector{N: p.n, Inc: 1, Data: r}
	blas64.Trsv(blas.NoTrans, p.l, v)
	blas64.Trsv(blas.Trans, p.l, v)
}
