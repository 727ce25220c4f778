package acq

import (
	"bohost/host/internal/linalg"

	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"bohost/host/gp"
	"bohost/host/risk"
)

// toyGrid fits an RBF GP on nx random x's (dx dims) crossed with the W set
// (x-major, as host/bo's all_w mode), f as in toy. dense turns the
// Kronecker routes off.
func toyGrid(t *testing.T, dx, nx int, W [][]float64, seed uint64, dense bool) (*gp.Model, [][]float64, []float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	var X [][]float64
	var y []float64
	for j := 0; j < nx; j++ {
		x := make([]float64, dx)
		for k := range x {
			x[k] = rng.Float64()
		}
		for _, w := range W {
			z := append(append([]float64{}, x...), w...)
			X = append(X, z)
			v := -(w[0] - 0.4) * (w[0] - 0.4)
			for k := 0; k < dx; k++ {
				v += math.Sin(3*x[k]) + x[k]*w[0]
			}
			y = append(y, 3*v+0.01*rng.NormFloat64())
		}
	}
	o := gp.DefaultOptions()
	o.Restarts = 0
	o.DenseOnly = dense
	m, err := gp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		t.Fatal(err)
	}
	return m, X, y
}

var wset4 = [][]float64{{0.1}, {0.35}, {0.6}, {0.9}}

// TestPostKronMatchesDense: on grid data with the RBF kernel the grid
// route's means and joint covariances equal the dense route's (1e-9).
func TestPostKronMatchesDense(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 6, wset4, 1, false)
	pk, err := NewPost(m, X, y)
	if err != nil {
		t.Fatal(err)
	}
	if pk.kr == nil {
		t.Fatal("grid route not taken on grid data")
	}
	o := m.Options()
	o.DenseOnly = true
	ym, ys := m.YTransform()
	pd, err := newPost(X, y, m.Hyper(), o, ym, ys, m.Jitter())
	if err != nil || pd.kr != nil {
		t.Fatalf("dense route: err %v, kr %v", err, pd.kr != nil)
	}
	Z := [][]float64{{0.1, 0.2, 0.3}, {0.9, 0.5, 0.1}, X[3], {0.4, 0.4, 0.6}}
	a, b := pk.points(Z), pd.points(Z)
	for i := range Z {
		if math.Abs(a.mu[i]-b.mu[i]) > 1e-9 {
			t.Errorf("mean %d: grid %g, dense %g", i, a.mu[i], b.mu[i])
		}
		for j := range Z {
			if ca, cb := pk.cov(a, i, a, j), pd.cov(b, i, b, j); math.Abs(ca-cb) > 1e-9 {
				t.Errorf("cov %d,%d: grid %g, dense %g", i, j, ca, cb)
			}
		}
	}
	wm, wv, _ := m.Predict(Z)
	gm, gv := pk.Predict(Z)
	for i := range Z {
		if math.Abs(wm[i]-gm[i]) > 1e-8*(1+math.Abs(wm[i])) || math.Abs(wv[i]-gv[i]) > 1e-8*(1+wv[i]) {
			t.Errorf("point %d: grid Post (%g, %g), gp.Model (%g, %g)", i, gm[i], gv[i], wm[i], wv[i])
		}
	}
}

// checkGrad compares grad of f at x with central differences (step 1e-6).
// The acquisitions are piecewise smooth (the CVaR tail changes at ties);
// random points are far from ties, where the central difference is exact to
// O(h²): tolerance 1e-4 relative to max(1, |g|).
func checkGrad(t *testing.T, name string, f func(x, g []float64) float64, x []float64) {
	t.Helper()
	g := make([]float64, len(x))
	v := f(x, g)
	if v0 := f(x, nil); v0 != v {
		t.Errorf("%s: value with gradient %g != without %g", name, v, v0)
	}
	want := fd.Gradient(nil, func(z []float64) float64 { return f(z, nil) }, x,
		&fd.Settings{Formula: fd.Central, Step: 1e-6})
	for k := range g {
		if math.Abs(g[k]-want[k]) > 1e-4*math.Max(1, math.Abs(want[k])) {
			t.Errorf("%s x=%.4v d/dx%d: analytic %.8g, finite differences %.8g", name, x, k, g[k], want[k])
		}
	}
}

