package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteJSONL replaces a run's file with one JSON line per record.
func rewriteJSONL(t *testing.T, path string, recs []map[string]any) {
	t.Helper()
	var lines []string
	for _, r := range recs {
		lines = append(lines, jsonLineOf(t, r))
	}
	writeText(t, path, strings.Join(lines, "\n")+"\n")
}

// editConfig changes config.json of a run directory.
func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	var c map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("config.json: %v", err)
	}
	edit(c)
	writeJSON(t, filepath.Join(dir, "config.json"), c)
}

func guardWarnings(res *Result, run, substr string) []Warning {
	var out []Warning
	for _, w := range res.Warnings {
		if w.Kind == WarnGuard && (run == "*" || w.Run == run) && strings.Contains(w.Msg, substr) {
			out = append(out, w)
		}
	}
	return out
}

// iterations writes n iterations: n_trials 6+i, posterior and best observed
// CVaR from the functions (nil: null).
func iterations(n int, post, obs func(i int) any) []map[string]any {
	var recs []map[string]any
	for i := 1; i <= n; i++ {
		recs = append(recs, map[string]any{"iteration": i, "n_trials": 6 + i, "elapsed_s": float64(i),
			"posterior_cvar": post(i), "best_observed_cvar": obs(i), "recommended_x_vec": []float64{0.1, 1, 10}})
	}
	return recs
}

