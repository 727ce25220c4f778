// Command landscape scores random AirLine parameter vectors on every scene of
// a synthetic data set and asks how often choosing an x by CVaR over a W set
// of the tuning scenes beats choosing it by the mean over the same W set on
// the held-out scenes' lower tail. It is the evidence behind the alpha
// sweep's W set (docs/sweeps.md, "How the defaults were chosen"): an oracle
// version of the sweep without the optimiser's own noise.
//
//	go run ./bench/landscape [-n 96] [-scene weld] [-nx 40] [-draws 400] [-pick 20] [-nw 16,24,32,48]
//
// The data set is make run's (seed 1, 640 x 480); scenes 0..n/2-1 tune and the
// rest are held out, as in the sweep. The x's are AirLine's defaults, the
// loosest corner of the box and -nx uniform random x's (seeded by -seed). Each
// draw takes -pick of them (always the defaults, as every sweep run starts
// from them) and a W set of nw tuning scenes, and compares, on the held-out
// scenes, the x with the best CVaR 0.1 over W against the x with the best
// mean over W. The table gives the mean gain in held-out CVaR 0.1, its
// quantiles, and how often two such draws (two seeds) average above 0.03,
// the issue 15 acceptance's margin. -scores FILE writes the score matrix as
// JSON ({"xs", "scores": [x][scene]}).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"bohost/host/airline"
	"bohost/host/dataset"
)

func main() {
	n := flag.Int("n", 96, "scenes (half tuning, half held out)")
	scene := flag.String("scene", "weld", "weld | v1")
	nx := flag.Int("nx", 40, "random x's besides the defaults and the loose corner")
	seed := flag.Uint64("seed", 7, "seed of the random x's and the draws")
	draws := flag.Int("draws", 400, "W set draws per n_w")
	pick := flag.Int("pick", 20, "x's per draw (the defaults always among them), as a sweep run evaluates")
	nws := flag.String("nw", "16,24,32,48", "W set sizes")
	scores := flag.String("scores", "", "write the score matrix as JSON to this file")
	flag.Parse()

	ds, err := dataset.Synthetic(dataset.SynthOptions{N: *n, Seed: 1, Scene: *scene})
	check(err)
	space, err := airline.Space(airline.SpaceAirline8)
	check(err)
	xs := [][]float64{nil, {-23, 0.5, 0.01, -23, 0.5, 0.01, 12, 12}}
	r := rand.New(rand.NewPCG(*seed, 1))
	for len(xs) < *nx+2 {
		x := make([]float64, len(space))
		for k, p := range space {
			x[k] = p.Lo + (p.Hi-p.Lo)*r.Float64()
		}
		xs = append(xs, x)
	}

	// F[k][i]: x k on scene i, F_r at the default radius.
	t0 := time.Now()
	F := make([][]float64, len(xs))
	for k := range F {
		F[k] = make([]float64, ds.Len())
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			ev, err := airline.New(airline.Options{Seed: 1})
			check(err)
			for i := range jobs {
				img, err := ds.Image(i)
				check(err)
				for k, x := range xs {
					rec, err := ev.Eval(context.Background(), x, img, ds.Item(i).Lines)
					check(err)
					F[k][i] = rec.F
				}
			}
		})
	}
	for i := range ds.Len() {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("%d x's on %d %s scenes in %.0f s\n\n", len(xs), ds.Len(), *scene, time.Since(t0).Seconds())
	if *scores != "" {
		b, err := json.Marshal(map[string]any{"xs": xs, "scores": F})
		check(err)
		check(os.WriteFile(*scores, b, 0o644))
	}

	half := (ds.Len() + 1) / 2
	test := make([]int, 0, ds.Len()-half)
	for i := half; i < ds.Len(); i++ {
		test = append(test, i)
	}
	tail := func(k int, idx []int) float64 { return cvar(F[k], idx, 0.1) }
	mean := func(k int, idx []int) float64 { return cvar(F[k], idx, 1) }

	all := make([]int, len(xs))
	for k := range all {
		all[k] = k
	}
	bm, bt := best(all, seq(half), mean), best(all, seq(half), tail)
	fmt.Printf("every x, every tuning scene: best-CVaR x vs best-mean x on the held-out scenes: CVaR 0.1 %+.3f, mean %+.3f\n\n",
		tail(bt, test)-tail(bm, test), mean(bt, test)-mean(bm, test))

	fmt.Println("| n_w | draws | held-out Δ CVaR 0.1 (mean) | p10 / p50 / p90 | Δ mean | P(two draws average > 0.03) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, f := range strings.Split(*nws, ",") {
		nw, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		if nw < 1 || nw > half {
			check(fmt.Errorf("-nw %d: want 1..%d", nw, half))
		}
		var dt, dm []float64
		for range *draws {
			cand := append([]int{0}, r.Perm(len(xs) - 1)[:min(*pick, len(xs))-1]...)
			for j := 1; j < len(cand); j++ {
				cand[j]++
			}
			W := r.Perm(half)[:nw]
			m, t := best(cand, W, mean), best(cand, W, tail)
			dt = append(dt, tail(t, test)-tail(m, test))
			dm = append(dm, mean(t, test)-mean(m, test))
		}
		pairs := 0
		for j := 0; j+1 < len(dt); j += 2 {
			if (dt[j]+dt[j+1])/2 > 0.03 {
				pairs++
			}
		}
		q := slices.Clone(dt)
		sort.Float64s(q)
		at := func(p float64) float64 { return q[int(p*float64(len(q)-1))] }
		fmt.Printf("| %d | %d | %+.3f | %+.3f / %+.3f / %+.3f | %+.3f | %.2f |\n", nw, len(dt), avg(dt), at(0.1), at(0.5), at(0.9), avg(dm), float64(pairs)/float64(len(dt)/2))
	}
}

// best is the candidate with the highest stat over idx (ties to the first).
func best(cand, idx []int, stat func(int, []int) float64) int {
	b := cand[0]
	for _, k := range cand[1:] {
		if stat(k, idx) > stat(b, idx) {
			b = k
		}
	}
	return b
}

// cvar is the mean of the worst ceil(alpha n) of v over idx.
func cvar(v []float64, idx []int, alpha float64) float64 {
	s := make([]float64, len(idx))
	for j, i := range idx {
		s[j] = v[i]
	}
	sort.Float64s(s)
	return avg(s[:max(1, int(math.Ceil(alpha*float64(len(s))-1e-9)))])
}

func avg(v []float64) float64 {
	var t float64
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "landscape:", err)
		os.Exit(1)
	}
}
