package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"bohost/host/internal/num"
)

// Sources of a run's final values.
const (
	SourceFinalEval = "final_eval"     // summary.json final_eval: the recommended x scored on every environment
	SourcePosterior = "last_iteration" // iterations.jsonl's last posterior_cvar / posterior_mean (the model's belief)
	SourceNone      = "none"
)

// ReferenceLabel names the risk-neutral reference (the mean objective,
// alpha 1 under the bohost convention) in every table and figure.
const ReferenceLabel = "mean (risk-neutral)"

// BaselinePrefix starts a baseline group's label: "baseline: random search".
const BaselinePrefix = "baseline: "

// RunResult is the per-run record of the report (one row of runs.csv and of
// results.json). Unknown numbers are NaN (null in JSON, empty in CSV).
type RunResult struct {
	Name        string
	Dir         string
	Alpha       float64
	Convention  string
	Seed        int64
	Reference   bool   // the risk-neutral reference (Run.Reference)
	Baseline    string // a baseline's name (Run.Baseline), "" otherwise
	Status      string // summary.json status, or "incomplete" without one
	FinalCVaR   float64
	FinalMean   float64
	FinalSource string // SourceFinalEval, SourcePosterior or SourceNone
	Lower10     float64
	CVaR10      float64   // CVaR 0.1 (bohost) of Scores: the same lower-tail measure for every run
	Scores      []float64 // final_eval.scores (non-null ones)
	Evaluations int
	Iterations  int
	Failures    int
	WallS       float64
	RecX        []float64 // recommended x in the space's units, one per dimension
	Deaths      []float64 // elapsed_s of worker deaths
	Envs        *EnvUse   // how evenly it spread its evaluations over environments (nil: continuous or none)

	run *Run
}

// AlphaResult aggregates the runs of one (convention, alpha) over seeds.
type AlphaResult struct {
	Alpha       float64
	Convention  string
	Reference   bool   // the risk-neutral reference's runs
	Baseline    string // a baseline's name ("random search"): its runs form a group of their own
	Label       string // e.g. "α = 0.1", ReferenceLabel, or "baseline: random search"
	Seeds       []int64
	FinalCVaR   Stat
	FinalMean   Stat
	Lower10     Stat
	CVaR10      Stat
	Evaluations Stat
	Failures    Stat
	WallS       Stat
	RecX        []Stat
	FinalSource string    // SourceFinalEval, SourcePosterior, "mixed" or SourceNone
	Scores      []float64 // final_eval.scores pooled over seeds

	runs []*RunResult
}

// dims returns the names of the space's dimensions, from the first run with a
// config space, and warns when runs disagree.
func dims(runs []*Run) (names []string, space *Space, warns []Warning) {
	for _, r := range runs {
		if r.Config == nil || len(r.Config.Space.Names) == 0 {
			continue
		}
		if names == nil {
			names = r.Config.Space.Names
			space = &r.Config.Space
			continue
		}
		if strings.Join(names, ",") != strings.Join(r.Config.Space.Names, ",") {
			warns = append(warns, Warning{Run: r.Name, Kind: WarnNote, File: "config.json",
				Msg: fmt.Sprintf("space names %v differ from %v of the other runs; parameter figures use the first", r.Config.Space.Names, names)})
		}
	}
	if names == nil {
		// No config space anywhere: name dimensions x1…xd from the longest vector.
		d := 0
		for _, r := range runs {
			for _, it := range r.Iterations {
				d = max(d, len(it.RecommendedXVec))
			}
			if r.Summary != nil {
				d = max(d, len(r.Summary.RecommendedXVec))
			}
		}
		for i := range d {
			names = append(names, fmt.Sprintf("x%d", i+1))
		}
	}
	return names, space, warns
}

