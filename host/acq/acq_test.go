package acq

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"bohost/host/gp"
	"bohost/host/risk"
)

// toy returns a fitted model on f(x, w) = sin(3x0) + x0·w0 - (w0-0.4)² with
// dx x-dims and one w-dim, n random points.
func toy(t *testing.T, dx, n int, seed uint64) (*gp.Model, [][]float64, []float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var X [][]float64
	var y []float64
	for i := 0; i < n; i++ {
		z := make([]float64, dx+1)
		for k := range z {
			z[k] = rng.Float64()
		}
		X = append(X, z)
		v := -(z[dx] - 0.4) * (z[dx] - 0.4)
		for k := 0; k < dx; k++ {
			v += math.Sin(3*z[k]) + z[k]*z[dx]
		}
		y = append(y, 3*v+0.01*rng.NormFloat64())
	}
	o := gp.DefaultOptions()
	o.Restarts = 0
	o.Kernel = gp.Matern52
	m, err := gp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		t.Fatal(err)
	}
	return m, X, y
}

var cvar07 = risk.Measure{Kind: risk.KindCVaR, Alpha: 0.7, Convention: risk.BoTorch}

func TestPostMatchesModel(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 2, 15, 1)
	p, err := NewPost(m, X, y)
	if err != nil {
		t.Fatal(err)
	}
	Z := [][]float64{{0.1, 0.2, 0.3}, {0.9, 0.5, 0.1}, X[3]}
	wm, wv, _ := m.Predict(Z)
	gm, gv := p.Predict(Z)
	for i := range Z {
		// tolerance: 1e-9 relative, both factorise the same matrix
		if math.Abs(wm[i]-gm[i]) > 1e-9*(1+math.Abs(wm[i])) || math.Abs(wv[i]-gv[i]) > 1e-9*(1+wv[i]) {
			t.Errorf("point %d: Post (%g, %g), gp.Model (%g, %g)", i, gm[i], gv[i], wm[i], wv[i])
		}
	}
}

// TestNEIBruteForce recomputes qNEI and qLogNEI from gp.Model's joint
// posterior over baseline × W and x × W with the same base samples.
func TestNEIBruteForce(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 1, 10, 2)
	p, _ := NewPost(m, X, y)
	W := [][]float64{{0.1}, {0.5}, {0.8}}
	base := [][]float64{{0.2}, {0.6}, {0.9}}
	for _, log := range []bool{false, true} {
		a, err := NewNEI(p, W, base, cvar07, NEIOptions{Log: log, Samples: 32, Seed: 5, NoPrune: true})
		if err != nil {
			t.Fatal(err)
		}
		x := []float64{0.37}
		var Z [][]float64
		for _, b := range base {
			Z = append(Z, appendW(b, W)...)
		}
		Z = append(Z, appendW(x, W)...)
		post, err := m.Posterior(Z)
		if err != nil {
			t.Fatal(err)
		}
		nB, nw, S := 9, 3, 32
		var sum float64
		logs := make([]float64, S)
		for s := 0; s < S; s++ {
			z := make([]float64, nB+nw)
			for i := 0; i < nB; i++ {
				z[i] = a.zb[i*S+s]
			}
			copy(z[nB:], a.zx[s])
			f := post.Sample(z, nil)
			best := math.Inf(-1)
			for b := 0; b < 3; b++ {
				best = math.Max(best, cvar07.Eval(f[b*nw:(b+1)*nw]))
			}
			imp := cvar07.Eval(f[nB:]) - best
			sum += math.Max(imp, 0)
			logs[s] = logFatplus(imp, 1e-6)
		}
		want := sum / float64(S)
		if log {
			want = logMeanExp(logs)
		}
		got := a.Value(x)
		if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("log=%v: NEI %.12g, brute force %.12g", log, got, want)
		}
	}
}

func TestLogFatplus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ x, tau, want float64 }{
		{0, 1, math.Log(math.Log(2) + 0.1)},
		{5, 1, math.Log(math.Log1p(math.Exp(5)) + 0.1/26)},
		{-3e-6, 1e-6, math.Log(1e-6 * (math.Log1p(math.Exp(-3)) + 0.1/10))},
		{40, 1, math.Log(40 + 0.1/1601)},
	} {
		if got := logFatplus(c.x, c.tau); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("logFatplus(%g, %g) = %.15g, want %.15g", c.x, c.tau, got, c.want)
		}
	}
}

