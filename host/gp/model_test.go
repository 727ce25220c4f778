package gp

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"bohost/host/errs"
)

func TestInterpolatesWithoutNoise(t *testing.T) {
	t.Parallel()
	const tol = 1e-6
	rng := rand.New(rand.NewPCG(7, 8))
	X, y := randData(rng, 15, 2)
	for _, kind := range []Kernel{RBF, Matern52} {
		o := DefaultOptions()
		o.Kernel, o.LearnNoise, o.Noise = kind, false, 0
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.FitWithHyper(X, y, Hyper{Lengthscales: []float64{0.3, 0.4}, Outputscale: 1, Noise: 0}); err != nil {
			t.Fatal(err)
		}
		mu, vr, err := m.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		_, s := m.YTransform()
		for i := range y {
			if math.Abs(mu[i]-y[i]) > tol*s {
				t.Errorf("%s: mean at training point %d = %.10g, target %.10g (tol %g)", kind, i, mu[i], y[i], tol*s)
			}
			if vr[i] > tol*s*s {
				t.Errorf("%s: variance at training point %d = %g, want ~0", kind, i, vr[i])
			}
		}
	}
}

func fitted(t *testing.T, kind Kernel, X [][]float64, y []float64) *Model {
	t.Helper()
	o := DefaultOptions()
	o.Kernel = kind
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConditionEqualsRefit: extending the factor equals refactorising the
// combined data with the same hyper-parameters and standardisation.
func TestConditionEqualsRefit(t *testing.T) {
	t.Parallel()
	const tol = 1e-8
	rng := rand.New(rand.NewPCG(9, 10))
	X, y := randData(rng, 40, 3)
	for _, kind := range []Kernel{RBF, Matern52} {
		m := fitted(t, kind, X[:30], y[:30])
		c, err := m.Condition(X[30:], y[30:])
		if err != nil {
			t.Fatal(err)
		}
		if c.N() != 40 || m.N() != 30 {
			t.Fatalf("N after Condition = %d (receiver %d), want 40 (30)", c.N(), m.N())
		}
		s := c.State()
		r, err := Restore(s)
		if err != nil {
			t.Fatal(err)
		}
		test, _ := randData(rng, 20, 3)
		for _, pair := range [][2]*Model{{c, r}} {
			m1, v1, _ := pair[0].Predict(test)
			m2, v2, _ := pair[1].Predict(test)
			for i := range m1 {
				if math.Abs(m1[i]-m2[i]) > tol || math.Abs(v1[i]-v2[i]) > tol {
					t.Errorf("%s: point %d: conditioned (%.12g, %.12g) vs refit (%.12g, %.12g)", kind, i, m1[i], v1[i], m2[i], v2[i])
				}
			}
		}
		if d := math.Abs(c.LogMarginalLikelihood() - r.LogMarginalLikelihood()); d > tol {
			t.Errorf("%s: LML conditioned %g vs refit %g", kind, c.LogMarginalLikelihood(), r.LogMarginalLikelihood())
		}
		// Conditioning on a point far from the data changes the prediction there.
		far := [][]float64{{0.99, 0.01, 0.99}}
		c2, err := m.Condition(far, []float64{10})
		if err != nil {
			t.Fatal(err)
		}
		a, _, _ := m.Predict(far)
		b, _, _ := c2.Predict(far)
		if !(b[0] > a[0]+1) {
			t.Errorf("%s: conditioning on y=10 moved the mean from %g only to %g", kind, a[0], b[0])
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	X, y := randData(rng, 25, 2)
	m := fitted(t, Matern52, X, y)
	b, err := json.Marshal(m.State())
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(s)
	if err != nil {
		t.Fatal(err)
	}
	test, _ := randData(rng, 10, 2)
	m1, v1, _ := m.Predict(test)
	m2, v2, _ := r.Predict(test)
	for i := range m1 {
		if m1[i] != m2[i] || v1[i] != v2[i] {
			t.Errorf("point %d: restored (%v, %v) != original (%v, %v)", i, m2[i], v2[i], m1[i], v1[i])
		}
	}
	// A refit after Restore warm-starts exactly as a refit of the original.
	X2, y2 := randData(rng, 30, 2)
	if err := m.Fit(context.Background(), X2, y2); err != nil {
		t.Fatal(err)
	}
	if err := r.Fit(context.Background(), X2, y2); err != nil {
		t.Fatal(err)
	}
	if h1, h2 := m.Hyper(), r.Hyper(); !equalHyper(h1, h2) {
		t.Errorf("refit after restore: %+v, original %+v", h2, h1)
	}
}

func equalHyper(a, b Hyper) bool {
	if len(a.Lengthscales) != len(b.Lengthscales) || a.Outputscale != b.Outputscale || a.Noise != b.Noise || a.Mean != b.Mean {
		return false
	}
	for i := range a.Lengthscales {
		if a.Lengthscales[i] != b.Lengthscales[i] {
			return false
		}
	}
	return true
}

// TestFitDeterministic: the same seed gives bit-identical hyper-parameters
// whatever the number of workers; another seed may not.
func TestFitDeterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	X, y := randData(rng, 30, 4)
	var ref Hyper
	for i, workers := range []int{1, 4, 2} {
		o := DefaultOptions()
		o.Seed, o.Workers, o.Restarts = 5, workers, 6
		m, _ := New(o)
		if err := m.Fit(context.Background(), X, y); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ref = m.Hyper()
		} else if !equalHyper(ref, m.Hyper()) {
			t.Errorf("workers=%d: %+v, workers=1: %+v", workers, m.Hyper(), ref)
		}
	}
}

// TestFitBeatsStarts: the fitted MAP objective is at least as good as the
// objective at the prior mode and at random hyper-parameters.
func TestFitImprovesObjective(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(15, 16))
	X, y := randData(rng, 30, 3)
	for _, kind := range []Kernel{RBF, Matern52} {
		m := fitted(t, kind, X, y)
		best := m.LogMarginalLikelihood() + m.LogPrior()
		for trial := 0; trial < 20; trial++ {
			h := m.Hyper()
			for k := range h.Lengthscales {
				h.Lengthscales[k] *= math.Exp(0.5 * rng.NormFloat64())
			}
			if kind == Matern52 {
				h.Outputscale *= math.Exp(0.3 * rng.NormFloat64())
			}
			h.Noise = m.opts.NoiseFloor + (h.Noise-m.opts.NoiseFloor)*math.Exp(0.5*rng.NormFloat64())
			o := m.Options()
			mm, _ := New(o)
			if err := mm.FitWithHyper(X, y, h); err != nil {
				t.Fatal(err)
			}
			if v := mm.LogMarginalLikelihood() + mm.LogPrior(); v > best+1e-6 {
				t.Errorf("%s: perturbed hyper-parameters reach log posterior %g > fitted %g", kind, v, best)
			}
		}
	}
}

