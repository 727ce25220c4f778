package gp

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"

	"bohost/host/errs"
	"bohost/host/internal/linalg"
	"bohost/host/internal/num"
)

// checkData validates training data and fixes the input dimension.
func (m *Model) checkData(op string, X [][]float64, y []float64) ([]float64, error) {
	if len(X) == 0 {
		return nil, errs.New(errs.BadArg, op, "X must have at least one row, got 0")
	}
	if len(y) != len(X) {
		return nil, errs.New(errs.BadArg, op, "y has %d values but X has %d rows", len(y), len(X))
	}
	for i, v := range y {
		if !num.Finite(v) {
			return nil, errs.New(errs.BadArg, op, "y[%d] must be finite, got %g", i, v)
		}
	}
	if m.d == 0 {
		// The first data fix the dimension (Options.Bounds is nil), but only
		// once they are valid.
		if len(X[0]) == 0 {
			return nil, errs.New(errs.BadArg, op, "X row 0 has 0 columns, want at least 1")
		}
		m.setDim(len(X[0]))
		u, err := m.checkX(op, "X", X)
		if err != nil {
			m.d, m.lo, m.wd = 0, nil, nil
		}
		return u, err
	}
	return m.checkX(op, "X", X)
}

// standardise returns the ddof-1 mean and standard deviation used by BoTorch's
// Standardize (std 1 for n = 1 or std < 1e-8).
func standardise(y []float64) (mean, std float64) {
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	if len(y) < 2 {
		return mean, 1
	}
	var ss float64
	for _, v := range y {
		ss += (v - mean) * (v - mean)
	}
	std = math.Sqrt(ss / float64(len(y)-1))
	if !(std >= 1e-8) {
		std = 1
	}
	return mean, std
}

// setData stores training data with the given standardisation.
func (m *Model) setData(X [][]float64, y, u []float64, ym, ys float64) {
	m.n = len(y)
	m.xRaw = make([][]float64, len(X))
	for i, r := range X {
		m.xRaw[i] = slices.Clone(r)
	}
	m.yRaw = slices.Clone(y)
	m.u = u
	m.yMean, m.yStd = ym, ys
	m.ys = make([]float64, len(y))
	for i, v := range y {
		m.ys[i] = (v - ym) / ys
	}
}

func checkHyper(op string, h Hyper, d int) error {
	if len(h.Lengthscales) != d {
		return errs.New(errs.BadArg, op, "Hyper.Lengthscales has %d values, want %d", len(h.Lengthscales), d)
	}
	for k, l := range h.Lengthscales {
		if !num.Finite(l) || l <= 0 {
			return errs.New(errs.BadArg, op, "Hyper.Lengthscales[%d] must be finite and > 0, got %g", k, l)
		}
	}
	if !num.Finite(h.Outputscale) || h.Outputscale <= 0 {
		return errs.New(errs.BadArg, op, "Hyper.Outputscale must be finite and > 0, got %g", h.Outputscale)
	}
	if !num.Finite(h.Noise) || h.Noise < 0 {
		return errs.New(errs.BadArg, op, "Hyper.Noise must be finite and >= 0, got %g", h.Noise)
	}
	if !num.Finite(h.Mean) {
		return errs.New(errs.BadArg, op, "Hyper.Mean must be finite, got %g", h.Mean)
	}
	return nil
}

// factorize builds and factorises K at m.h for the stored data. With
// jitter > 0 that absolute jitter is tried first (exact resume). RBF models
// on grid data take the grid route (factorizeKron: no dense factor until a
// method needs one).
func (m *Model) factorize(op string, jitter float64) error {
	n := m.n
	m.kn = newKern(m.opts.kernel(), m.h)
	m.lazy = nil
	if m.factorizeKron(jitter) {
		return nil
	}
	k := m.kernelMatrix()
	var ch mat.Cholesky
	jitter, ok := linalg.Chol(&ch, k, jitter)
	if !ok {
		m.fitted = false
		return errs.New(errs.NotPD, op, "kernel matrix not positive definite after jitter 1e-4 (n=%d, noise=%g)", n, m.h.Noise).
			WithHint("raise the noise floor")
	}
	m.chol = ch
	m.jitter = jitter
	m.finish()
	return nil
}