// TestKGBruteForce recomputes ρKG with gp.Model.Condition for every fantasy.
func TestKGBruteForce(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 1, 8, 3)
	p, _ := NewPost(m, X, y)
	W := [][]float64{{0.05}, {0.3}, {0.55}, {0.8}}
	kg, err := NewKG(p, W, cvar07, []float64{0}, []float64{1},
		KGOptions{Fantasies: 6, Seed: 9, InnerSobol: 8, Best: [][]float64{X[0][:1]}, Local: 2})
	if err != nil {
		t.Fatal(err)
	}
	ym, ys := m.YTransform()
	_ = ym
	noise := m.Hyper().Noise * ys * ys
	for _, zc := range [][]float64{{0.3, 0.7}, {0.81, 0.1}, {X[2][0], X[2][1]}} {
		x, w := zc[:1], zc[1:]
		mu, v, _ := m.Predict([][]float64{zc})
		inner := append(append([][]float64{}, kg.Inner()...), x)
		var sumBest float64
		means := make([]float64, len(inner))
		for _, z := range kg.z {
			fm, err := m.Condition([][]float64{zc}, []float64{mu[0] + math.Sqrt(v[0]+noise)*z})
			if err != nil {
				t.Fatal(err)
			}
			best := math.Inf(-1)
			for j, xi := range inner {
				pm, _, _ := fm.Predict(appendW(xi, W))
				r := cvar07.Eval(pm)
				means[j] += r / float64(len(kg.z))
				best = math.Max(best, r)
			}
			sumBest += best
		}
		today := math.Inf(-1)
		for _, v := range means {
			today = math.Max(today, v)
		}
		want := sumBest/float64(len(kg.z)) - today
		got := kg.Value(x, w)
		if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("(x,w)=%v: KG %.10g, brute force %.10g", zc, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 200; i++ {
		if v := kg.Value([]float64{rng.Float64()}, []float64{rng.Float64()}); !(v >= 0) {
			t.Fatalf("KG value %g < 0", v)
		}
	}
}

func TestMeanRiskGradFD(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 2, 20, 5)
	p, _ := NewPost(m, X, y)
	W := [][]float64{{0.1}, {0.35}, {0.6}, {0.9}}
	for _, meas := range []risk.Measure{cvar07, {Kind: risk.KindCVaR, Alpha: 0.3}, {Kind: risk.KindMean}} {
		mr, _ := NewMeanRisk(p, W, meas)
		rng := rand.New(rand.NewPCG(6, 6))
		for i := 0; i < 5; i++ {
			x := []float64{0.1 + 0.8*rng.Float64(), 0.1 + 0.8*rng.Float64()}
			g := make([]float64, 2)
			v := mr.Grad(x, g)
			if r, _ := mr.Value(x); math.Abs(r-v) > 1e-10*(1+math.Abs(v)) {
				t.Errorf("Grad value %g != Value %g", v, r)
			}
			want := fd.Gradient(nil, func(z []float64) float64 { return mr.Grad(z, nil) }, x,
				&fd.Settings{Formula: fd.Central, Step: 1e-6})
			for k := range g {
				// CVaR is piecewise linear in the means: away from ties the
				// central difference is exact to O(h²); tolerance 1e-4 relative.
				if math.Abs(g[k]-want[k]) > 1e-4*(1+math.Abs(want[k])) {
					t.Errorf("%v x=%v d/dx%d: analytic %g, finite differences %g", meas, x, k, g[k], want[k])
				}
			}
		}
	}
}

func TestMaximizeDeterministic(t *testing.T) {
	t.Parallel()
	m, X, y := toy(t, 1, 10, 7)
	p, _ := NewPost(m, X, y)
	W := [][]float64{{0.1}, {0.5}, {0.9}}
	a, _ := NewNEI(p, W, [][]float64{{0.2}, {0.7}}, cvar07, NEIOptions{Log: true, Samples: 64, Seed: 1})
	var first []float64
	for _, workers := range []int{1, 2, 1} {
		x, v, err := Maximize(context.Background(), a.Value, []float64{0}, []float64{1}, nil,
			OptimOptions{RawSamples: 32, Restarts: 3, Workers: workers, Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = append(x, v)
			if v < a.Value([]float64{0.5}) {
				t.Errorf("maximum %g below a midpoint value %g", v, a.Value([]float64{0.5}))
			}
			continue
		}
		if x[0] != first[0] || v != first[1] {
			t.Errorf("workers=%d: (%v, %v), first run (%v, %v)", workers, x[0], v, first[0], first[1])
		}
	}
}

// TestBoltzmannStarts: the draw keeps the best start, returns distinct
// starts, is deterministic for a seed and favours high values.
func TestBoltzmannStarts(t *testing.T) {
	t.Parallel()
	var c []start
	for i := 0; i < 100; i++ {
		c = append(c, start{x: []float64{float64(i)}, v: -float64(i) / 10}) // sorted best first
	}
	a := boltzmann(c, 10, 3)
	b := boltzmann(c, 10, 3)
	if len(a) != 10 || a[0].v != c[0].v {
		t.Fatalf("got %d starts, first %v; want 10 with the best first", len(a), a[0].v)
	}
	seen := map[float64]bool{}
	var mean float64
	for i := range a {
		if a[i].v != b[i].v {
			t.Errorf("start %d differs between two draws with the same seed: %v vs %v", i, a[i].v, b[i].v)
		}
		if seen[a[i].v] {
			t.Errorf("start %v drawn twice", a[i].v)
		}
		seen[a[i].v] = true
		mean += a[i].v / 10
	}
	// uniform draws would average −4.95; weights exp(2z) favour the top
	if mean < -3.5 {
		t.Errorf("mean value of the drawn starts %g: not favouring high values", mean)
	}
}
