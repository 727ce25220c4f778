// Command syncbatch measures schedules of q x's in flight on the anchors'
// hart6 problem (qLogNEI, all_w, n_w 16, 5 initial x's, 30 iterations), in
// process and without the run pipeline; the final recommendation's regret
// per seed. Schedules: sync (ask q x's at once with bo.Optimizer.AskMore,
// tell all q, ask again: each proposal 0 to q-1 x's late), fifo (the run
// pipeline's fifo schedule: q workers take the oldest x's evaluations first,
// so every proposal is q-1 x's late) and interleave (each of q workers owns
// an x and tells its w's one per tick, starts staggered by n_w/q ticks: the
// pipeline's interleave schedule, written independently here; the pending
// x's are partly told at every ask). q = 1 reproduces bench/batch's
// sequential regrets exactly, and fifo and interleave its q-worker runs.
//
//	go run ./bench/syncbatch -q 4 -schedule interleave -seed0 0 -seeds 80
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"bohost/bench/internal/hart6"
	"bohost/host/bo"
	"bohost/host/problems"
	"bohost/host/risk"
)

func main() {
	q := flag.Int("q", 1, "batch size: x's in flight")
	sched := flag.String("schedule", "sync", "sync (ask q, tell q) | fifo (q workers take the oldest x's evaluations first; an x told whole frees a slot: the pipeline's) | interleave (each of q workers owns one x and tells its w's one per tick; starts staggered by n_w/q ticks)")
	recFrom := flag.String("rec", "evaluated", "recommendation: evaluated | continuous")
	s0 := flag.Int("seed0", 0, "")
	n := flag.Int("seeds", 10, "")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	nIters := flag.Int("iters", 30, "BO iterations after the initial design (the anchors': 30; 104 reaches n = 1664 training points)")
	flag.Parse()
	if *sched != "sync" && *sched != "fifo" && *sched != "interleave" {
		fmt.Fprintln(os.Stderr, "-schedule must be sync, fifo or interleave, got", *sched)
		os.Exit(2)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	prob := problems.Hart6Env()
	conv := risk.Convention("botorch")
	alpha := 0.3
	box := hart6.UnitBox
	best, _ := problems.BestTrueCVaR(prob.Name, alpha, conv)
	grid := problems.GridPerDim(prob.Name)
	ctx := context.Background()
	sum := 0.0
	for seed := *s0; seed < *s0+*n; seed++ {
		opt, err := bo.New(bo.Config{Space: box(prob.DimX), Env: bo.Env{Bounds: box(prob.DimW)}, Alpha: alpha, Convention: conv,
			NW: 16, Acquisition: bo.AcqQLogNEI, Mode: bo.ModeAllW, NInitial: 5, Seed: uint64(seed), Design: bo.DesignTorch, GP: hart6.GP(), RecommendFrom: *recFrom})
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
		var askS []float64 // wall seconds of each ask
		ask := func() []bo.Candidate {
			t0 := time.Now()
			defer func() { askS = append(askS, time.Since(t0).Seconds()) }()
			cs, err := opt.AskMore(ctx, 1)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			return cs
		}
		iters, nw := *nIters, 16
		switch *sched {
		case "sync":
			for it := 0; it < iters; {
				k := min(*q, iters-it)
				t0 := time.Now()
				cs, err := opt.AskMore(ctx, k)
				askS = append(askS, time.Since(t0).Seconds())
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				tell(cs)
				it += k
			}
		case "fifo":
			var queue []bo.Candidate
			asked := 0
			for ; asked < min(*q, iters); asked++ {
				queue = append(queue, ask()...)
			}
			for len(queue) > 0 {
				// q workers take the next q evaluations; an x is whole when
				// its last w is told (evaluations are FIFO, so x by x).
				k := min(*q, len(queue))
				tell(queue[:k])
				queue = queue[k:]
				for (len(queue)+nw-1)/nw < *q && asked < iters {
					queue = append(queue, ask()...)
					asked++
				}
			}
		case "interleave":
			slots := make([][]bo.Candidate, *q)
			start := make([]int, *q)
			for k := range start {
				start[k] = k * nw / *q
			}
			asked := 0
			for tick := 0; ; tick++ {
				for k := range slots {
					if len(slots[k]) > 0 {
						tell(slots[k][:1])
						slots[k] = slots[k][1:]
					}
				}
				busy := false
				for k := range slots {
					if len(slots[k]) == 0 && tick >= start[k] && asked < iters {
						slots[k] = ask()
						asked++
					}
					busy = busy || len(slots[k]) > 0
				}
				if !busy {
					break
				}
			}
		}
		rec, err := opt.Recommend(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r := best - problems.TrueCVaR(prob, rec.X, alpha, conv, grid)
		sum += r
		last := askS[max(0, len(askS)-5):]
		var ls float64
		for _, v := range last {
			ls += v / float64(len(last))
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		fmt.Printf("q=%d seed=%d regret=%.4f (last asks %.2f s each at n = %d; peak RSS %d MB)\n", *q, seed, r, ls, len(opt.Observations()), ru.Maxrss/1024)
	}
	fmt.Printf("q=%d mean regret %.4f over %d seeds\n", *q, sum/float64(*n), *n)
}
