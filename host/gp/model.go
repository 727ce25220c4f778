package gp

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"bohost/host/errs"
	"bohost/host/internal/linalg"
	"bohost/host/internal/num"
)

// Hyper are the kernel hyper-parameters in standardised-output and unit-cube
// input units.
type Hyper struct {
	Lengthscales []float64 `json:"lengthscales"` // ARD lengthscales, unit-cube units
	Outputscale  float64   `json:"outputscale"`  // signal variance σ² (1 and fixed under PriorDimScaled)
	Noise        float64   `json:"noise"`        // observation-noise variance
	Mean         float64   `json:"mean"`         // constant prior mean
}

func (h Hyper) clone() Hyper {
	h.Lengthscales = slices.Clone(h.Lengthscales)
	return h
}

// Model is an exact GP regression model. It is not safe for concurrent
// mutation (Fit, FitWithHyper); the read-only methods (Predict, Posterior,
// MeanGrad, PredictGrad, CrossCov, Condition) may be called concurrently.
type Model struct {
	opts   Options
	d, n   int
	lo, wd []float64 // raw bounds: lower end and width per dimension

	xRaw [][]float64
	yRaw []float64
	u    []float64 // n×d unit-cube inputs
	ys   []float64 // standardised targets

	yMean, yStd float64
	h           Hyper
	kn          kern
	jitter      float64      // absolute jitter on the kernel diagonal
	chol        mat.Cholesky // dense factor (unset on the grid route: see lazy)
	lazy        *lazyChol    // grid route: the dense factor, built on first use
	alpha       []float64    // K⁻¹(ys − mean)
	lml         float64
	fitted      bool
	warm        bool // h holds hyper-parameters to warm-start the next Fit from
}

// New returns an unfitted model.
func New(opts Options) (*Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := &Model{opts: opts}
	m.opts.Bounds = slices.Clone(opts.Bounds)
	if opts.Bounds != nil {
		m.setDim(len(opts.Bounds))
	}
	return m, nil
}

func (m *Model) setDim(d int) {
	m.d = d
	m.lo = make([]float64, d)
	m.wd = make([]float64, d)
	for k := 0; k < d; k++ {
		if m.opts.Bounds != nil {
			m.lo[k] = m.opts.Bounds[k][0]
			m.wd[k] = m.opts.Bounds[k][1] - m.opts.Bounds[k][0]
		} else {
			m.wd[k] = 1
		}
	}
}

// Options returns the model's options.
func (m *Model) Options() Options {
	o := m.opts
	o.Bounds = slices.Clone(o.Bounds)
	return o
}

// N returns the number of training points (0 before a fit).
func (m *Model) N() int { return m.n }

// Dim returns the input dimension (0 before a fit when Options.Bounds is nil).
func (m *Model) Dim() int { return m.d }

// Fitted reports whether the model has been fitted.
func (m *Model) Fitted() bool { return m.fitted }

// Hyper returns a copy of the fitted hyper-parameters (zero before a fit).
func (m *Model) Hyper() Hyper {
	if !m.fitted {
		return Hyper{}
	}
	return m.h.clone()
}

// YTransform returns the output standardisation: raw y = mean + std·(standardised y).
// std uses ddof = 1 (as BoTorch's Standardize); it is 1 for n = 1 or constant y.
func (m *Model) YTransform() (mean, std float64) { return m.yMean, m.yStd }

// Jitter returns the absolute jitter added to the kernel diagonal (0 when none was needed).
func (m *Model) Jitter() float64 { return m.jitter }

// LogMarginalLikelihood returns the exact Gaussian log-likelihood of the
// standardised targets at the fitted hyper-parameters, without prior terms
// (a total, not per point). Raw-unit value: subtract N()·ln(std) (YTransform).
func (m *Model) LogMarginalLikelihood() float64 {
	if !m.fitted {
		return math.NaN()
	}
	return m.lml
}

// LogPrior returns the log prior density of the fitted hyper-parameters under
// the model's prior set (0 for PriorNone and for fixed parameters).
func (m *Model) LogPrior() float64 {
	if !m.fitted {
		return math.NaN()
	}
	pri := makePriors(m.opts.prior(), m.d)
	if pri.flat {
		return 0
	}
	var lp float64
	for _, l := range m.h.Lengthscales {
		lp += pri.ls.logPDF(l)
	}
	if pri.learnOS {
		lp += pri.os.logPDF(m.h.Outputscale)
	}
	if m.opts.LearnNoise {
		lp += pri.noise.logPDF(m.h.Noise)
	}
	return lp
}