// TestSampleCovariance: joint samples from standard-normal base draws have
// the posterior mean and covariance on average.
func TestSampleCovariance(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 18))
	X, y := randData(rng, 20, 2)
	m := fitted(t, RBF, X, y)
	test := [][]float64{{0.1, 0.1}, {0.12, 0.1}, {0.5, 0.9}, {0.9, 0.4}, {0.5, 0.9}} // includes a repeat
	p, err := m.Posterior(test)
	if err != nil {
		t.Fatal(err)
	}
	mu, vr, _ := m.Predict(test)
	for i := range mu {
		if relErr(mu[i], p.Mean[i]) > 1e-12 || relErr(vr[i], p.Cov.At(i, i)) > 1e-10 {
			t.Errorf("point %d: Posterior (%g, %g) != Predict (%g, %g)", i, p.Mean[i], p.Cov.At(i, i), mu[i], vr[i])
		}
	}
	const ns = 40000
	q := len(test)
	sum := make([]float64, q)
	cov := mat.NewSymDense(q, nil)
	base := make([]float64, q)
	var s []float64
	for k := 0; k < ns; k++ {
		for i := range base {
			base[i] = rng.NormFloat64()
		}
		s = p.Sample(base, s)
		for i := 0; i < q; i++ {
			sum[i] += s[i]
			for j := i; j < q; j++ {
				cov.SetSym(i, j, cov.At(i, j)+(s[i]-p.Mean[i])*(s[j]-p.Mean[j]))
			}
		}
	}
	for i := 0; i < q; i++ {
		sd := math.Sqrt(p.Cov.At(i, i))
		if e := math.Abs(sum[i]/ns - p.Mean[i]); e > 5*sd/math.Sqrt(ns) {
			t.Errorf("sample mean %d off by %g (sd %g)", i, e, sd)
		}
		for j := i; j < q; j++ {
			sj := math.Sqrt(p.Cov.At(j, j))
			got := cov.At(i, j) / ns
			// The sample covariance's standard error is about sd_i·sd_j·√(2/ns).
			if e := math.Abs(got - p.Cov.At(i, j)); e > 6*sd*sj*math.Sqrt(2.0/ns)+p.Jitter {
				t.Errorf("sample cov[%d][%d] = %g, want %g", i, j, got, p.Cov.At(i, j))
			}
		}
	}
	if p.Sample(base[:2], nil) != nil {
		t.Errorf("Sample with %d base draws for q=%d should return nil", 2, q)
	}
}