// vec returns x as a vector over names: from vec when it has the right
// length, else from the map (non-numbers become NaN), else nil.
func vec(v []float64, m map[string]any, names []string) []float64 {
	if len(v) > 0 && (len(names) == 0 || len(v) == len(names)) {
		return v
	}
	if len(m) == 0 || len(names) == 0 {
		return nil
	}
	out := make([]float64, len(names))
	for i, n := range names {
		out[i] = math.NaN()
		if f, ok := m[n].(float64); ok {
			out[i] = f
		}
	}
	return out
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// summarise derives a run's record and adds warnings about fallbacks.
func summarise(r *Run, names []string) *RunResult {
	nan := math.NaN()
	res := &RunResult{Name: r.Name, Dir: r.Dir, Alpha: r.Alpha, Convention: r.Convention, Seed: r.Seed, Reference: r.Reference, Baseline: r.Baseline,
		Status: "incomplete", FinalCVaR: nan, FinalMean: nan, FinalSource: SourceNone, Lower10: nan, CVaR10: nan, WallS: nan, run: r}
	s := r.Summary
	if s != nil && s.Status != "" {
		res.Status = s.Status
	}

	// Final values.
	var lastIt *Iteration
	if n := len(r.Iterations); n > 0 {
		lastIt = &r.Iterations[n-1]
	}
	if s != nil && s.FinalEval != nil && s.FinalEval.CVaR != nil {
		fe := s.FinalEval
		res.FinalCVaR, res.FinalMean, res.FinalSource = *fe.CVaR, val(fe.Mean), SourceFinalEval
		nulls := 0
		for _, p := range fe.Scores {
			if p == nil {
				nulls++
				continue
			}
			res.Scores = append(res.Scores, *p)
		}
		if nulls > 0 {
			r.warn(WarnNote, "summary.json", 0, "final_eval.scores has %d null entries (left out of the score distribution)", nulls)
		}
		if len(res.Scores) == 0 {
			r.warn(WarnMissing, "summary.json", 0, "final_eval.scores is empty: no score distribution or lower-10%% score")
		}
		if fe.Mean == nil && len(res.Scores) > 0 {
			res.FinalMean = Describe(res.Scores).Mean
			r.warn(WarnFallback, "summary.json", 0, "final_eval.mean missing; using the mean of final_eval.scores")
		}
		res.Lower10 = Quantile(res.Scores, 0.1)
		res.CVaR10 = cvarOf(res.Scores, 0.1)
	} else {
		where := "summary.json has no final_eval"
		if s == nil {
			where = "no summary.json"
		}
		if lastIt != nil && lastIt.PosteriorCVaR != nil {
			res.FinalCVaR, res.FinalMean, res.FinalSource = *lastIt.PosteriorCVaR, val(lastIt.PosteriorMean), SourcePosterior
			r.warn(WarnFallback, "summary.json", 0, "%s; final CVaR and mean are the last iteration's (%d) posterior values, not a final evaluation", where, lastIt.Iteration)
		} else {
			r.warn(WarnMissing, "summary.json", 0, "%s and no iteration with posterior_cvar: no final values", where)
		}
	}

	// Counts.
	res.Evaluations = len(r.Trials)
	if s != nil && s.Trials != nil {
		res.Evaluations = *s.Trials
	}
	res.Iterations = len(r.Iterations)
	if s != nil && s.Iterations != nil {
		res.Iterations = *s.Iterations
	} else if lastIt != nil {
		res.Iterations = max(res.Iterations, lastIt.Iteration)
	}
	if s != nil && s.Failures != nil {
		for _, n := range s.Failures {
			res.Failures += n
		}
	} else {
		for _, t := range r.Trials {
			if t.Status != "" && t.Status != "ok" {
				res.Failures++
			}
		}
	}

	// Wall time: summary, else the latest elapsed_s anywhere.
	if s != nil && s.WallS != nil {
		res.WallS = *s.WallS
	} else {
		w := math.NaN()
		up := func(v float64) {
			if num.Finite(v) && (math.IsNaN(w) || v > w) {
				w = v
			}
		}
		for _, t := range r.Trials {
			up(t.ElapsedS)
		}
		for _, it := range r.Iterations {
			up(it.ElapsedS)
		}
		for _, e := range r.Events {
			up(e.ElapsedS)
		}
		for _, v := range r.Monitor.Col("elapsed_s") {
			up(v)
		}
		res.WallS = w
	}

	// Recommended x.
	if s != nil {
		res.RecX = vec(s.RecommendedXVec, s.RecommendedX, names)
	}
	if res.RecX == nil && lastIt != nil {
		res.RecX = vec(lastIt.RecommendedXVec, lastIt.RecommendedX, names)
		if res.RecX != nil {
			r.warn(WarnFallback, "summary.json", 0, "recommended x taken from the last iteration (%d)", lastIt.Iteration)
		}
	}

	// Worker deaths: events.jsonl, else trials with a death record.
	for _, e := range r.Events {
		if e.Event == "worker_death" {
			res.Deaths = append(res.Deaths, e.ElapsedS)
		}
	}
	if len(res.Deaths) == 0 {
		for _, t := range r.Trials {
			if t.Death != nil || t.Status == "crashed" || t.Status == "oom" {
				res.Deaths = append(res.Deaths, t.ElapsedS)
			}
		}
	}
	return res
}

// group collects runs by (convention, alpha), sorted by convention then alpha.
func group(runs []*RunResult, dimN int) []*AlphaResult {
	type key struct {
		conv     string
		alpha    float64
		baseline string
	}
	m := map[key]*AlphaResult{}
	var out []*AlphaResult
	convs := map[string]bool{}
	for _, r := range runs {
		k := key{r.Convention, r.Alpha, r.Baseline}
		if math.IsNaN(r.Alpha) {
			k.alpha = math.Inf(1) // NaN != NaN: give the unknown group one key
		}
		g, ok := m[k]
		if !ok {
			g = &AlphaResult{Alpha: r.Alpha, Convention: r.Convention, Baseline: r.Baseline}
			m[k] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
		if !r.Reference && r.Baseline == "" {
			convs[r.Convention] = true // the reference's convention is always bohost
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Baseline == "") != (out[j].Baseline == "") {
			return out[i].Baseline == "" // baselines after the alphas
		}
		if out[i].Baseline != out[j].Baseline {
			return out[i].Baseline < out[j].Baseline
		}
		if out[i].Convention != out[j].Convention {
			return out[i].Convention < out[j].Convention
		}
		return lessNaNLast(out[i].Alpha, out[j].Alpha)
	})
	for _, g := range out {
		sort.Slice(g.runs, func(i, j int) bool {
			if g.runs[i].Seed != g.runs[j].Seed {
				return g.runs[i].Seed < g.runs[j].Seed
			}
			return g.runs[i].Name < g.runs[j].Name
		})
		g.Reference = len(g.runs) > 0 && g.runs[0].Reference
		g.Label = "α = " + fmtAlpha(g.Alpha)
		if len(convs) > 1 {
			g.Label += " (" + g.Convention + ")"
		}
		if g.Reference {
			g.Label = ReferenceLabel
		}
		if g.Baseline != "" {
			g.Label = BaselinePrefix + g.Baseline
		}
		var cv, mean, lo, c10, ev, fail, wall []float64
		sources := map[string]int{}
		recx := make([][]float64, dimN)
		for _, r := range g.runs {
			g.Seeds = append(g.Seeds, r.Seed)
			cv = append(cv, r.FinalCVaR)
			mean = append(mean, r.FinalMean)
			lo = append(lo, r.Lower10)
			c10 = append(c10, r.CVaR10)
			ev = append(ev, float64(r.Evaluations))
			fail = append(fail, float64(r.Failures))
			wall = append(wall, r.WallS)
			if r.FinalSource != SourceNone {
				sources[r.FinalSource]++
			}
			g.Scores = append(g.Scores, r.Scores...)
			for d := range recx {
				v := math.NaN()
				if d < len(r.RecX) {
					v = r.RecX[d]
				}
				recx[d] = append(recx[d], v)
			}
		}
		g.FinalCVaR, g.FinalMean, g.Lower10, g.CVaR10 = Describe(cv), Describe(mean), Describe(lo), Describe(c10)
		g.Evaluations, g.Failures, g.WallS = Describe(ev), Describe(fail), Describe(wall)
		for _, xs := range recx {
			g.RecX = append(g.RecX, Describe(xs))
		}
		switch {
		case len(sources) == 0:
			g.FinalSource = SourceNone
		case len(sources) > 1:
			g.FinalSource = "mixed"
		default:
			for s := range sources {
				g.FinalSource = s
			}
		}
	}
	return out
}

func lessNaNLast(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	return a < b
}

// name is the group's value in an "alpha" column: its alpha, or
// ReferenceLabel for the reference (never "alpha 1").
func (a *AlphaResult) name() string {
	if a.Reference {
		return ReferenceLabel
	}
	if a.Baseline != "" {
		return a.Label
	}
	return fmtAlpha(a.Alpha)
}

// short is the group's label in a figure: "α=0.1" or ReferenceLabel.
func (a *AlphaResult) short() string {
	if a.Reference {
		return ReferenceLabel
	}
	if a.Baseline != "" {
		return a.Baseline
	}
	return "α=" + fmtAlpha(a.Alpha)
}

func fmtAlpha(a float64) string {
	if math.IsNaN(a) {
		return "?"
	}
	return fmt.Sprintf("%g", a)
}

// normalise maps v of dimension d to [0, 1] over the space bounds (in log
// space for a log-scaled dimension); NaN when the bounds are unusable.
func normalise(space *Space, d int, v float64) float64 {
	if space == nil || d >= len(space.Lo) || d >= len(space.Hi) {
		return math.NaN()
	}
	lo, hi := space.Lo[d], space.Hi[d]
	scale := ""
	switch {
	case len(space.Scale) == 1:
		scale = space.Scale[0]
	case d < len(space.Scale):
		scale = space.Scale[d]
	}
	if scale == "log" && lo > 0 && hi > 0 && v > 0 {
		lo, hi, v = math.Log(lo), math.Log(hi), math.Log(v)
	}
	if !(hi > lo) {
		return math.NaN()
	}
	return (v - lo) / (hi - lo)
}