// checkX validates a batch of raw inputs and returns them in unit-cube
// coordinates (row major).
func (m *Model) checkX(op, name string, X [][]float64) ([]float64, error) {
	u := make([]float64, len(X)*m.d)
	for i, row := range X {
		if len(row) != m.d {
			return nil, errs.New(errs.BadArg, op, "%s row %d has %d columns, want %d", name, i, len(row), m.d)
		}
		for k, v := range row {
			if !num.Finite(v) {
				return nil, errs.New(errs.BadArg, op, "%s[%d][%d] must be finite, got %g", name, i, k, v)
			}
			u[i*m.d+k] = (v - m.lo[k]) / m.wd[k]
		}
	}
	return u, nil
}

func (m *Model) needFit(op string) error {
	if !m.fitted {
		return errs.New(errs.BadState, op, "model is not fitted").WithHint("call fit first")
	}
	return nil
}

// crossU returns the n×q matrix k(Xtrain, U) in standardised units.
func (m *Model) crossU(u []float64, q int) *mat.Dense {
	kx := mat.NewDense(m.n, q, nil)
	raw := kx.RawMatrix()
	d := m.d
	for i := 0; i < m.n; i++ {
		ui := m.u[i*d : i*d+d]
		for j := 0; j < q; j++ {
			raw.Data[i*raw.Stride+j] = m.kn.cov(ui, u[j*d:j*d+d])
		}
	}
	return kx
}

// solveUT overwrites b (n×q) with U⁻ᵀ b, where K = UᵀU.
func (m *Model) solveUT(b *mat.Dense) {
	ut := m.factor().RawU().(*mat.TriDense).RawTriangular()
	blas64.Trsm(blas.Left, blas.Trans, 1, ut, b.RawMatrix())
}

// Predict returns the posterior mean and the variance of the latent function
// (no observation noise) at each row of X, in raw output units.
func (m *Model) Predict(X [][]float64) (mean, variance []float64, err error) {
	const op = "gp.predict"
	if err := m.needFit(op); err != nil {
		return nil, nil, err
	}
	u, err := m.checkX(op, "X", X)
	if err != nil {
		return nil, nil, err
	}
	q := len(X)
	mean = make([]float64, q)
	variance = make([]float64, q)
	if q == 0 {
		return mean, variance, nil
	}
	kx := m.crossU(u, q)
	for j := 0; j < q; j++ {
		mean[j] = m.h.Mean + mat.Dot(kx.ColView(j), mat.NewVecDense(m.n, m.alpha))
	}
	m.solveUT(kx)
	s2 := m.yStd * m.yStd
	for j := 0; j < q; j++ {
		c := kx.ColView(j)
		v := m.kn.os - mat.Dot(c, c)
		variance[j] = math.Max(v, 0) * s2
		mean[j] = m.yMean + m.yStd*mean[j]
	}
	return mean, variance, nil
}

// Posterior is the joint posterior of the latent function over a batch, in
// raw output units.
type Posterior struct {
	Mean   []float64
	Cov    *mat.SymDense
	Jitter float64 // absolute jitter added to Cov's diagonal for its Cholesky factor (0: none)

	l []float64 // lower Cholesky factor of Cov + Jitter·I, row major q×q
}

// Posterior returns the joint posterior over the rows of X. Its Cholesky
// factor is computed with the jitter ladder (1e-8 … 1e-4 of the mean
// diagonal), so batches with repeated points work.
func (m *Model) Posterior(X [][]float64) (*Posterior, error) {
	const op = "gp.posterior"
	if err := m.needFit(op); err != nil {
		return nil, err
	}
	u, err := m.checkX(op, "X", X)
	if err != nil {
		return nil, err
	}
	q := len(X)
	if q == 0 {
		return nil, errs.New(errs.BadArg, op, "X must have at least one row, got 0")
	}
	kx := m.crossU(u, q)
	av := mat.NewVecDense(m.n, m.alpha)
	p := &Posterior{Mean: make([]float64, q)}
	for j := 0; j < q; j++ {
		p.Mean[j] = m.yMean + m.yStd*(m.h.Mean+mat.Dot(kx.ColView(j), av))
	}
	m.solveUT(kx)
	var vv mat.SymDense
	vv.SymOuterK(1, kx.T()) // VᵀV
	s2 := m.yStd * m.yStd
	cov := mat.NewSymDense(q, nil)
	d := m.d
	for i := 0; i < q; i++ {
		for j := i; j < q; j++ {
			cov.SetSym(i, j, s2*(m.kn.cov(u[i*d:i*d+d], u[j*d:j*d+d])-vv.At(i, j)))
		}
	}
	p.Cov = cov
	a := mat.NewSymDense(q, nil)
	a.CopySym(cov)
	var ch mat.Cholesky
	abs, ok := linalg.Chol(&ch, a, 0)
	if !ok {
		return nil, errs.New(errs.NotPD, op, "posterior covariance of %d points not positive definite after jitter 1e-4", q).
			WithHint("remove repeated or near-identical points from the batch")
	}
	p.Jitter = abs
	var lt mat.TriDense
	ch.LTo(&lt)
	p.l = make([]float64, q*q)
	for i := 0; i < q; i++ {
		for j := 0; j <= i; j++ {
			p.l[i*q+j] = lt.At(i, j)
		}
	}
	return p, nil
}

