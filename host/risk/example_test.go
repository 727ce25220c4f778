package risk_test

import (
	"fmt"

	"bohost/host/risk"
)

// The CVaR of a design's scores over ten environments: alpha = 0.25 averages
// the worst 2.5 values (the boundary value gets weight one half); VaR is the
// value at the edge of that tail.
func ExampleCVaR() {
	scores := []float64{0.9, 0.4, 0.8, 0.7, 0.2, 0.95, 0.6, 0.85, 0.75, 0.5}
	cvar, err := risk.CVaR(scores, 0.25, risk.Bohost)
	if err != nil {
		panic(err)
	}
	v, _ := risk.VaR(scores, 0.25, risk.Bohost)
	fmt.Printf("CVaR %.4f = (0.2 + 0.4 + 0.5/2) / 2.5, VaR %.1f\n", cvar, v)
	// Output:
	// CVaR 0.3400 = (0.2 + 0.4 + 0.5/2) / 2.5, VaR 0.5
}

// BoTorch reads alpha as a confidence level; its own test vector: CVaR(0.5)
// of {1, 0.5, 2} averages the two smallest values.
func ExampleCVaR_boTorch() {
	cvar, _ := risk.CVaR([]float64{1, 0.5, 2}, 0.5, risk.BoTorch)
	v, _ := risk.VaR([]float64{1, 0.5, 2}, 0.5, risk.BoTorch)
	fmt.Println(cvar, v)
	// Output:
	// 0.75 1
}

// Alpha outside (0, 1] is a bad_arg error naming the argument.
func ExampleVaR_badAlpha() {
	_, err := risk.VaR([]float64{1, 2}, 1.5, risk.Bohost)
	fmt.Println(err)
	// Output:
	// risk.VaR: bad_arg: alpha must be in (0, 1], got 1.5
}

// A Measure bundles the choice, and Weights is its gradient: Eval(values) ==
// sum of Weights[i]*values[i].
func ExampleMeasure() {
	m := risk.Measure{Kind: "cvar", Alpha: 0.5}
	values := []float64{3, 1, 2, 4}
	fmt.Println(m.Eval(values), m.Weights(values, nil))
	// Output:
	// 1.5 [0 0.5 0.5 0]
}