func TestNotPD(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 20))
	X, y := randData(rng, 10, 2)
	m, _ := New(DefaultOptions())
	if err := m.FitWithHyper(X, y, Hyper{Lengthscales: []float64{0.3, 0.3}, Outputscale: 1, Noise: 0.01}); err != nil {
		t.Fatal(err)
	}
	// An indefinite "kernel" matrix (negative noise, which Hyper validation
	// rejects) exercises the end of the jitter ladder.
	m.h.Noise = -0.5
	err := m.factorize("gp.fit", 0)
	if !errs.Is(err, errs.NotPD) || !strings.Contains(err.Error(), "jitter 1e-4") || !strings.Contains(err.Error(), "noise floor") {
		t.Errorf("indefinite matrix: err = %v, want not_pd naming jitter 1e-4 and the noise floor", err)
	}
	if m.Fitted() {
		t.Errorf("model still fitted after not_pd")
	}
	// The ladder rescues a singular matrix: repeated points without noise.
	o := DefaultOptions()
	o.LearnNoise = false
	m2, _ := New(o)
	Xd := [][]float64{{0.2, 0.2}, {0.2, 0.2}, {0.7, 0.1}}
	if err := m2.FitWithHyper(Xd, []float64{1, 1, 2}, Hyper{Lengthscales: []float64{0.3, 0.3}, Outputscale: 1}); err != nil {
		t.Fatalf("repeated points without noise: %v", err)
	}
	if m2.Jitter() <= 0 {
		t.Errorf("repeated points without noise factorised with jitter %g, want > 0", m2.Jitter())
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, _ := New(DefaultOptions())
	if _, _, err := m.Predict([][]float64{{0.5}}); !errs.Is(err, errs.BadState) {
		t.Errorf("predict before fit: %v, want bad_state", err)
	}
	if _, err := m.Posterior([][]float64{{0.5}}); !errs.Is(err, errs.BadState) {
		t.Errorf("posterior before fit: %v, want bad_state", err)
	}
	if _, err := m.Condition([][]float64{{0.5}}, []float64{1}); !errs.Is(err, errs.BadState) {
		t.Errorf("condition before fit: %v, want bad_state", err)
	}
	if m.MeanGrad([]float64{0.5}, nil) != nil || m.CrossCov([][]float64{{0.5}}) != nil {
		t.Errorf("MeanGrad/CrossCov before fit should return nil")
	}
	nan := math.NaN()
	cases := []struct {
		name string
		X    [][]float64
		y    []float64
		want string
	}{
		{"empty", nil, nil, "at least one row"},
		{"length", [][]float64{{0, 0}, {1, 1}}, []float64{1}, "y has 1 values but X has 2 rows"},
		{"ragged", [][]float64{{0, 0}, {1, 1}, {1, 1, 1}, {1, 0}}, []float64{1, 2, 3, 4}, "X row 2 has 3 columns, want 2"},
		{"nan x", [][]float64{{0, 0}, {1, nan}}, []float64{1, 2}, "X[1][1] must be finite"},
		{"inf y", [][]float64{{0, 0}, {1, 1}}, []float64{1, math.Inf(1)}, "y[1] must be finite"},
	}
	for _, c := range cases {
		m, _ := New(DefaultOptions())
		err := m.Fit(ctx, c.X, c.y)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want bad_arg containing %q", c.name, err, c.want)
		}
	}
	// A failed first fit does not fix the dimension.
	m, _ = New(DefaultOptions())
	if err := m.Fit(ctx, [][]float64{{0, nan, 0}}, []float64{1}); !errs.Is(err, errs.BadArg) {
		t.Errorf("fit with NaN: %v", err)
	}
	if err := m.Fit(ctx, [][]float64{{0.1, 0.2}, {0.5, 0.9}}, []float64{1, 2}); err != nil || m.Dim() != 2 {
		t.Errorf("fit after a failed first fit: %v (Dim %d, want 2)", err, m.Dim())
	}
	// Points outside the bounds are allowed; NaN is not.
	o := DefaultOptions()
	o.Bounds = [][2]float64{{0, 1}, {0, 1}}
	m, _ = New(o)
	X := [][]float64{{0, 0}, {1, 1}, {-0.5, 1.5}, {0.3, 0.7}}
	if err := m.Fit(ctx, X, []float64{1, 2, 3, 1.5}); err != nil {
		t.Fatalf("fit with points outside the bounds: %v", err)
	}
	if _, _, err := m.Predict([][]float64{{2, -3}}); err != nil {
		t.Errorf("predict outside the bounds: %v", err)
	}
	if _, _, err := m.Predict([][]float64{{0.5, 0.5}, {0.1, nan}}); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "X[1][1]") {
		t.Errorf("predict with NaN: %v, want bad_arg naming X[1][1]", err)
	}
	if _, _, err := m.Predict([][]float64{{0.5}}); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "row 0 has 1 columns, want 2") {
		t.Errorf("predict with a short row: %v", err)
	}
	if err := m.FitWithHyper(X, []float64{1, 2, 3, 4}, Hyper{Lengthscales: []float64{1}, Outputscale: 1}); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "Lengthscales has 1 values, want 2") {
		t.Errorf("FitWithHyper with a short hyper: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Fit(cctx, X, []float64{1, 2, 3, 4}); !errs.Is(err, errs.Canceled) {
		t.Errorf("fit with a canceled context: %v, want canceled", err)
	}
	if !m.Fitted() {
		t.Errorf("a canceled fit dropped the previous fit")
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatalf("zero options: %v", err)
	}
	cases := []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.Kernel = "matern32" }, "Kernel must be"},
		{func(o *Options) { o.Prior = "flat" }, "Prior must be"},
		{func(o *Options) { o.Bounds = [][2]float64{{0, 1}, {2, 2}} }, "Bounds[1] must be finite with lo < hi, got [2, 2]"},
		{func(o *Options) { o.Noise = 0.1 }, "Noise must be 0 when LearnNoise is true"},
		{func(o *Options) { o.LearnNoise, o.Noise = false, -1 }, "Noise must be a finite variance >= 0, got -1"},
		{func(o *Options) { o.NoiseFloor = 2 }, "NoiseFloor must be in [0, 1]"},
		{func(o *Options) { o.Restarts = -1 }, "Restarts must be in [0, 1000], got -1"},
		{func(o *Options) { o.MaxIter = -1 }, "MaxIter must be >= 0"},
		{func(o *Options) { o.Workers = -2 }, "Workers must be >= 0"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.mod(&o)
		err := o.Validate()
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want bad_arg containing %q", err, c.want)
		}
		if _, err := New(o); err == nil {
			t.Errorf("New accepted options failing Validate (%q)", c.want)
		}
	}
}

func TestCrossCov(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 22))
	X, y := randData(rng, 12, 2)
	o := DefaultOptions()
	o.Bounds = [][2]float64{{0, 2}, {0, 1}}
	m, _ := New(o)
	h := Hyper{Lengthscales: []float64{0.3, 0.5}, Outputscale: 1, Noise: 0.01}
	if err := m.FitWithHyper(X, y, h); err != nil {
		t.Fatal(err)
	}
	test := [][]float64{{0.4, 0.2}, {1.6, 0.9}}
	c := m.CrossCov(test)
	if r, cc := c.Dims(); r != 2 || cc != 12 {
		t.Fatalf("CrossCov dims %d×%d, want 2×12", r, cc)
	}
	for i, x := range test {
		for j, xt := range X {
			d0 := (x[0] - xt[0]) / 2 / 0.3
			d1 := (x[1] - xt[1]) / 0.5
			want := math.Exp(-0.5 * (d0*d0 + d1*d1))
			if math.Abs(c.At(i, j)-want) > 1e-14 {
				t.Errorf("CrossCov[%d][%d] = %g, want %g", i, j, c.At(i, j), want)
			}
		}
	}
}
