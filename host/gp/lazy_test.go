package gp

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestGridFactorMatchesDense: FitWithHyper on grid data takes the grid route
// (no dense factor until one is needed) and gives the dense route's α, LML,
// jitter, predictions, joint posterior, gradients and conditioned model to
// 1e-9; concurrent first uses build one factor.
func TestGridFactorMatchesDense(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	X, y := gridData(rng, 7, 5, 3, 2)
	h := Hyper{Lengthscales: []float64{0.4, 0.7, 0.5, 0.6, 0.9}, Outputscale: 1.3, Noise: 0.01, Mean: 0.1}
	var ms [2]*Model
	for i, dense := range []bool{true, false} {
		o := DefaultOptions()
		o.DenseOnly = dense
		m, _ := New(o)
		if err := m.FitWithHyper(X, y, h); err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	md, mk := ms[0], ms[1]
	if md.lazy != nil || mk.lazy == nil {
		t.Fatal("routes not taken as expected")
	}
	near := func(what string, a, b float64) {
		t.Helper()
		if math.Abs(a-b) > 1e-9*(1+math.Abs(a)) {
			t.Errorf("%s: dense %.12g, grid %.12g", what, a, b)
		}
	}
	near("LML", md.LogMarginalLikelihood(), mk.LogMarginalLikelihood())
	near("jitter", md.Jitter(), mk.Jitter())
	for i := range md.alpha {
		near("alpha", md.alpha[i], mk.alpha[i])
	}
	Z := [][]float64{{0.1, 0.2, 0.3, 0.4, 0.5}, X[3], {0.9, 0.1, 0.5, 0.2, 0.8}}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ { // first uses from several goroutines
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = mk.Predict(Z)
		}()
	}
	wg.Wait()
	m1, v1, _ := md.Predict(Z)
	m2, v2, _ := mk.Predict(Z)
	for i := range m1 {
		near("mean", m1[i], m2[i])
		near("variance", v1[i], v2[i])
	}
	p1, _ := md.Posterior(Z)
	p2, _ := mk.Posterior(Z)
	for i := range Z {
		for j := range Z {
			near("posterior cov", p1.Cov.At(i, j), p2.Cov.At(i, j))
		}
	}
	_, _, dm1, dv1 := md.PredictGrad(Z[0])
	_, _, dm2, dv2 := mk.PredictGrad(Z[0])
	for k := range dm1 {
		near("d mean", dm1[k], dm2[k])
		near("d var", dv1[k], dv2[k])
	}
	c1, err1 := md.Condition(Z[:1], []float64{0.3})
	c2, err2 := mk.Condition(Z[:1], []float64{0.3})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	a1, _, _ := c1.Predict(Z[1:])
	a2, _, _ := c2.Predict(Z[1:])
	for i := range a1 {
		near("conditioned mean", a1[i], a2[i])
	}
	// a restored grid model reproduces the same numbers
	r, err := Restore(mk.State())
	if err != nil {
		t.Fatal(err)
	}
	near("restored LML", mk.LogMarginalLikelihood(), r.LogMarginalLikelihood())
}