// Q returns the batch size.
func (p *Posterior) Q() int { return len(p.Mean) }

// L returns the lower Cholesky factor of Cov (+ Jitter·I) as a new matrix.
func (p *Posterior) L() *mat.TriDense {
	q := len(p.Mean)
	t := mat.NewTriDense(q, mat.Lower, nil)
	for i := 0; i < q; i++ {
		for j := 0; j <= i; j++ {
			t.SetTri(i, j, p.l[i*q+j])
		}
	}
	return t
}

// Sample writes one joint sample Mean + L·base into dst (allocated when nil
// or of the wrong length) and returns it. base holds q standard-normal draws,
// fixed by the caller (e.g. sobol.Normal) so that the sample is a smooth
// deterministic function of the batch. It returns nil when len(base) != q.
func (p *Posterior) Sample(base []float64, dst []float64) []float64 {
	q := len(p.Mean)
	if len(base) != q {
		return nil
	}
	if len(dst) != q {
		dst = make([]float64, q)
	}
	// Fill from the end so that dst may alias base.
	for i := q - 1; i >= 0; i-- {
		s := p.Mean[i]
		row := p.l[i*q : i*q+i+1]
		for j, l := range row {
			s += l * base[j]
		}
		dst[i] = s
	}
	return dst
}

// CrossCov returns the q×n matrix k(X, Xtrain) in standardised units (the
// kernel with the fitted outputscale, without noise). It returns nil when the
// model is not fitted or X is invalid (check with Predict for the error).
func (m *Model) CrossCov(X [][]float64) *mat.Dense {
	if !m.fitted {
		return nil
	}
	u, err := m.checkX("gp.cross_cov", "X", X)
	if err != nil || len(X) == 0 {
		return nil
	}
	var t mat.Dense
	t.CloneFrom(m.crossU(u, len(X)).T())
	return &t
}

// MeanGrad writes d mean / d x (raw units) at the raw point x into dst
// (allocated when nil or of the wrong length) and returns it. It returns nil
// when the model is not fitted or x is invalid.
func (m *Model) MeanGrad(x []float64, dst []float64) []float64 {
	if !m.fitted || len(x) != m.d {
		return nil
	}
	u, err := m.checkX("gp.mean_grad", "x", [][]float64{x})
	if err != nil {
		return nil
	}
	if len(dst) != m.d {
		dst = make([]float64, m.d)
	}
	for k := range dst {
		dst[k] = 0
	}
	d := m.d
	for i := 0; i < m.n; i++ {
		m.kn.gradU(dst, m.alpha[i], u, m.u[i*d:i*d+d])
	}
	for k := range dst {
		dst[k] *= m.yStd / m.wd[k]
	}
	return dst
}

// PredictGrad returns the posterior mean and latent variance at the raw point
// x and their gradients with respect to x, all in raw units. It returns NaNs
// and nil gradients when the model is not fitted or x is invalid.
func (m *Model) PredictGrad(x []float64) (mean, variance float64, dmean, dvar []float64) {
	if !m.fitted || len(x) != m.d {
		return math.NaN(), math.NaN(), nil, nil
	}
	u, err := m.checkX("gp.predict_grad", "x", [][]float64{x})
	if err != nil {
		return math.NaN(), math.NaN(), nil, nil
	}
	n, d := m.n, m.d
	ks := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		ks.SetVec(i, m.kn.cov(u, m.u[i*d:i*d+d]))
	}
	var v mat.VecDense
	_ = m.factor().SolveVecTo(&v, ks) // K⁻¹k*
	mean = m.h.Mean + mat.Dot(ks, mat.NewVecDense(n, m.alpha))
	variance = m.kn.os - mat.Dot(ks, &v)
	dmean = make([]float64, d)
	dvar = make([]float64, d)
	for i := 0; i < n; i++ {
		ui := m.u[i*d : i*d+d]
		m.kn.gradU(dmean, m.alpha[i], u, ui)
		m.kn.gradU(dvar, -2*v.AtVec(i), u, ui)
	}
	s2 := m.yStd * m.yStd
	for k := 0; k < d; k++ {
		dmean[k] *= m.yStd / m.wd[k]
		dvar[k] *= s2 / m.wd[k]
	}
	if variance < 0 {
		variance = 0
	}
	return m.yMean + m.yStd*mean, variance * s2, dmean, dvar
}

// String describes the model, e.g. "gp.Model(n=12, d=3, rbf)".
func (m *Model) String() string {
	return fmt.Sprintf("gp.Model(n=%d, d=%d, %s)", m.n, m.d, m.opts.kernel())
}
