package report

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportNamesTheMetric: the report names the score's metric and r,
// from the trials' score records, in summary.md, the figures' axes and the
// headline; runs scored by different metrics are a guard finding.
func TestReportNamesTheMetric(t *testing.T) {
	trials := func(metric string, r, softR float64) []map[string]any {
		var out []map[string]any
		for i := 1; i <= 8; i++ {
			out = append(out, map[string]any{"trial": i, "iteration": i, "env_index": i % 3, "env_id": fmt.Sprintf("IMG%d", i%3), "status": "ok", "y": 0.5,
				"score": map[string]any{"f": 0.5, "metric": metric, "r": r, "soft_r": softR, "soft_lp": 0.5}})
		}
		return out
	}
	sweep := crossSweep(t, false, func(alpha float64, ref bool, seed int64) []float64 { return heldOut(20, uint64(seed)) })
	dirs, _ := filepath.Glob(filepath.Join(sweep, "*", "seed_*"))
	for _, d := range dirs {
		rewriteJSONL(t, filepath.Join(d, "trials.jsonl"), trials("soft_lp", 3, 20))
	}
	res, md := generate(t, sweep)
	for _, s := range []string{"Every score is **soft LP_r (r = 20 px)**"} {
		if !strings.Contains(md, s) {
			t.Errorf("summary.md lacks %q", s)
		}
	}
	if !strings.Contains(res.Headline, "CVaR 0.1 of per-image soft LP_r (r = 20 px)") {
		t.Errorf("headline %q", res.Headline)
	}
	if ws := guardWarnings(res, "*", "different metrics"); len(ws) != 0 {
		t.Errorf("one metric, yet: %v", ws)
	}
	// One alpha's runs scored F_r: a finding, and no single name.
	for _, d := range dirs {
		if strings.Contains(d, "alpha_0.5") {
			rewriteJSONL(t, filepath.Join(d, "trials.jsonl"), trials("f", 3, 20))
		}
	}
	res, md = generate(t, sweep)
	if ws := guardWarnings(res, "*", "runs were scored by different metrics, so their scores are not comparable: F_r (r = 3 px) (alpha_0.5/seed_1"); len(ws) != 1 {
		t.Errorf("no mixed-metric finding:\n%s", warningsText(res.Warnings))
	}
	if strings.Contains(md, "Every score is") {
		t.Errorf("summary.md names one metric for mixed runs")
	}
	// Trials without a metric (a Lua objective's own record): no name, no finding.
	if got := metricLabel(&Run{Trials: []Trial{{}, {}}}); got != "" {
		t.Errorf("no metric recorded: %q", got)
	}
	if got := metricLabel(&Run{Trials: []Trial{{Score: trialScore{Metric: "soft_lp", SoftR: 18}}, {Score: trialScore{Metric: "soft_lp", SoftR: 20}}}}); got != "soft LP_r (r = 18–20 px)" {
		t.Errorf("two sizes: %q", got)
	}
}
