package gp

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"bohost/host/errs"
)

// TestSampleHyperMatchesGrid: on a 1-D problem with fixed noise (θ = log ℓ
// and the constant mean), the slice sampler's draws have the mean and
// standard deviation of the posterior computed by quadrature on a grid, where
// the density comes from FitWithHyper's factorisation (not the sampler's
// objective) plus the log prior and the Jacobian of log ℓ.
func TestSampleHyperMatchesGrid(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var X [][]float64
	var y []float64
	for i := 0; i < 12; i++ {
		x := rng.Float64()
		X = append(X, []float64{x})
		y = append(y, math.Sin(6*x)+0.3*rng.NormFloat64())
	}
	o := DefaultOptions()
	o.LearnNoise, o.Noise = false, 0.05
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		t.Fatal(err)
	}
	hs, err := m.SampleHyper(context.Background(), SampleOptions{Samples: 3000, Burn: 50, Thin: 1, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var sl, sl2, sc float64
	for _, h := range hs {
		l := math.Log(h.Lengthscales[0])
		sl += l
		sl2 += l * l
		sc += h.Mean
	}
	n := float64(len(hs))
	mlS, sdlS, mcS := sl/n, math.Sqrt(sl2/n-sl*sl/n/n), sc/n

	// quadrature
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var lps []float64
	var ls, cs []float64
	for a := -4.6; a <= 4; a += 0.02 {
		for c := -3.0; c <= 3; c += 0.02 {
			h := Hyper{Lengthscales: []float64{math.Exp(a)}, Outputscale: 1, Noise: o.Noise, Mean: c}
			if err := g.FitWithHyper(X, y, h); err != nil {
				t.Fatal(err)
			}
			lps = append(lps, g.LogMarginalLikelihood()+g.LogPrior()+a)
			ls, cs = append(ls, a), append(cs, c)
		}
	}
	top := slices.Max(lps)
	var z, ml, ml2, mc float64
	for i, lp := range lps {
		p := math.Exp(lp - top)
		z += p
		ml += p * ls[i]
		ml2 += p * ls[i] * ls[i]
		mc += p * cs[i]
	}
	ml, mc = ml/z, mc/z
	sdl := math.Sqrt(ml2/z - ml*ml)
	t.Logf("log ℓ: sampler %.3f ± %.3f, grid %.3f ± %.3f; mean: sampler %.3f, grid %.3f", mlS, sdlS, ml, sdl, mcS, mc)
	if math.Abs(mlS-ml) > 0.15*sdl {
		t.Errorf("E[log ℓ]: sampler %.4f, grid %.4f (sd %.4f)", mlS, ml, sdl)
	}
	if math.Abs(sdlS/sdl-1) > 0.15 {
		t.Errorf("sd[log ℓ]: sampler %.4f, grid %.4f", sdlS, sdl)
	}
	if math.Abs(mcS-mc) > 0.1 {
		t.Errorf("E[mean]: sampler %.4f, grid %.4f", mcS, mc)
	}
}

func TestSampleHyperDeterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	X, y := randData(rng, 20, 3)
	m := fitted(t, RBF, X, y)
	draw := func(seed uint64) []Hyper {
		hs, err := m.SampleHyper(context.Background(), SampleOptions{Samples: 4, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	a, b, c := draw(1), draw(1), draw(2)
	for i := range a {
		if !slices.Equal(a[i].Lengthscales, b[i].Lengthscales) || a[i].Noise != b[i].Noise || a[i].Mean != b[i].Mean {
			t.Fatalf("draw %d differs for the same seed: %+v vs %+v", i, a[i], b[i])
		}
	}
	if slices.Equal(a[3].Lengthscales, c[3].Lengthscales) {
		t.Error("seeds 1 and 2 gave the same draw")
	}
	for i := 1; i < len(a); i++ {
		if slices.Equal(a[i].Lengthscales, a[i-1].Lengthscales) {
			t.Errorf("draws %d and %d are equal: the chain did not move", i-1, i)
		}
	}
	// unfitted model and bad options
	u, _ := New(DefaultOptions())
	if _, err := u.SampleHyper(context.Background(), SampleOptions{Samples: 1}); !errs.Is(err, errs.BadState) {
		t.Errorf("unfitted: %v", err)
	}
	if _, err := m.SampleHyper(context.Background(), SampleOptions{}); !errs.Is(err, errs.BadArg) {
		t.Errorf("samples 0: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.SampleHyper(ctx, SampleOptions{Samples: 1}); !errs.Is(err, errs.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
