// Command gpfit fits bohost's GP (host/gp) on the anchor data sets of
// ../shared/anchors/gpdata and prints a Markdown table comparing log marginal
// likelihood, held-out RMSE and fit time with the scikit-learn 1.2.1 and
// BoTorch 0.11.3 reference fits.
//
//	go run ./bench/gpfit [-n 20,50,100,200] [-seeds 0,1,2] [-workers 1] [-restarts N]
//
// LMLs are totals of the ddof-1 standardised targets without prior terms;
// scikit-learn's ddof-0 values are shifted by (n/2)·ln(n/(n−1)) to match (see
// the data's README). bohost configurations: "default" (BoTorch ≥ 0.12: RBF,
// dimension-scaled priors), "gamma" (the BoTorch 0.11.3 model: Matérn-5/2,
// Gamma priors) and "mle" (the scikit-learn model: Matérn-5/2, no priors,
// noise ≥ 1e-6). Reference times are wall seconds from the CSV (median of 3,
// single-threaded, on a loaded 2-core machine); bohost times are the process
// CPU seconds of one fit measured here with -workers 1, which stay meaningful
// when the machine is shared (wall time is then a multiple of it).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"bohost/host/gp/gpdata"
	"bohost/host/testsupport"
)

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad list %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func main() {
	ns := flag.String("n", "20,50,100,200", "training-set sizes")
	seeds := flag.String("seeds", "0,1,2", "data seeds")
	workers := flag.Int("workers", 1, "goroutines per fit (restarts in parallel); 1 matches the single-threaded references")
	restarts := flag.Int("restarts", 0, "L-BFGS restarts from prior draws per fit (Options.Restarts; 0: each configuration's own, 4 and 30 for mle)")
	flag.Parse()
	if err := run(*ns, *seeds, *workers, *restarts); err != nil {
		fmt.Fprintln(os.Stderr, "gpfit:", err)
		os.Exit(1)
	}
}

func run(nsFlag, seedsFlag string, workers, restarts int) error {
	ns, err := ints(nsFlag)
	if err != nil {
		return err
	}
	seeds, err := ints(seedsFlag)
	if err != nil {
		return err
	}
	dir, ok := testsupport.Shared("anchors", "gpdata")
	if !ok {
		return fmt.Errorf("%s not found (set BOHOST_SHARED to the shared folder)", dir)
	}
	refs, err := gpdata.LoadRefs(dir)
	if err != nil {
		return err
	}
	test, err := gpdata.Load(gpdata.TestPath(dir))
	if err != nil {
		return err
	}
	fmt.Println("| n | seed | LML default | LML gamma | LML mle | LML sklearn | LML BoTorch | RMSE default | RMSE gamma | RMSE mle | RMSE sklearn | RMSE BoTorch | cpu s default | cpu s gamma | cpu s mle | fit s sklearn | fit s BoTorch |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range ns {
		for _, seed := range seeds {
			train, err := gpdata.Load(gpdata.TrainPath(dir, n, seed))
			if err != nil {
				return err
			}
			var res []gpdata.Result
			for _, c := range gpdata.Configs(uint64(seed)) {
				c.Opts.Workers = workers
				if restarts > 0 {
					c.Opts.Restarts = restarts
				}
				r, err := gpdata.Fit(context.Background(), c, train, test)
				if err != nil {
					return fmt.Errorf("n=%d seed=%d %s: %w", n, seed, c.Name, err)
				}
				res = append(res, r)
			}
			sk := refs[gpdata.RefKey{Impl: "sklearn", N: n, Seed: seed}]
			bt := refs[gpdata.RefKey{Impl: "botorch", N: n, Seed: seed}]
			fmt.Printf("| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.4f | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
				n, seed, res[0].LML, res[1].LML, res[2].LML, gpdata.SklearnToDDOF1(sk.LML, n), bt.LML,
				res[0].RMSE, res[1].RMSE, res[2].RMSE, sk.RMSE, bt.RMSE,
				res[0].CPUS, res[1].CPUS, res[2].CPUS, sk.FitS, bt.FitS)
		}
	}
	return nil
}