// finish computes α and the log marginal likelihood from the factor.
func (m *Model) finish() {
	n := m.n
	r := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		r.SetVec(i, m.ys[i]-m.h.Mean)
	}
	var a mat.VecDense
	_ = m.chol.SolveVecTo(&a, r)
	m.alpha = slices.Clone(a.RawVector().Data)
	m.lml = -0.5*mat.Dot(r, &a) - 0.5*m.chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)
	m.fitted = true
	m.warm = true
}

// FitWithHyper stores the data and factorises the kernel matrix at the given
// hyper-parameters, without optimisation (exact resume, tests).
func (m *Model) FitWithHyper(X [][]float64, y []float64, h Hyper) error {
	const op = "gp.fit_with_hyper"
	u, err := m.checkData(op, X, y)
	if err != nil {
		return err
	}
	if err := checkHyper(op, h, m.d); err != nil {
		return err
	}
	ym, ys := standardise(y)
	m.setData(X, y, u, ym, ys)
	m.h = h.clone()
	return m.factorize(op, 0)
}

type startResult struct {
	th []float64
	f  float64
	ok bool
}

// Fit standardises y, scales X to the unit cube, fits the hyper-parameters by
// maximising the log marginal likelihood plus log priors (L-BFGS on analytic
// gradients, in log space) from the prior mode, Options.Restarts prior draws
// and the previous hyper-parameters, keeps the best, and factorises. The
// result depends only on the data, the options and the previous
// hyper-parameters, not on scheduling. On error the model is left unfitted
// except for a canceled context, which leaves the previous fit in place.
func (m *Model) Fit(ctx context.Context, X [][]float64, y []float64) error {
	const op = "gp.fit"
	if err := ctx.Err(); err != nil {
		return errs.Wrap(errs.Canceled, op, err)
	}
	u, err := m.checkData(op, X, y)
	if err != nil {
		return err
	}
	ym, ys := standardise(y)
	yst := make([]float64, len(y))
	for i, v := range y {
		yst[i] = (v - ym) / ys
	}
	o := m.opts
	pri := makePriors(o.prior(), m.d)
	floor := o.NoiseFloor
	if !o.LearnNoise {
		floor = o.Noise
	}
	p := newProblemGrid(u, yst, m.d, o.kernel(), pri, o.LearnNoise, floor, !o.DenseOnly)

	// Starting points, all drawn before any goroutine starts.
	var starts [][]float64
	if m.warm && len(m.h.Lengthscales) == m.d {
		starts = append(starts, p.theta(m.h))
	}
	mode := Hyper{Lengthscales: make([]float64, m.d), Outputscale: 1, Noise: floor}
	for k := range mode.Lengthscales {
		mode.Lengthscales[k] = pri.ls.mode()
	}
	if pri.learnOS {
		mode.Outputscale = pri.os.mode()
	}
	if o.LearnNoise {
		mode.Noise = floor + pri.noise.mode()
	}
	starts = append(starts, p.theta(mode))
	rng := rand.New(rand.NewPCG(o.Seed, uint64(len(y))))
	for r := 0; r < o.Restarts; r++ {
		h := Hyper{Lengthscales: make([]float64, m.d), Outputscale: 1, Noise: floor}
		for k := range h.Lengthscales {
			h.Lengthscales[k] = pri.ls.sample(rng)
		}
		if pri.learnOS {
			h.Outputscale = pri.os.sample(rng)
		}
		if o.LearnNoise {
			h.Noise = floor + pri.noise.sample(rng)
		}
		starts = append(starts, p.theta(h))
	}

	res := make([]startResult, len(starts))
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(starts)))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i] = p.minimize(ctx, starts[i], o.maxIter())
			}
		}()
	}
	for i := range starts {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return errs.Wrap(errs.Canceled, op, err)
	}
	best := -1
	for i, r := range res {
		if r.ok && (best < 0 || r.f < res[best].f) {
			best = i
		}
	}
	if best < 0 {
		m.fitted = false
		return errs.New(errs.NotPD, op, "kernel matrix not positive definite after jitter 1e-4 at every start (n=%d)", len(y)).
			WithHint("raise the noise floor")
	}
	m.setData(X, y, u, ym, ys)
	th := res[best].th
	for i := range th {
		th[i] = math.Max(p.lo[i], math.Min(p.hi[i], th[i])) // the objective was evaluated at the clamped point
	}
	m.h = p.hyper(th)
	return m.factorize(op, 0)
}

