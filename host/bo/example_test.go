package bo_test

import (
	"context"
	"fmt"
	"math"

	"bohost/host/acq"
	"bohost/host/bo"
)

// An ask/tell loop on a toy with a robust optimum and a fragile one: f(x, w)
// peaks at x = 0.3 whatever the environment w, and higher at x = 0.75 but
// only for small w. Maximising the CVaR over w (alpha = 0.3: the mean of the
// worst 30% of environments) the optimiser recommends the robust x.
func Example() {
	f := func(x, w []float64) float64 {
		robust := math.Exp(-20 * (x[0] - 0.3) * (x[0] - 0.3))
		fragile := 1.6 * math.Exp(-60*(x[0]-0.75)*(x[0]-0.75)) * (1 - 1.2*w[0])
		return robust + fragile
	}
	o, err := bo.New(bo.Config{
		Space:       [][2]float64{{0, 1}},
		Env:         bo.Env{Bounds: [][2]float64{{0, 1}}},
		NW:          6,   // the W set: 6 w's from the w box
		Alpha:       0.3, // CVaR of the worst 30% of them
		Acquisition: "qlognei",
		Mode:        "all_w", // each ask: one x at every w of the W set
		NInitial:    4,
		Seed:        1,
		Optim:       acq.OptimOptions{RawSamples: 32, Restarts: 3, MaxIter: 30},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for ask := 0; ask < 6; ask++ {
		cands, err := o.Ask(ctx) // the initial design first, then one x at a time
		if err != nil {
			panic(err)
		}
		for _, c := range cands {
			if err := o.Tell(c, f(c.X, c.W)); err != nil {
				panic(err)
			}
		}
		if ask == 0 {
			fmt.Printf("initial design: %d evaluations\n", len(cands))
		} else {
			fmt.Printf("iteration %d: x = %.2f at %d w's\n", o.Iteration(), cands[0].X[0], len(cands))
		}
	}
	rec, err := o.Recommend(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("recommended x = %.2f, posterior CVaR %.2f\n", rec.X[0], rec.CVaR)
	// Output:
	// initial design: 24 evaluations
	// iteration 1: x = 0.37 at 6 w's
	// iteration 2: x = 0.53 at 6 w's
	// iteration 3: x = 0.31 at 6 w's
	// iteration 4: x = 0.30 at 6 w's
	// iteration 5: x = 0.30 at 6 w's
	// recommended x = 0.30, posterior CVaR 1.00
}
