package gp_test

import (
	"context"
	"fmt"
	"math"

	"bohost/host/gp"
)

// Fit a GP to eight samples of sin(2πx) on [0, 1] and predict: between the
// samples the mean follows the function and the (latent, raw-unit) standard
// deviation is small; far outside them the mean falls back towards the
// fitted constant and the standard deviation grows to the prior's.
func Example() {
	var X [][]float64
	var y []float64
	for i := 0; i < 8; i++ {
		x := (float64(i) + 0.5) / 8
		X = append(X, []float64{x})
		y = append(y, math.Sin(2*math.Pi*x))
	}
	opts := gp.DefaultOptions()
	opts.Seed = 1
	m, err := gp.New(opts)
	if err != nil {
		panic(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		panic(err)
	}
	Xq := [][]float64{{0.25}, {0.6}, {1.5}}
	mean, variance, err := m.Predict(Xq)
	if err != nil {
		panic(err)
	}
	for i, x := range Xq {
		fmt.Printf("x = %.2f: mean %5.2f (sin %5.2f), sd %.2f\n", x[0], mean[i], math.Sin(2*math.Pi*x[0]), math.Sqrt(variance[i]))
	}
	// Output:
	// x = 0.25: mean  1.00 (sin  1.00), sd 0.03
	// x = 0.60: mean -0.59 (sin -0.59), sd 0.03
	// x = 1.50: mean  0.16 (sin  0.00), sd 0.74
}
