package report

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestBaselinesInCrossEval: baseline runs (config.json sweep.role
// "baseline", as scripts/baselines.lua writes them) are never taken for the
// risk-neutral reference although their alpha is 1: each forms its own
// group and cross-evaluation row, with held-out scores and paired intervals
// against the reference, in the table and the headline. A baseline that only
// scored fixed parameters (sweep.tuned false: no trials, iterations or
// monitor) is not reported missing anything, and is compared with the
// reference on its data and objective only; random search, which differs
// from the reference in the acquisition alone, is one change.
func TestBaselinesInCrossEval(t *testing.T) {
	sweep := crossSweep(t, false, func(alpha float64, ref bool, seed int64) []float64 { return heldOut(20, uint64(seed)) })
	for seed := int64(1); seed <= 3; seed++ {
		// Random search: 0.1 worse on every held-out image than the reference.
		worse := heldOut(20, uint64(seed))
		for i := range worse {
			worse[i] -= 0.1
		}
		w := writeFakeRun(t, sweep, fakeSpec{alpha: 1, seed: seed, iterations: 3, complete: true,
			finalCVaR: 0.4, finalMean: 0.5, scores: []float64{0.4, 0.5, 0.6}, holdout: worse})
		editConfig(t, w.dir, func(c map[string]any) {
			c["acquisition"] = "random"
			c["sweep"] = map[string]any{"role": "baseline", "name": "random search", "alphas": []float64{0.1, 0.5}}
		})
		// Default parameters, scored once: config, summary and holdout only.
		dir := filepath.Join(sweep, "baseline_defaults", fmt.Sprintf("seed_%d", seed))
		writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{"format": 1, "alpha": 1, "convention": "bohost", "seed": seed,
			"objective": "f", "data": map[string]any{"dir": "/data/yorkurban", "split": "test"}, "acquisition": "none", "iterations": 0,
			"sweep": map[string]any{"role": "baseline", "name": "defaults", "tuned": false}})
		writeJSON(t, filepath.Join(dir, "summary.json"), map[string]any{"status": "finished", "alpha": 1, "convention": "bohost", "seed": seed,
			"recommended_x_vec": []float64{0.1, 1, 10}, "final_eval": map[string]any{"env_ids": []string{"a", "b"}, "scores": []float64{0.3, 0.5}, "cvar": 0.4, "mean": 0.4}})
		ids := make([]string, 20)
		for i := range ids {
			ids[i] = fmt.Sprintf("H%03d", i)
		}
		writeJSON(t, filepath.Join(dir, "holdout.json"), map[string]any{"format": 1, "split": "test", "score": "f",
			"x_vec": []float64{0.1, 1, 10}, "data_sha256": "abc", "env_ids": ids, "scores": heldOut(20, uint64(seed))})
	}
	res, md := generate(t, sweep)
	t.Logf("headline: %s\nreport: %s", res.Headline, res.Out)
	groups := map[string]int{}
	for _, a := range res.Alphas {
		groups[a.Label] = len(a.runs)
	}
	if groups[ReferenceLabel] != 3 || groups["baseline: random search"] != 3 || groups["baseline: defaults"] != 3 {
		t.Fatalf("groups %v: the baselines must not join the reference", groups)
	}
	rs, def := crossRow(t, res, "baseline: random search"), crossRow(t, res, "baseline: defaults")
	if rs.Method != "random search" || rs.PairedSeeds != 3 || rs.DTail == nil || rs.DOwn != nil || !rs.DMean.Distinct() || math.Abs(rs.DMean.Est+0.1) > 1e-9 {
		t.Errorf("random search row: %+v, Δ mean %+v", rs, rs.DMean)
	}
	if def.PairedSeeds != 3 || def.DMean == nil || math.Abs(def.DMean.Est) > 1e-12 {
		t.Errorf("defaults row: %+v", def)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.Run, "baseline_defaults") && (w.Kind == WarnMissing || w.Kind == WarnGuard) {
			t.Errorf("scored-only baseline: %s", w)
		}
	}
	for _, c := range res.Comparisons {
		switch c.A {
		case "baseline: random search":
			if c.Confounded || strings.Join(c.Differs, ",") != "acquisition" {
				t.Errorf("random search vs reference: %+v", c)
			}
		case "baseline: defaults":
			if c.Confounded || !c.ScoredOnly || len(c.Differs) != 0 {
				t.Errorf("defaults vs reference: %+v", c)
			}
		}
	}
	if !strings.Contains(res.Headline, "Baselines against mean (risk-neutral), held-out lower tail (CVaR 0.1): defaults +0.000") ||
		!strings.Contains(res.Headline, "; random search −0.100") {
		t.Errorf("headline %q", res.Headline)
	}
	for _, s := range []string{"| baseline: random search | 3 |", "| baseline: defaults | 3 |", "scored only: no optimisation"} {
		if !strings.Contains(md, s) {
			t.Errorf("summary.md lacks %q:\n%s", s, md)
		}
	}
}
