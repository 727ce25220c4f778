package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"bohost/host/internal/num"
)

// Guards: what went wrong in the welding study's record (measured and
// model-predicted CVaR in one curve, a collapse at the last iteration cut
// off a figure, 21 distinct images in 100 iterations, runs that differed in
// alpha, initial design and feature set compared as one change) is made
// impossible or visible in every report (docs/sweeps.md, "Guards").

// WarnGuard is the Warning kind of a guard's finding; summary.md lists them
// in its Guards section and bohost report prints them.
const WarnGuard = "guard"

// Curve kinds and the convergence panels that hold them.
const (
	CurveMeasured  = "measured"        // values of evaluations that ran
	CurvePredicted = "model-predicted" // the GP's belief
	PanelPredicted = "model-predicted: posterior CVaR"
	PanelMeasured  = "measured: best observed CVaR"
	// LastIterationSeries marks each run's last iteration in every panel.
	LastIterationSeries = "last iteration of each run"
	// Sources of convergence curves.
	SourcePosteriorCVaR    = "iterations.jsonl posterior_cvar"
	SourceBestObservedCVaR = "iterations.jsonl best_observed_cvar"
)

// Curve is one curve (or set of markers) the report drew.
type Curve struct {
	Figure  string // "convergence"
	Panel   string // the panel's title, naming the kind
	Series  string // the legend entry
	Kind    string // CurveMeasured or CurvePredicted: every point of the curve is of this kind
	Source  string // the one field its values come from
	X, Y    []float64
	Markers bool // points, not a line
}

// Thresholds of the guards.
const (
	// GuardMinEvaluations: the environment guard looks at the acquisition's
	// evaluations (iteration >= 1) when there are at least this many, else
	// at all of them, and judges only runs with at least this many.
	GuardMinEvaluations = 20
	// GuardTop3Share: a run whose 3 most evaluated environments take more
	// than this share of its evaluations is dominated by a few (judged when
	// its pool of environments, the W set or else the list, has at least
	// GuardMinPool members: with fewer, 3 are a large part of it anyway).
	GuardTop3Share = 0.5
	GuardMinPool   = 10
	// GuardCollapse: a last-iteration drop of at least this fraction of the
	// previous value (and 0.05) is called out.
	GuardCollapse = 0.25
)

// EnvUse is how evenly a run spread its evaluations over environments
// (trials.jsonl env_id, else env_index).
type EnvUse struct {
	Phase       string     // "acquisition" (trials of iteration >= 1) or "all"
	Evaluations int        // trials counted
	Distinct    int        // distinct environments among them
	NW          int        // the W set's size (config.json n_w), 0 when unknown
	ListN       int        // the environment list's size (config.json env.n), 0 when unknown
	Top         []EnvCount // the most evaluated, at most 3, most first
	Top3Share   float64    // their share of Evaluations
	Dominated   bool
	Why         string // why Dominated
}

// EnvCount is one environment's number of evaluations.
type EnvCount struct {
	Env string
	N   int
}

// Comparison is two groups of runs the report compares (a cross-evaluation
// row against its baseline), and the config.json settings they differ in.
type Comparison struct {
	A, B       string   // labels: the row and its baseline
	Differs    []string // settings that differ ("alpha", "n_initial", "objective.airline.evaluator.metric", ...)
	Details    []string // "n_initial: 4 vs 10"
	Confounded bool     // more than one setting differs (alpha and its convention count as one), or one the runs do not declare
	// ScoredOnly: A is a baseline that only scored fixed parameters (no
	// optimisation), compared on the data and objective settings alone.
	ScoredOnly bool
}

