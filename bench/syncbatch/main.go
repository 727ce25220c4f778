// Command syncbatch measures synchronous q-batches on the anchors' hart6
// problem (qLogNEI, all_w, n_w 16, 5 initial x's, 30 iterations), in process
// and without the run pipeline: ask q x's at once (bo.Optimizer.AskMore),
// tell all q, ask again; the final recommendation's regret per seed. It
// answers what docs/batch.md asks about the asynchronous schedule, where each
// proposal is always q-1 results late: with a synchronous batch it is 0 to
// q-1 late. q = 1 reproduces bench/batch's sequential regrets exactly.
//
//	go run ./bench/syncbatch -q 4 -seed0 0 -seeds 50
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"bohost/host/bo"
	"bohost/host/gp"
	"bohost/host/problems"
	"bohost/host/risk"
)

func main() {
	q := flag.Int("q", 1, "synchronous batch size")
	s0 := flag.Int("seed0", 0, "")
	n := flag.Int("seeds", 10, "")
	flag.Parse()
	prob := problems.Hart6Env()
	conv := risk.Convention("botorch")
	alpha := 0.3
	box := func(d int) [][2]float64 {
		b := make([][2]float64, d)
		for i := range b {
			b[i] = [2]float64{0, 1}
		}
		return b
	}
	o := gp.DefaultOptions()
	o.Restarts = 1
	o.Kernel = gp.RBF
	o.Prior = gp.PriorGamma
	best, _ := problems.BestTrueCVaR(prob.Name, alpha, conv)
	grid := problems.GridPerDim(prob.Name)
	ctx := context.Background()
	sum := 0.0
	for seed := *s0; seed < *s0+*n; seed++ {
		opt, err := bo.New(bo.Config{Space: box(prob.DimX), Env: bo.Env{Bounds: box(prob.DimW)}, Alpha: alpha, Convention: conv,
			NW: 16, Acquisition: bo.AcqQLogNEI, Mode: bo.ModeAllW, NInitial: 5, Seed: uint64(seed), Design: bo.DesignTorch, GP: &o})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tell := func(cs []bo.Candidate) {
			for _, c := range cs {
				if err := opt.Tell(c, prob.F(c.X, c.W)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}
		c, _ := opt.Ask(ctx)
		tell(c)
		for it := 0; it < 30; {
			k := min(*q, 30-it)
			cs, err := opt.AskMore(ctx, k)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			tell(cs)
			it += k
		}
		rec, err := opt.Recommend(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r := best - problems.TrueCVaR(prob, rec.X, alpha, conv, grid)
		sum += r
		fmt.Printf("q=%d seed=%d regret=%.4f\n", *q, seed, r)
	}
	fmt.Printf("q=%d mean regret %.4f over %d seeds\n", *q, sum/float64(*n), *n)
}