// minimize runs L-BFGS from th0 and returns the best point evaluated.
func (p *problem) minimize(ctx context.Context, th0 []float64, maxIter int) startResult {
	w := p.newWork()
	f := func(x, g []float64) (float64, bool) { return p.eval(w, x, g) }
	x, fv, ok := lbfgsMin(ctx, f, th0, lbfgsSettings{maxIter: maxIter, gtol: 1e-6, ftol: 1e-11, mem: 10})
	return startResult{th: x, f: fv, ok: ok}
}

// Condition returns a new model that also conditions on (X, y) with the same
// hyper-parameters and the same output standardisation, by extending the
// Cholesky factor with one block (no refactorisation). X are raw inputs, y raw
// outputs (fantasies or new observations). The receiver is unchanged.
func (m *Model) Condition(X [][]float64, y []float64) (*Model, error) {
	const op = "gp.condition"
	if err := m.needFit(op); err != nil {
		return nil, err
	}
	if len(y) != len(X) {
		return nil, errs.New(errs.BadArg, op, "y has %d values but X has %d rows", len(y), len(X))
	}
	for i, v := range y {
		if !num.Finite(v) {
			return nil, errs.New(errs.BadArg, op, "y[%d] must be finite, got %g", i, v)
		}
	}
	un, err := m.checkX(op, "X", X)
	if err != nil {
		return nil, err
	}
	q, n, d := len(X), m.n, m.d
	c := &Model{opts: m.opts, d: d, lo: m.lo, wd: m.wd, h: m.h, kn: m.kn, jitter: m.jitter,
		yMean: m.yMean, yStd: m.yStd, warm: true}
	if q == 0 {
		*c = *m
		return c, nil
	}
	c.n = n + q
	c.xRaw = make([][]float64, 0, n+q)
	c.xRaw = append(c.xRaw, m.xRaw...)
	for _, r := range X {
		c.xRaw = append(c.xRaw, slices.Clone(r))
	}
	c.yRaw = append(slices.Clone(m.yRaw), y...)
	c.u = append(slices.Clone(m.u), un...)
	c.ys = slices.Clone(m.ys)
	for _, v := range y {
		c.ys = append(c.ys, (v-m.yMean)/m.yStd)
	}
	// [K  B ]   [Uᵀ 0 ] [U C]
	// [Bᵀ Kq] = [Cᵀ Dᵀ] [0 D]   with C = U⁻ᵀB, DᵀD = Kq − CᵀC.
	b := m.crossU(un, q)
	m.solveUT(b) // C
	var ctc mat.SymDense
	ctc.SymOuterK(1, b.T())
	s := mat.NewSymDense(q, nil)
	for i := 0; i < q; i++ {
		for j := i; j < q; j++ {
			v := m.kn.cov(un[i*d:i*d+d], un[j*d:j*d+d]) - ctc.At(i, j)
			if i == j {
				v += m.h.Noise + m.jitter
			}
			s.SetSym(i, j, v)
		}
	}
	var sc mat.Cholesky
	if !sc.Factorize(s) {
		return nil, errs.New(errs.NotPD, op, "extended kernel matrix not positive definite (conditioning on %d points at noise %g)", q, m.h.Noise).
			WithHint("raise the noise floor or remove points that repeat training points")
	}
	var ds mat.TriDense
	sc.UTo(&ds)
	ut := m.factor().RawU().(*mat.TriDense).RawTriangular()
	bm := b.RawMatrix()
	dm := ds.RawTriangular()
	nu := mat.NewTriDense(n+q, mat.Upper, nil)
	nr := nu.RawTriangular()
	for i := 0; i < n; i++ {
		copy(nr.Data[i*nr.Stride+i:i*nr.Stride+n], ut.Data[i*ut.Stride+i:i*ut.Stride+n])
		copy(nr.Data[i*nr.Stride+n:i*nr.Stride+n+q], bm.Data[i*bm.Stride:i*bm.Stride+q])
	}
	for i := 0; i < q; i++ {
		copy(nr.Data[(n+i)*nr.Stride+n+i:(n+i)*nr.Stride+n+q], dm.Data[i*dm.Stride+i:i*dm.Stride+q])
	}
	c.chol.SetFromU(nu)
	c.finish()
	return c, nil
}