// envUse computes a run's EnvUse; nil when its environments are continuous
// or its trials name none.
func envUse(r *Run) *EnvUse {
	if r.Config != nil && r.Config.Env.Kind == "box" {
		return nil
	}
	byID := false
	for _, t := range r.Trials {
		byID = byID || t.EnvID != ""
	}
	key := func(t Trial) string {
		if byID && t.EnvID != "" {
			return t.EnvID
		}
		return "#" + strconv.Itoa(t.EnvIndex)
	}
	u := &EnvUse{Phase: "acquisition"}
	if r.Config != nil {
		u.NW, u.ListN = r.Config.NW, r.Config.Env.N
	}
	var ts []Trial
	for _, t := range r.Trials {
		if t.Iteration >= 1 {
			ts = append(ts, t)
		}
	}
	if len(ts) < GuardMinEvaluations {
		ts, u.Phase = r.Trials, "all"
	}
	if len(ts) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, t := range ts {
		count[key(t)]++
	}
	u.Evaluations, u.Distinct = len(ts), len(count)
	for e, n := range count {
		u.Top = append(u.Top, EnvCount{e, n})
	}
	sort.Slice(u.Top, func(i, j int) bool {
		if u.Top[i].N != u.Top[j].N {
			return u.Top[i].N > u.Top[j].N
		}
		return u.Top[i].Env < u.Top[j].Env
	})
	if len(u.Top) > 3 {
		u.Top = u.Top[:3]
	}
	top := 0
	for _, c := range u.Top {
		top += c.N
	}
	u.Top3Share = float64(top) / float64(u.Evaluations)
	pool := u.NW
	if pool == 0 {
		pool = u.ListN
	}
	if u.Evaluations < GuardMinEvaluations {
		return u
	}
	switch {
	case pool >= GuardMinPool && u.Top3Share > GuardTop3Share:
		u.Dominated = true
		u.Why = fmt.Sprintf("the 3 most evaluated environments took %.0f %% of its %d evaluations (%s)", 100*u.Top3Share, u.Evaluations, u.topText())
	case u.NW > 0 && u.Evaluations >= 2*u.NW && 2*u.Distinct < u.NW:
		u.Dominated = true
		u.Why = fmt.Sprintf("it evaluated %d distinct environments in %d evaluations, fewer than half of its W set's %d", u.Distinct, u.Evaluations, u.NW)
	}
	return u
}

func (u *EnvUse) topText() string {
	var s []string
	for _, c := range u.Top {
		s = append(s, fmt.Sprintf("%s ×%d", c.Env, c.N))
	}
	return strings.Join(s, ", ")
}

// finalIteration checks that a run's last iteration is what its curves end
// on: a last iteration without the value, or a sharp drop at the end, is a
// guard finding (the figure draws it and marks it either way).
func (g *gen) finalIteration(r *RunResult, ev []float64) {
	its := r.run.Iterations
	n := len(its)
	if n == 0 {
		return
	}
	last := its[n-1]
	for _, f := range []struct {
		name, kind string
		get        func(Iteration) *float64
	}{
		{"posterior_cvar", CurvePredicted, func(it Iteration) *float64 { return it.PosteriorCVaR }},
		{"best_observed_cvar", CurveMeasured, func(it Iteration) *float64 { return it.BestObservedCVaR }},
	} {
		prev := -1
		for i := n - 2; i >= 0; i-- {
			if f.get(its[i]) != nil && num.Finite(ev[i]) {
				prev = i
				break
			}
		}
		v := f.get(last)
		switch {
		case prev < 0:
		case v == nil || !num.Finite(ev[n-1]):
			g.warn(r.Name, WarnGuard, "iterations.jsonl", "the last iteration (%d) has no %s: its %s curve ends at iteration %d", last.Iteration, f.name, f.kind, its[prev].Iteration)
		default:
			p := *f.get(its[prev])
			if drop := p - *v; drop >= 0.05 && drop >= GuardCollapse*math.Abs(p) {
				g.warn(r.Name, WarnGuard, "iterations.jsonl", "%s (%s) fell from %s to %s at the last iteration (%d); drawn and marked in convergence", f.name, f.kind, fmtNum(p), fmtNum(*v), last.Iteration)
			}
		}
	}
}

// guards computes the environment use of every run and the settings each
// comparison differs in, and records the findings as WarnGuard warnings.
func (g *gen) guards() error {
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			r.Envs = envUse(r.run)
			if r.Envs != nil && r.Envs.Dominated {
				g.warn(r.Name, WarnGuard, "trials.jsonl", "a few environments dominate: %s; its CVaR rests on them", r.Envs.Why)
			}
		}
		srcs := map[string]int{}
		for _, r := range a.runs {
			srcs[r.FinalSource]++
		}
		if srcs[SourceFinalEval] > 0 && srcs[SourcePosterior] > 0 {
			g.warn("", WarnGuard, "summary.json", "%s: its final CVaR and mean average %d measured final evaluations with %d model posteriors (runs without final_eval); the source column of the per-run table says which is which",
				a.Label, srcs[SourceFinalEval], srcs[SourcePosterior])
		}
	}
	g.compare()
	return nil
}