// TestNEIGradFD checks qNEI and qLogNEI gradients against finite differences
// on the dense route (Matérn, RBF) and the grid route, for two measures.
func TestNEIGradFD(t *testing.T) {
	t.Parallel()
	type setup struct {
		name string
		p    *Post
		W    [][]float64
		base [][]float64
	}
	var setups []setup
	{
		m, X, y := toy(t, 2, 14, 11)
		p, _ := NewPost(m, X, y)
		setups = append(setups, setup{"dense-matern", p, wset4, [][]float64{X[0][:2], X[5][:2], X[9][:2]}})
	}
	for _, dense := range []bool{true, false} {
		m, X, y := toyGrid(t, 2, 5, wset4, 3, dense)
		p, _ := NewPost(m, X, y)
		if (p.kr == nil) != dense {
			t.Fatalf("dense=%v but grid route %v", dense, p.kr != nil)
		}
		name := "grid-rbf"
		if dense {
			name = "dense-rbf"
		}
		var base [][]float64
		for j := 0; j < 5; j++ {
			base = append(base, X[j*4][:2])
		}
		setups = append(setups, setup{name, p, wset4, base})
	}
	nonzero := map[bool]int{} // points with a non-zero gradient, per log
	for _, su := range setups {
		for _, meas := range []risk.Measure{cvar07, {Kind: risk.KindCVaR, Alpha: 0.3}} {
			for _, log := range []bool{true, false} {
				a, err := NewNEI(su.p, su.W, su.base, meas, NEIOptions{Log: log, Samples: 64, Seed: 3})
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(7, 7))
				for i := 0; i < 4; i++ {
					x := []float64{0.05 + 0.9*rng.Float64(), 0.05 + 0.9*rng.Float64()}
					checkGrad(t, su.name+fmt.Sprintf(" %v", meas)+map[bool]string{true: " qLogNEI", false: " qNEI"}[log], a.ValueGrad, x)
					g := make([]float64, 2)
					if a.ValueGrad(x, g); g[0] != 0 || g[1] != 0 {
						nonzero[log]++
					}
				}
			}
		}
	}
	if nonzero[true] < 20 || nonzero[false] < 5 {
		t.Errorf("too few points with a non-zero gradient to test: qLogNEI %d, qNEI %d", nonzero[true], nonzero[false])
	}
}

// TestNEIGridMatchesDense: qLogNEI values on the grid route equal the dense
// route's (same model, same base samples) to 1e-8.
func TestNEIGridMatchesDense(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 5, wset4, 4, false)
	pk, _ := NewPost(m, X, y)
	o := m.Options()
	o.DenseOnly = true
	ym, ys := m.YTransform()
	pd, _ := newPost(X, y, m.Hyper(), o, ym, ys, m.Jitter())
	base := [][]float64{X[0][:2], X[4][:2], X[8][:2]}
	// the grid route without the channel route (which draws other paths;
	// TestNEIChanMatchesJoint checks it against the dense joint posterior)
	ak, _ := NewNEI(pk, wset4, base, cvar07, NEIOptions{Log: true, Samples: 32, Seed: 1, noChan: true})
	ad, _ := NewNEI(pd, wset4, base, cvar07, NEIOptions{Log: true, Samples: 32, Seed: 1})
	for _, x := range [][]float64{{0.2, 0.3}, {0.7, 0.9}, {0.5, 0.1}} {
		if vk, vd := ak.Value(x), ad.Value(x); math.Abs(vk-vd) > 1e-8*(1+math.Abs(vd)) {
			t.Errorf("x=%v: grid %.12g, dense %.12g", x, vk, vd)
		}
	}
}

// TestUCBEIGradFD checks the UCB and EI gradients against finite
// differences on both routes.
func TestUCBEIGradFD(t *testing.T) {
	t.Parallel()
	m1, X1, y1 := toy(t, 2, 20, 5)
	p1, _ := NewPost(m1, X1, y1)
	m2, X2, y2 := toyGrid(t, 2, 5, wset4, 6, false)
	p2, _ := NewPost(m2, X2, y2)
	for pi, p := range []*Post{p1, p2} {
		for _, meas := range []risk.Measure{cvar07, {Kind: risk.KindCVaR, Alpha: 0.3}} {
			mr, _ := NewMeanRisk(p, wset4, meas)
			best, _ := mr.Value([]float64{0.5, 0.5})
			rng := rand.New(rand.NewPCG(8, uint64(pi)))
			for i := 0; i < 4; i++ {
				x := []float64{0.05 + 0.9*rng.Float64(), 0.05 + 0.9*rng.Float64()}
				checkGrad(t, "ucb", func(z, g []float64) float64 { return mr.UCBGrad(z, 2, g) }, x)
				checkGrad(t, "ei", func(z, g []float64) float64 { return mr.EIGrad(z, best, g) }, x)
				if u, u0 := mr.UCBGrad(x, 2, nil), mr.UCB(x, 2); math.Abs(u-u0) > 1e-10*(1+math.Abs(u0)) {
					t.Errorf("UCBGrad value %g != UCB %g", u, u0)
				}
			}
		}
	}
}