// TestGuardCurvesMeasuredVsPredicted: the study mixed measured values
// (initial design) and GP predictions (BO phase) in one curve. Here a run
// reports best observed CVaR from iteration 1 and posterior CVaR only from
// iteration 4: each convergence curve holds values of one kind and one
// field only, its panel and axis say which, and the figure's text labels
// both kinds.
func TestGuardCurvesMeasuredVsPredicted(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "sweep")
	w := writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: 1, iterations: 8})
	post := func(i int) any {
		if i < 4 {
			return nil
		}
		return 0.5 + 0.01*float64(i)
	}
	obs := func(i int) any { return 0.2 + 0.02*float64(i) }
	rewriteJSONL(t, filepath.Join(w.dir, "iterations.jsonl"), iterations(8, post, obs))
	res, err := Generate(t.Context(), []string{sweep}, Options{Out: filepath.Join(t.TempDir(), "r"), Formats: []string{"svg"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, c := range res.Curves {
		if c.Figure != "convergence" {
			continue
		}
		want := map[string]func(int) any{CurvePredicted: post, CurveMeasured: obs}[c.Kind]
		src := map[string]string{CurvePredicted: SourcePosteriorCVaR, CurveMeasured: SourceBestObservedCVaR}[c.Kind]
		if want == nil || c.Source != src || !strings.Contains(c.Panel, c.Kind) {
			t.Errorf("curve %+v: kind, source and panel title disagree", c)
			continue
		}
		// Every point is the field's value at that iteration: x = n_trials = 6 + i.
		for k, x := range c.X {
			v := want(int(x) - 6)
			if v == nil || math.Abs(v.(float64)-c.Y[k]) > 1e-12 {
				t.Errorf("%s curve %q has (%g, %g), not the run's %s there (%v)", c.Kind, c.Series, x, c.Y[k], src, v)
			}
		}
		if !c.Markers {
			lines++
			if c.Kind == CurvePredicted && c.X[0] != 10 {
				t.Errorf("the model-predicted curve starts at %g evaluations, want 10 (iteration 4, its first posterior)", c.X[0])
			}
		}
	}
	if lines != 2 {
		t.Errorf("%d convergence lines, want 2 (one per kind): %+v", lines, res.Curves)
	}
	svg, err := os.ReadFile(filepath.Join(res.Out, "convergence.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"model-predicted", "measured", "posterior CVaR", "best observed CVaR"} {
		if !strings.Contains(string(svg), s) {
			t.Errorf("convergence.svg does not say %q", s)
		}
	}
}

// TestGuardDistinctEnvironments: the study's acquisition evaluated 21
// distinct images in 100 iterations, one 39 times. A run whose acquisition
// spends 30 of 40 evaluations on 3 of its 16 environments is flagged (a
// guard warning, the Guards table, runs.csv); a run that spreads them is not.
func TestGuardDistinctEnvironments(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "sweep")
	for seed, envs := range map[int64]func(i int) int{
		1: func(i int) int { // 20× env 0, 5× env 1, 5× env 2, then 10 others
			switch {
			case i < 20:
				return 0
			case i < 25:
				return 1
			case i < 30:
				return 2
			}
			return i - 27
		},
		2: func(i int) int { return i % 16 },
	} {
		w := writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: seed, iterations: 40, nW: 16})
		var trials []map[string]any
		for i := 0; i < 40; i++ {
			e := envs(i)
			trials = append(trials, map[string]any{"trial": i + 1, "iteration": i + 1, "elapsed_s": float64(i), "env_index": e,
				"env_id": fmt.Sprintf("IMG%02d", e), "status": "ok", "y": 0.5, "told": 0.5, "x_vec": []float64{0.1, 1, 10}})
		}
		// The initial design (iteration 0) covers every environment: it is
		// not the acquisition's choice and is left out.
		for e := 0; e < 16; e++ {
			trials = append([]map[string]any{{"trial": 0, "iteration": 0, "env_index": e, "env_id": fmt.Sprintf("IMG%02d", e), "status": "ok", "y": 0.4}}, trials...)
		}
		for i := range trials {
			trials[i]["trial"] = i + 1
		}
		rewriteJSONL(t, filepath.Join(w.dir, "trials.jsonl"), trials)
	}
	res, md := generate(t, sweep)
	var bad, good *RunResult
	for _, r := range res.Runs {
		switch r.Seed {
		case 1:
			bad = r
		case 2:
			good = r
		}
	}
	if bad.Envs == nil || !bad.Envs.Dominated || bad.Envs.Evaluations != 40 || bad.Envs.Phase != "acquisition" ||
		bad.Envs.Distinct != 13 || math.Abs(bad.Envs.Top3Share-0.75) > 1e-12 || bad.Envs.Top[0] != (EnvCount{"IMG00", 20}) || bad.Envs.NW != 16 {
		t.Errorf("dominated run: %+v", bad.Envs)
	}
	if good.Envs == nil || good.Envs.Dominated || good.Envs.Distinct != 16 {
		t.Errorf("spread run: %+v", good.Envs)
	}
	if ws := guardWarnings(res, bad.Name, "took 75 % of its 40 evaluations (IMG00 ×20"); len(ws) != 1 {
		t.Errorf("no guard warning for %s:\n%s", bad.Name, warningsText(res.Warnings))
	}
	if ws := guardWarnings(res, good.Name, ""); len(ws) != 0 {
		t.Errorf("guard warnings for the spread run: %v", ws)
	}
	if !strings.Contains(md, "| "+bad.Name+" | 40 (acquisition) | 13 | 16 |") || !strings.Contains(md, "**dominated by a few**") {
		t.Errorf("summary.md's Guards section lacks the dominated run:\n%s", md)
	}
	rows := readCSV(t, filepath.Join(res.Out, "runs.csv"))
	for _, r := range rows {
		want := map[string]string{bad.Name: "13", good.Name: "16"}[r["run"]]
		if r["distinct_envs"] != want || (r["run"] == bad.Name) != (r["envs_dominated"] == "true") {
			t.Errorf("runs.csv %s: distinct_envs %q dominated %q", r["run"], r["distinct_envs"], r["envs_dominated"])
		}
	}
	// The second rule: 12 of a W set of 40 used evenly over 80 evaluations
	// (top-3 share 26 %, so only this rule fires).
	u := envUse(&Run{Config: &Config{NW: 40}, Trials: func() []Trial {
		var ts []Trial
		for i := 0; i < 80; i++ {
			ts = append(ts, Trial{Iteration: 1 + i, EnvIndex: i % 12})
		}
		return ts
	}()})
	if !u.Dominated || !strings.Contains(u.Why, "12 distinct environments in 80 evaluations, fewer than half of its W set's 40") {
		t.Errorf("12 of 40: %+v", u)
	}
	// Continuous environments have no identity to count.
	if u := envUse(&Run{Config: &Config{Env: EnvInfo{Kind: "box"}}, Trials: []Trial{{Iteration: 1}}}); u != nil {
		t.Errorf("box environments: %+v", u)
	}
}