// compare lists the comparisons the report makes (each cross-evaluation row
// against its baseline, else each alpha group against the first) and the
// settings they differ in; more than one is confounded.
func (g *gen) compare() {
	type pair struct {
		a, b   *AlphaResult
		la, lb string
	}
	var ps []pair
	c := g.res.Cross
	var baseGroup *AlphaResult
	if c != nil {
		for _, row := range c.Rows {
			if row.Baseline {
				baseGroup = row.group
			}
		}
	}
	if baseGroup != nil {
		for _, row := range c.Rows {
			if !row.Baseline && row.group != nil {
				ps = append(ps, pair{row.group, baseGroup, row.Label, c.Baseline})
			}
		}
	} else if len(g.res.Alphas) > 1 {
		for _, a := range g.res.Alphas[1:] {
			ps = append(ps, pair{a, g.res.Alphas[0], a.Label, g.res.Alphas[0].Label})
		}
	}
	for _, p := range ps {
		cmp := Comparison{A: p.la, B: p.lb}
		diff := map[string]string{}
		declared := map[string]bool{}
		for _, r := range append(append([]*RunResult(nil), p.a.runs...), p.b.runs...) {
			if sw := r.run.sweep(); sw != nil {
				for _, v := range sw.Varies {
					declared[v] = true
				}
			}
			cmp.ScoredOnly = cmp.ScoredOnly || (r.run.ScoredOnly && slices.Contains(p.a.runs, r))
		}
		bySeed := map[int64]*RunResult{}
		for _, r := range p.b.runs {
			if _, ok := bySeed[r.Seed]; !ok {
				bySeed[r.Seed] = r
			}
		}
		for _, r := range p.a.runs {
			other := bySeed[r.Seed]
			if other == nil && len(p.b.runs) > 0 {
				other = p.b.runs[0]
			}
			if other == nil {
				continue
			}
			for k, d := range settingDiff(settingsOf(r.run.ConfigRaw), settingsOf(other.run.ConfigRaw)) {
				if cmp.ScoredOnly && !strings.HasPrefix(k, "objective") && !strings.HasPrefix(k, "data") {
					continue // no optimiser: only what was scored, and on what, must match
				}
				if _, ok := diff[k]; !ok {
					diff[k] = d
				}
			}
		}
		intended := 0
		for k := range diff {
			cmp.Differs = append(cmp.Differs, k)
			if k == "alpha" || k == "convention" {
				intended = 1
			}
		}
		sort.Strings(cmp.Differs)
		for _, k := range cmp.Differs {
			cmp.Details = append(cmp.Details, k+": "+diff[k])
		}
		n := len(cmp.Differs)
		if diff["alpha"] != "" && diff["convention"] != "" {
			n-- // one change of risk level, spelled in two conventions
		}
		cmp.Confounded = n > 1 || (n == 1 && intended == 0 && p.a.Alpha != p.b.Alpha)
		if len(declared) > 0 || cmp.ScoredOnly {
			// The runs say what they vary (a baseline: the acquisition, or
			// no optimisation at all): anything else differing confounds.
			cmp.Confounded = false
			for _, k := range cmp.Differs {
				if !declared[k] && k != "alpha" && k != "convention" {
					cmp.Confounded = true
				}
			}
		}
		g.res.Comparisons = append(g.res.Comparisons, cmp)
		if c != nil {
			for _, row := range c.Rows {
				if row.group == p.a {
					row.Differs, row.Confounded = cmp.Differs, cmp.Confounded
				}
			}
		}
		if cmp.Confounded {
			g.warn("", WarnGuard, "config.json", "confounded comparison: %s and %s differ in %d settings (%s), so a difference between them is not the effect of one change",
				p.la, p.lb, len(cmp.Differs), strings.Join(cmp.Details, "; "))
		}
	}
	if c != nil && c.Sentence != "" {
		var conf []string
		for _, row := range c.Rows {
			if row.Confounded {
				conf = append(conf, row.Label)
			}
		}
		if len(conf) > 0 {
			c.Sentence = fmt.Sprintf("Confounded: %s differ from %s in more than one setting (see Guards). ", strings.Join(conf, ", "), c.Baseline) + c.Sentence
		}
	}
}

// ignoredSettings are config.json keys that do not change what a run
// computes, or that vary by design within a sweep (seeds pair runs; sweep
// is free-form bookkeeping; the rest are resources and bookkeeping).
var ignoredSettings = map[string]bool{
	"seed": true, "sweep": true, "bohost_version": true, "format": true, "workers": true, "in_flight": true, "schedule": true,
	"timeout_s": true, "checkpoint_every": true, "max_rss": true, "max_rss_bytes": true, "faults": true,
	"retries": true, "retry_fallback": true, "max_consecutive_failures": true, "worker_env": true,
}

