package gp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFit: a full MAP fit (default options: RBF, 4 restarts + the prior
// mode, one worker) on synthetic d = 8 data.
func BenchmarkFit(b *testing.B) {
	for _, n := range []int{50, 100, 200} {
		b.Run(fmt.Sprintf("n=%d/d=8", n), func(b *testing.B) {
			X, y := randData(rand.New(rand.NewPCG(1, uint64(n))), n, 8)
			o := DefaultOptions()
			o.Workers = 1
			for b.Loop() {
				m, _ := New(o)
				if err := m.Fit(context.Background(), X, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchModel(b *testing.B, n, d int) (*Model, *rand.Rand) {
	rng := rand.New(rand.NewPCG(2, uint64(n)))
	X, y := randData(rng, n, d)
	m, _ := New(DefaultOptions())
	h := Hyper{Lengthscales: make([]float64, d), Outputscale: 1, Noise: 0.01}
	for k := range h.Lengthscales {
		h.Lengthscales[k] = 0.5
	}
	if err := m.FitWithHyper(X, y, h); err != nil {
		b.Fatal(err)
	}
	return m, rng
}

// BenchmarkPosterior: the joint posterior (mean, covariance, its Cholesky) of
// a q-point batch given n = 100 training points in d = 8.
func BenchmarkPosterior(b *testing.B) {
	for _, q := range []int{16, 64} {
		b.Run(fmt.Sprintf("q=%d/n=100", q), func(b *testing.B) {
			m, rng := benchModel(b, 100, 8)
			X, _ := randData(rng, q, 8)
			for b.Loop() {
				if _, err := m.Posterior(X); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCondition: conditioning on q fantasy points by block extension.
func BenchmarkCondition(b *testing.B) {
	for _, q := range []int{1, 16} {
		b.Run(fmt.Sprintf("q=%d/n=100", q), func(b *testing.B) {
			m, rng := benchModel(b, 100, 8)
			X, y := randData(rng, q, 8)
			for b.Loop() {
				if _, err := m.Condition(X, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPredictGrad: mean, variance and both gradients at one point.
func BenchmarkPredictGrad(b *testing.B) {
	m, rng := benchModel(b, 100, 8)
	x, _ := randData(rng, 1, 8)
	for b.Loop() {
		m.PredictGrad(x[0])
	}
}