// TestGuardFinalIterationDrawn: the study's last iteration collapsed (0.78
// → 0.40) and a hard-coded limit cut it from the figure. Here the curve
// ends on the last iteration's value, a marker shows it, a guard warning
// says it fell; a run whose last iteration lacks the value is called out.
func TestGuardFinalIterationDrawn(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "sweep")
	w := writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: 1, iterations: 30})
	rewriteJSONL(t, filepath.Join(w.dir, "iterations.jsonl"), iterations(30, func(i int) any {
		if i == 30 {
			return 0.40
		}
		return 0.78
	}, func(i int) any { return 0.3 }))
	w2 := writeFakeRun(t, sweep, fakeSpec{alpha: 0.5, seed: 1, iterations: 5})
	rewriteJSONL(t, filepath.Join(w2.dir, "iterations.jsonl"), iterations(5, func(i int) any {
		if i == 5 {
			return nil
		}
		return 0.6
	}, func(i int) any { return 0.3 }))
	res, md := generate(t, sweep)
	var line, marks *Curve
	for i, c := range res.Curves {
		if c.Kind == CurvePredicted && strings.HasPrefix(c.Series, "α = 0.1") {
			line = &res.Curves[i]
		}
		if c.Kind == CurvePredicted && c.Series == LastIterationSeries {
			marks = &res.Curves[i]
		}
	}
	if line == nil || marks == nil {
		t.Fatalf("curves: %+v", res.Curves)
	}
	if n := len(line.X); line.X[n-1] != 36 || line.Y[n-1] != 0.40 || line.Y[n-2] != 0.78 {
		t.Errorf("α = 0.1's curve ends at (%g, %g), want (36, 0.40) after 0.78", line.X[n-1], line.Y[n-1])
	}
	found := false
	for k := range marks.X {
		found = found || (marks.X[k] == 36 && marks.Y[k] == 0.40)
	}
	if !found {
		t.Errorf("no last-iteration marker at (36, 0.40): %+v", marks)
	}
	if ws := guardWarnings(res, "alpha_0.1/seed_1", "fell from 0.78 to 0.4 at the last iteration (30)"); len(ws) != 1 {
		t.Errorf("no collapse warning:\n%s", warningsText(res.Warnings))
	}
	if ws := guardWarnings(res, "alpha_0.5/seed_1", "the last iteration (5) has no posterior_cvar: its model-predicted curve ends at iteration 4"); len(ws) != 1 {
		t.Errorf("no missing-final warning:\n%s", warningsText(res.Warnings))
	}
	if !strings.Contains(md, "fell from 0.78 to 0.4") {
		t.Errorf("summary.md's Guards section lacks the collapse")
	}
}

// TestGuardConfounded: the study compared two runs that differed in
// alpha, the initial design size and the feature set as if one change. A
// sweep whose alpha 0.1 runs also changed n_initial and the environment list
// is flagged confounded (cross-evaluation column, Guards section, a warning,
// and the sentence at the top); alpha 0.5, which changed only alpha, is not.
func TestGuardConfounded(t *testing.T) {
	sweep := crossSweep(t, false, func(alpha float64, ref bool, seed int64) []float64 { return heldOut(20, uint64(seed)) })
	for seed := 1; seed <= 3; seed++ {
		editConfig(t, filepath.Join(sweep, "alpha_0.1", fmt.Sprintf("seed_%d", seed)), func(c map[string]any) {
			c["n_initial"] = 10
			c["env"] = map[string]any{"kind": "images", "n": 3, "features": []string{"brightness", "contrast"}}
			c["workers"] = 8 // resources are not a setting
		})
	}
	res, md := generate(t, sweep)
	a1, a5 := crossRow(t, res, "α = 0.1"), crossRow(t, res, "α = 0.5")
	if !a1.Confounded || strings.Join(a1.Differs, ",") != "alpha,env.features,n_initial" {
		t.Errorf("α = 0.1: confounded %v, differs %v", a1.Confounded, a1.Differs)
	}
	if a5.Confounded || strings.Join(a5.Differs, ",") != "alpha" {
		t.Errorf("α = 0.5: confounded %v, differs %v", a5.Confounded, a5.Differs)
	}
	if ws := guardWarnings(res, "*", "confounded comparison: α = 0.1 and mean (risk-neutral) differ in 3 settings (alpha: 0.1 vs 1; env.features: [\"brightness\",\"contrast\"] vs absent; n_initial: 10 vs 2)"); len(ws) != 1 {
		t.Errorf("no confounded warning:\n%s", warningsText(res.Warnings))
	}
	if !strings.HasPrefix(res.Headline, "Confounded: α = 0.1 differ from mean (risk-neutral) in more than one setting") {
		t.Errorf("headline %q", res.Headline)
	}
	for _, s := range []string{"**confounded**: alpha, env.features, n_initial", "| α = 0.5 | mean (risk-neutral) | alpha: 0.5 vs 1 | one change |"} {
		if !strings.Contains(md, s) {
			t.Errorf("summary.md lacks %q:\n%s", s, md)
		}
	}
	// Without a reference, each alpha is compared with the first group.
	clean := crossSweep(t, true, func(alpha float64, ref bool, seed int64) []float64 { return heldOut(20, uint64(seed)) })
	res, _ = generate(t, clean)
	for _, c := range res.Comparisons {
		if c.Confounded || strings.Join(c.Differs, ",") != "alpha" {
			t.Errorf("clean sweep: %+v", c)
		}
	}
	if len(res.Comparisons) != 1 || strings.HasPrefix(res.Headline, "Confounded") {
		t.Errorf("clean sweep: comparisons %+v, headline %q", res.Comparisons, res.Headline)
	}
}
