package acq

import (
	"math"
	"testing"

	"bohost/host/risk"
)

// TestTSGradFD checks the Thompson-sampling value's gradient against finite
// differences on the dense route (Matérn-5/2) and the grid route (RBF).
func TestTSGradFD(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 2, 15, 3)
	pd, err := NewPost(m, X, y)
	if err != nil {
		t.Fatal(err)
	}
	mg, Xg, yg := toyGrid(t, 2, 6, wset4, 4, false)
	pg, err := NewPost(mg, Xg, yg)
	if err != nil || pg.kr == nil {
		t.Fatalf("grid post: %v (grid route %v)", err, pg != nil && pg.kr != nil)
	}
	W := [][]float64{{0.1}, {0.35}, {0.6}, {0.9}, {0.77}}
	for _, c := range []struct {
		name string
		p    *Post
		W    [][]float64
	}{{"dense matern", pd, W}, {"grid rbf", pg, wset4}} {
		for _, meas := range []risk.Measure{cvar07, {Kind: risk.KindMean}} {
			ts, err := NewTS(c.p, c.W, meas, TSOptions{Features: 256, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range [][]float64{{0.21, 0.63}, {0.87, 0.12}, {0.45, 0.5}} {
				checkGrad(t, c.name+" "+string(meas.Kind), ts.ValueGrad, x)
			}
		}
	}
}

// TestTSGridMatchesDense: the same draw (same seed) through the grid route's
// Kronecker solve and the dense route's Cholesky solve gives the same
// function.
func TestTSGridMatchesDense(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 6, wset4, 5, false)
	pk, err := NewPost(m, X, y)
	if err != nil || pk.kr == nil {
		t.Fatalf("grid post: %v", err)
	}
	o := m.Options()
	o.DenseOnly = true
	ym, ys := m.YTransform()
	pd, err := newPost(X, y, m.Hyper(), o, ym, ys, m.Jitter())
	if err != nil || pd.kr != nil {
		t.Fatalf("dense post: %v", err)
	}
	a, _ := NewTS(pk, wset4, cvar07, TSOptions{Features: 128, Seed: 9})
	b, _ := NewTS(pd, wset4, cvar07, TSOptions{Features: 128, Seed: 9})
	for _, x := range [][]float64{{0.1, 0.9}, {0.5, 0.5}, X[0][:2]} {
		va, vb := a.Value(x), b.Value(x)
		if math.Abs(va-vb) > 1e-7*math.Max(1, math.Abs(vb)) {
			t.Errorf("x=%v: grid %.10g, dense %.10g", x, va, vb)
		}
	}
}

// TestTSDrawsArePosteriorSamples: over many draws, the sampled values at a
// few points have the posterior's mean and variance (within Monte Carlo and
// random-feature error), both near the data and away from it. A draw that
// forgot the pathwise update would have the prior's mean and variance.
func TestTSDrawsArePosteriorSamples(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 2, 12, 8)
	p, err := NewPost(m, X, y)
	if err != nil {
		t.Fatal(err)
	}
	Z := [][]float64{X[2], {0.5, 0.5, 0.5}, {0.95, 0.05, 0.3}, {0.3, 0.8, 0.9}}
	mean, variance := p.Predict(Z)
	const draws = 600
	sum := make([]float64, len(Z))
	sq := make([]float64, len(Z))
	for s := 0; s < draws; s++ {
		ts, err := NewTS(p, [][]float64{{0}}, risk.Measure{Kind: risk.KindMean}, TSOptions{Features: 2048, Seed: uint64(s)})
		if err != nil {
			t.Fatal(err)
		}
		u := make([]float64, 3)
		for i, z := range Z {
			p.unit(z, u)
			v := p.ymu + p.ysd*ts.sample(u, nil)
			sum[i] += v
			sq[i] += v * v
		}
	}
	prior := p.os * p.ysd * p.ysd
	for i := range Z {
		mu := sum[i] / draws
		vr := sq[i]/draws - mu*mu
		se := math.Sqrt(variance[i]/draws) + 1e-3*math.Sqrt(prior)
		if math.Abs(mu-mean[i]) > 5*se {
			t.Errorf("point %d: mean of draws %.5g, posterior mean %.5g (se %.2g)", i, mu, mean[i], se)
		}
		// variance: sampling error of a variance estimate ~ √(2/draws) ≈ 6 %,
		// plus the feature approximation; near the data it is tiny.
		if math.Abs(vr-variance[i]) > 0.25*variance[i]+1e-3*prior {
			t.Errorf("point %d: variance of draws %.5g, posterior variance %.5g (prior %.3g)", i, vr, variance[i], prior)
		}
	}
}
