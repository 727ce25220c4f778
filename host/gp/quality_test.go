package gp_test

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"bohost/host/gp/gpdata"
	"bohost/host/testsupport"
)

// TestAnchorQuality fits the anchor data sets (8-D Hartmann-6 with an
// environment shift) and compares with the scikit-learn 1.2.1 and BoTorch
// 0.11.3 reference fits made on the same points. n = 200 runs only with
// BOHOST_LONG=1 (about 10 s more); bench/gpfit always includes it.
//
// Checks, per data set:
//   - LML (total, ddof-1 standardised targets, no prior terms; scikit-learn's
//     ddof-0 values shifted by (n/2)·ln(n/(n−1))): the matched Matérn/Gamma
//     MAP fit ("gamma") ≥ BoTorch − lmlTol, the matched maximum-likelihood fit
//     ("mle") ≥ scikit-learn − lmlTol, and the default MAP fit ≥ BoTorch − lmlTol;
//   - test RMSE: the best bohost configuration within 5 % of the better
//     reference (the goal), and each matched fit within 5 % of its own
//     reference. The "mle" configuration runs 30 restarts: with the default 4
//     it stops, at n = 100 seed 2, in an interpolating optimum 6 % worse on
//     RMSE than scikit-learn's (docs/gp.md).
func TestAnchorQuality(t *testing.T) {
	t.Parallel()
	const (
		lmlTol  = 0.05 // nats, total
		rmseTol = 1.05
	)
	dir := testsupport.Require(t, "anchors", "gpdata")
	refs, err := gpdata.LoadRefs(dir)
	if err != nil {
		t.Fatal(err)
	}
	test, err := gpdata.Load(gpdata.TestPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	ns := []int{20, 50, 100}
	if os.Getenv("BOHOST_LONG") == "1" {
		ns = append(ns, 200)
	}
	var tab strings.Builder
	tab.WriteString("\n  n seed | LML default   gamma     mle | sklearn BoTorch | RMSE default  gamma    mle | sklearn BoTorch\n")
	for _, n := range ns {
		for _, seed := range gpdata.Seeds {
			train, err := gpdata.Load(gpdata.TrainPath(dir, n, seed))
			if err != nil {
				t.Fatal(err)
			}
			res := map[string]gpdata.Result{}
			for _, c := range gpdata.Configs(uint64(seed)) {
				r, err := gpdata.Fit(context.Background(), c, train, test)
				if err != nil {
					t.Fatalf("n=%d seed=%d %s: %v", n, seed, c.Name, err)
				}
				res[c.Name] = r
			}
			sk := refs[gpdata.RefKey{Impl: "sklearn", N: n, Seed: seed}]
			bt := refs[gpdata.RefKey{Impl: "botorch", N: n, Seed: seed}]
			skLML := gpdata.SklearnToDDOF1(sk.LML, n)
			def, gam, mle := res["default"], res["gamma"], res["mle"]
			tab.WriteString(sprintf("%3d %4d | %8.2f %7.2f %7.2f | %7.2f %7.2f | %7.4f %6.4f %6.4f | %7.4f %7.4f",
				n, seed, def.LML, gam.LML, mle.LML, skLML, bt.LML, def.RMSE, gam.RMSE, mle.RMSE, sk.RMSE, bt.RMSE))
			if gam.LML < bt.LML-lmlTol {
				t.Errorf("n=%d seed=%d: gamma LML %.4f < BoTorch %.4f − %g", n, seed, gam.LML, bt.LML, lmlTol)
			}
			if mle.LML < skLML-lmlTol {
				t.Errorf("n=%d seed=%d: mle LML %.4f < scikit-learn %.4f − %g", n, seed, mle.LML, skLML, lmlTol)
			}
			if def.LML < bt.LML-lmlTol {
				t.Errorf("n=%d seed=%d: default LML %.4f < BoTorch %.4f − %g", n, seed, def.LML, bt.LML, lmlTol)
			}
			best := math.Min(def.RMSE, math.Min(gam.RMSE, mle.RMSE))
			ref := math.Min(sk.RMSE, bt.RMSE)
			tab.WriteString(sprintf("  best %+.1f %%\n", 100*(best/ref-1)))
			if best > rmseTol*ref {
				t.Errorf("n=%d seed=%d: best bohost RMSE %.4f > %g × better reference %.4f", n, seed, best, rmseTol, ref)
			}
			if gam.RMSE > rmseTol*bt.RMSE {
				t.Errorf("n=%d seed=%d: gamma RMSE %.4f > %g × BoTorch %.4f", n, seed, gam.RMSE, rmseTol, bt.RMSE)
			}
			if mle.RMSE > rmseTol*sk.RMSE {
				t.Errorf("n=%d seed=%d: mle RMSE %.4f > %g × scikit-learn %.4f", n, seed, mle.RMSE, rmseTol, sk.RMSE)
			}
		}
	}
	t.Log(tab.String())
}