// settingsOf flattens config.json into settings: dotted paths to leaves
// (arrays are leaves: the space is one setting), ignored keys and every
// seed left out (with or without the "optimizer." prefix). Values are their
// JSON.
func settingsOf(raw json.RawMessage) map[string]string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, x := range m {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x)
			}
			return
		}
		parts := strings.Split(settingName(path), ".")
		if ignoredSettings[parts[0]] || parts[len(parts)-1] == "seed" {
			return
		}
		b, _ := json.Marshal(v)
		out[path] = string(b)
	}
	walk("", v)
	return out
}

// settingName is the setting a config.json path belongs to: config.json
// repeats the optimiser's summary at the top, so "optimizer.alpha" and
// "alpha" are one setting.
func settingName(path string) string { return strings.TrimPrefix(path, "optimizer.") }

// settingDiff returns the settings whose values differ, each with "a vs b"
// (the first differing path of the setting, in path order).
func settingDiff(a, b map[string]string) map[string]string {
	short := func(s string) string {
		if s == "" {
			return "absent"
		}
		if len(s) > 40 {
			return s[:37] + "..."
		}
		return s
	}
	paths := map[string]bool{}
	for k := range a {
		paths[k] = true
	}
	for k := range b {
		paths[k] = true
	}
	var sorted []string
	for k := range paths {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	out := map[string]string{}
	for _, k := range sorted {
		if va, vb := a[k], b[k]; va != vb {
			if name := settingName(k); out[name] == "" {
				out[name] = short(va) + " vs " + short(vb)
			}
		}
	}
	return out
}

// guardsMarkdown writes summary.md's Guards section.
func (g *gen) guardsMarkdown(p func(string, ...any)) {
	p("## Guards\n\n")
	p("Checks against the welding study's failures (docs/sweeps.md, \"Guards\"). ")
	p("`convergence` draws model-predicted values (posterior CVaR) and measured values (best observed CVaR) in separate, labelled panels, never in one line, ")
	p("with each run's last iteration marked and no axis cut.\n\n")
	p("**Environments evaluated per run** (trials.jsonl; the acquisition's evaluations, iteration ≥ 1, when there are at least %d, else all): ", GuardMinEvaluations)
	p("a run is flagged when its 3 most evaluated environments take more than %.0f %% of its evaluations (with a W set of at least %d), ", 100*GuardTop3Share, GuardMinPool)
	p("or when it evaluated fewer than half of its W set's environments in at least twice as many evaluations.\n\n")
	p("| run | evaluations (phase) | distinct | W set (n_w) | list | most evaluated | top-3 share | |\n|---|---|---|---|---|---|---|---|\n")
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			u := r.Envs
			if u == nil {
				why := "continuous or no environments"
				if r.run.ScoredOnly {
					why = "scored only: no optimisation"
				}
				p("| %s | — | — | — | — | — | — | %s |\n", mdEscape(r.Name), why)
				continue
			}
			flag := "ok"
			if u.Evaluations < GuardMinEvaluations {
				flag = "too few to judge"
			}
			if u.Dominated {
				flag = "**dominated by a few**"
			}
			p("| %s | %d (%s) | %d | %s | %s | %s | %.0f %% | %s |\n", mdEscape(r.Name), u.Evaluations, u.Phase, u.Distinct,
				orDash(u.NW), orDash(u.ListN), mdEscape(u.topText()), 100*u.Top3Share, flag)
		}
	}
	if len(g.res.Comparisons) > 0 {
		p("\n**Comparisons** (config.json, seed for seed; seeds, `sweep` and resources left out): more than one setting changed is confounded.\n\n")
		p("| compared | with | settings that differ | |\n|---|---|---|---|\n")
		for _, c := range g.res.Comparisons {
			v := "one change"
			if c.Confounded {
				v = "**confounded**"
			}
			if len(c.Differs) == 0 {
				v = "no difference in config.json"
			}
			if c.ScoredOnly {
				v += " (scored only: its data and objective compared)"
			}
			p("| %s | %s | %s | %s |\n", mdEscape(c.A), mdEscape(c.B), mdEscape(strings.Join(c.Details, "; ")), v)
		}
	}
	p("\n**Findings**\n\n")
	n := 0
	for _, w := range g.res.Warnings {
		if w.Kind == WarnGuard {
			p("- %s\n", mdEscape(w.String()))
			n++
		}
	}
	if n == 0 {
		p("None.\n")
	}
	p("\n")
}

func orDash(n int) string {
	if n <= 0 {
		return "—"
	}
	return strconv.Itoa(n)
}