// TestCholBackward checks Σ̄ of the Cholesky reverse mode against finite
// differences of ⟨L̄, chol(Σ)⟩ for a random SPD Σ.
func TestCholBackward(t *testing.T) {
	t.Parallel()
	const m = 5
	rng := rand.New(rand.NewPCG(9, 9))
	B := make([]float64, m*m)
	for i := range B {
		B[i] = rng.NormFloat64()
	}
	sigma := linalg.Gemm(false, true, m, m, B, m, m, B)
	for i := 0; i < m; i++ {
		sigma[i*m+i] += 1
	}
	lbar := make([]float64, m*m)
	for i := 0; i < m; i++ {
		for k := 0; k <= i; k++ {
			lbar[i*m+k] = rng.NormFloat64()
		}
	}
	f := func(s []float64) float64 {
		L := append([]float64(nil), s...)
		if !linalg.CholLower(L, m) {
			t.Fatal("not PD")
		}
		var v float64
		for i := range L {
			v += L[i] * lbar[i]
		}
		return v
	}
	L := append([]float64(nil), sigma...)
	linalg.CholLower(L, m)
	sbar := cholBackward(L, lbar, m)
	for i := 0; i < m; i++ {
		for j := 0; j <= i; j++ {
			h := 1e-6
			sp := append([]float64(nil), sigma...)
			sm := append([]float64(nil), sigma...)
			sp[i*m+j] += h
			sm[i*m+j] -= h
			if i != j {
				sp[j*m+i] += h
				sm[j*m+i] -= h
			}
			want := (f(sp) - f(sm)) / (2 * h)
			got := sbar[i*m+j]
			if i != j {
				got *= 2 // a symmetric perturbation moves both entries
			}
			if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("Σ̄[%d,%d]: %g, finite differences %g", i, j, got, want)
			}
		}
	}
}

// TestKGGradFD checks the ρKG gradient in (x, w) against finite differences
// on the dense route (pair data) and the grid route (all_w data).
func TestKGGradFD(t *testing.T) {
	t.Parallel()
	m1, X1, y1 := toy(t, 2, 16, 12)
	p1, _ := NewPost(m1, X1, y1)
	m2, X2, y2 := toyGrid(t, 2, 5, wset4, 13, false)
	p2, _ := NewPost(m2, X2, y2)
	nonzero := 0
	for pi, p := range []*Post{p1, p2} {
		kg, err := NewKG(p, wset4, cvar07, []float64{0, 0}, []float64{1, 1},
			KGOptions{Fantasies: 8, Seed: 2, InnerSobol: 16, Best: [][]float64{{0.3, 0.6}}, Local: 3})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(10, uint64(pi)))
		for i := 0; i < 6; i++ {
			z := []float64{0.05 + 0.9*rng.Float64(), 0.05 + 0.9*rng.Float64(), 0.05 + 0.9*rng.Float64()}
			f := func(zz, g []float64) float64 { return kg.ValueGrad(zz[:2], zz[2:], g) }
			checkGrad(t, fmt.Sprintf("kg route %d", pi), f, z)
			g := make([]float64, 3)
			if f(z, g); g[0] != 0 || g[2] != 0 {
				nonzero++
			}
		}
	}
	if nonzero < 6 {
		t.Errorf("only %d of 12 points have a non-zero ρKG gradient", nonzero)
	}
}

// TestNEIGridFastPath: the grid fast path (neiGrid) gives the generic grid
// route's value and gradient to 1e-8.
func TestNEIGridFastPath(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 6, wset4, 14, false)
	p, _ := NewPost(m, X, y)
	var base [][]float64
	for j := 0; j < 6; j++ {
		base = append(base, X[j*4][:2])
	}
	W := [][]float64{{0.2}, {0.5}, {0.75}} // a W set other than the grid's
	for _, log := range []bool{true, false} {
		fast, _ := NewNEI(p, W, base, cvar07, NEIOptions{Log: log, Samples: 32, Seed: 2, NoPrune: true})
		slow, _ := NewNEI(p, W, base, cvar07, NEIOptions{Log: log, Samples: 32, Seed: 2, NoPrune: true, noGrid: true})
		if fast.g == nil || slow.g != nil {
			t.Fatal("fast path not set up as asked")
		}
		for _, x := range [][]float64{{0.2, 0.3}, {0.7, 0.9}, {0.5, 0.1}} {
			gf, gs := make([]float64, 2), make([]float64, 2)
			vf, vs := fast.ValueGrad(x, gf), slow.ValueGrad(x, gs)
			if math.Abs(vf-vs) > 1e-8*(1+math.Abs(vs)) {
				t.Errorf("log=%v x=%v: fast %.12g, generic %.12g", log, x, vf, vs)
			}
			for k := range gf {
				if math.Abs(gf[k]-gs[k]) > 1e-8*(1+math.Abs(gs[k])) {
					t.Errorf("log=%v x=%v d/dx%d: fast %.12g, generic %.12g", log, x, k, gf[k], gs[k])
				}
			}
		}
	}
}
