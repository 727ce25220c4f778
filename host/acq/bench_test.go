package acq

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/gp"
)

// benchPost fits an RBF GP on 35 x's (6-D) × 16 w's (2-D), the size of the
// hart6 n_w = 16 runs' last iteration (n = 560), dense or on the grid route.
func benchPost(b *testing.B, dense bool) (*Post, [][]float64, [][]float64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	W := make([][]float64, 16)
	for i := range W {
		W[i] = []float64{rng.Float64(), rng.Float64()}
	}
	var X, base [][]float64
	var y []float64
	for j := 0; j < 35; j++ {
		x := make([]float64, 6)
		for k := range x {
			x[k] = rng.Float64()
		}
		base = append(base, x)
		for _, w := range W {
			X = append(X, append(append([]float64{}, x...), w...))
			var v float64
			for k, c := range x {
				v += math.Sin(3*c+float64(k)) * (1 + 0.3*w[k%2])
			}
			y = append(y, v)
		}
	}
	o := gp.DefaultOptions()
	o.Restarts = 0
	o.Prior = gp.PriorGamma
	o.DenseOnly = dense
	m, _ := gp.New(o)
	if err := m.Fit(context.Background(), X, y); err != nil {
		b.Fatal(err)
	}
	p, err := NewPost(m, X, y)
	if err != nil {
		b.Fatal(err)
	}
	return p, W, base
}

// BenchmarkNEIValueGrad times one qLogNEI value + gradient at n = 560 (35
// baseline x's, unpruned) on each route.
func BenchmarkNEIValueGrad(b *testing.B) {
	for _, c := range []struct {
		name                  string
		dense, noFast, noChan bool
	}{{"dense", true, false, false}, {"grid", false, true, false}, {"grid-fast", false, false, true}, {"grid-chan", false, false, false}} {
		b.Run(c.name, func(b *testing.B) {
			p, W, base := benchPost(b, c.dense)
			a, err := NewNEI(p, W, base, cvar07, NEIOptions{Log: true, Seed: 1, noGrid: c.noFast, noChan: c.noChan, NoPrune: true})
			if err != nil {
				b.Fatal(err)
			}
			g := make([]float64, 6)
			x := []float64{0.3, 0.4, 0.5, 0.6, 0.2, 0.1}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a.ValueGrad(x, g)
			}
		})
	}
}
