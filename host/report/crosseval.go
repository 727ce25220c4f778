package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"

	"bohost/host/internal/num"
	"bohost/host/risk"
)

// Cross-evaluation: every recommendation (each alpha and the reference, each
// seed) scored on the same images, compared with the baseline image by image.
const (
	// TailLevel is the lower-tail measure every row is compared at: CVaR
	// 0.1 (the mean of the worst 10 % of images).
	TailLevel = 0.1
	// BootstrapB is the number of bootstrap replicates.
	BootstrapB = 4000
	// bootstrapSeed fixes the bootstrap's random stream: the report is
	// deterministic (each comparison's stream also depends on its alpha).
	bootstrapSeed = 0x15b0075
)

// Sources of the cross-evaluation's per-image scores.
const (
	CrossHoldout   = "holdout"    // holdout.json: the held-out split
	CrossFinalEval = "final_eval" // summary.json final_eval: the tuning images (in-sample)
)

// Diff is a paired difference, recommendation − baseline, averaged over the
// paired seeds, with its 95 % percentile bootstrap interval.
type Diff struct {
	Est, Lo, Hi float64
}

// Distinct reports whether the interval excludes zero.
func (d Diff) Distinct() bool { return d.Lo > 0 || d.Hi < 0 }

// CrossRow is one recommendation (an alpha or the reference) of the
// cross-evaluation: statistics of its per-seed scores on the common images.
type CrossRow struct {
	Label     string  // ReferenceLabel, "α = 0.1" or "baseline: random search"
	Method    string  // a baseline's name ("defaults", "random search"), "" for the reference and the alphas
	Alpha     float64 // as recorded
	Level     float64 // the tail fraction its objective averaged (1: the mean)
	Reference bool
	Baseline  bool // the row the others are compared with
	Seeds     []int64
	Mean      Stat   // held-out mean over images, over seeds
	CVaR      []Stat // CVaR at each of CrossEval.Levels, over seeds
	Worst     Stat   // worst image, over seeds

	PairedSeeds int   // seeds shared with the baseline
	DMean       *Diff // nil for the baseline or without paired seeds
	DTail       *Diff // CVaR at TailLevel
	DOwn        *Diff // CVaR at the row's own Level

	// Differs lists the config.json settings in which the row's runs differ
	// from the baseline's (seed for seed); Confounded when more than one
	// (guards.go).
	Differs    []string
	Confounded bool

	scores map[int64][]float64 // seed -> scores on CrossEval.Images
	tuning map[int64]float64   // seed -> mean of final_eval (the tuning images), when recorded
	group  *AlphaResult
}

// CrossEval is the report's cross-evaluation (Result.Cross).
type CrossEval struct {
	Source       string    // CrossHoldout or CrossFinalEval
	Split        string    // the held-out split ("" for final_eval)
	Score        string    // the score field ("f"), when recorded
	Metric       string    // what the score is, with its r ("soft LP_r (r = 20 px)"), from the trials; "" unknown
	Images       []string  // the env ids every included run was scored on
	Levels       []float64 // CVaR columns: the sweep's tail fractions and TailLevel
	HasReference bool      // the baseline is the risk-neutral reference
	Baseline     string    // the baseline row's label
	B            int       // bootstrap replicates
	Rows         []*CrossRow
	Sentence     string // the plain sentence at the top of summary.md
}

// level is the fraction of worst environments a group's objective averaged.
func level(a *AlphaResult) float64 {
	switch {
	case a.Baseline != "":
		return math.NaN() // not a risk level of the sweep: compared at the common measures only
	case a.Reference:
		return 1
	case a.Convention == string(risk.BoTorch):
		return 1 - a.Alpha
	}
	return a.Alpha
}

// cvarOf is CVaR at level (bohost convention) of the finite values; NaN when
// there are none.
func cvarOf(values []float64, level float64) float64 {
	var v []float64
	for _, x := range values {
		if num.Finite(x) {
			v = append(v, x)
		}
	}
	c, err := risk.CVaR(v, level, risk.Bohost)
	if err != nil {
		return math.NaN()
	}
	return c
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func worstOf(v []float64) float64 {
	w := math.Inf(1)
	for _, x := range v {
		w = math.Min(w, x)
	}
	return w
}

// PairedBootstrap estimates, for each statistic, the mean over seeds of
// stat(a[s]) − stat(b[s]) (a[s][i] and b[s][i]: two recommendations of seed
// s scored on image i) and its 95 % percentile interval from B bootstrap
// replicates. Each replicate resamples the seeds and the images with
// replacement, independently (seeds and images are crossed: one image
// resample is shared by every seed and both arms, so each difference stays
// paired image by image). rng fixes the replicates.
func PairedBootstrap(a, b [][]float64, stats []func([]float64) float64, B int, rng *rand.Rand) []Diff {
	ns := len(a)
	out := make([]Diff, len(stats))
	if ns == 0 || len(b) != ns || len(a[0]) == 0 {
		for i := range out {
			out[i] = Diff{math.NaN(), math.NaN(), math.NaN()}
		}
		return out
	}
	ni := len(a[0])
	est := func(seeds []int, imgs []int, k int, ba, bb []float64) float64 {
		d := 0.0
		for _, s := range seeds {
			for j, i := range imgs {
				ba[j], bb[j] = a[s][i], b[s][i]
			}
			d += stats[k](ba) - stats[k](bb)
		}
		return d / float64(len(seeds))
	}
	ba, bb := make([]float64, ni), make([]float64, ni)
	all, allImgs := make([]int, ns), make([]int, ni)
	for i := range all {
		all[i] = i
	}
	for i := range allImgs {
		allImgs[i] = i
	}
	reps := make([][]float64, len(stats))
	seeds, imgs := make([]int, ns), make([]int, ni)
	for range B {
		for i := range seeds {
			seeds[i] = rng.IntN(ns)
		}
		for i := range imgs {
			imgs[i] = rng.IntN(ni)
		}
		for k := range stats {
			reps[k] = append(reps[k], est(seeds, imgs, k, ba, bb))
		}
	}
	for k := range stats {
		out[k] = Diff{Est: est(all, allImgs, k, ba, bb), Lo: Quantile(reps[k], 0.025), Hi: Quantile(reps[k], 0.975)}
	}
	return out
}

// perImage returns a run's per-image scores by env id from src, and its
// data key (split and data hash) for holdout.json.
func perImage(r *RunResult, src string) (ids []string, scores map[string]float64, key string) {
	scores = map[string]float64{}
	add := func(envs []string, vals []*float64) {
		for i, id := range envs {
			if i < len(vals) && vals[i] != nil && num.Finite(*vals[i]) {
				if _, dup := scores[id]; !dup {
					ids = append(ids, id)
				}
				scores[id] = *vals[i]
			}
		}
	}
	switch src {
	case CrossHoldout:
		if h := r.run.Holdout; h != nil {
			add(h.EnvIDs, h.Scores)
			key = h.Split + " " + h.DataSHA256
		}
	default:
		if s := r.run.Summary; s != nil && s.FinalEval != nil && len(s.FinalEval.EnvIDs) == len(s.FinalEval.Scores) {
			add(s.FinalEval.EnvIDs, s.FinalEval.Scores)
		}
	}
	return ids, scores, key
}

// crossEval scores every recommendation on the common images and compares
// it with the baseline (the reference, else the largest alpha).
func (g *gen) crossEval() error {
	c := &CrossEval{B: BootstrapB, Metric: g.metric}
	g.res.Cross = c
	c.Source = CrossHoldout
	have := false
	for _, r := range g.res.Runs {
		have = have || r.run.Holdout != nil
	}
	if !have {
		c.Source = CrossFinalEval
		g.warn("", WarnNote, "holdout.json", "no run has held-out scores (holdout.json): the comparison uses final_eval, the tuning images (in-sample); scripts/holdout.lua scores a sweep's recommendations on held-out images")
	}

	// The runs, on one data set: the most common (split, data hash).
	type runScores struct {
		r      *RunResult
		ids    []string
		scores map[string]float64
	}
	var rs []runScores
	keys := map[string]int{}
	keyOf := map[*RunResult]string{}
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			ids, sc, key := perImage(r, c.Source)
			if len(ids) == 0 {
				continue
			}
			keys[key]++
			keyOf[r] = key
			rs = append(rs, runScores{r, ids, sc})
		}
	}
	best := ""
	for k, n := range keys {
		if n > keys[best] || (n == keys[best] && k < best) {
			best = k
		}
	}
	kept := rs[:0]
	for _, x := range rs {
		if keyOf[x.r] != best {
			g.warn(x.r.Name, WarnNote, "holdout.json", "scored on other images (split and data hash %q, most runs %q): left out of the cross-evaluation", keyOf[x.r], best)
			continue
		}
		kept = append(kept, x)
	}
	rs = kept
	if len(rs) == 0 {
		c.Sentence = "No run has per-image scores (holdout.json or final_eval.scores): no cross-evaluation."
		return nil
	}
	if c.Source == CrossHoldout {
		c.Split = strings.SplitN(best, " ", 2)[0]
		c.Score = rs[0].r.run.Holdout.Score
	}
	// The images every run was scored on, in the first run's order.
	for _, id := range rs[0].ids {
		in := true
		for _, x := range rs[1:] {
			if _, ok := x.scores[id]; !ok {
				in = false
				break
			}
		}
		if in {
			c.Images = append(c.Images, id)
		}
	}
	for _, x := range rs {
		if n := len(x.ids) - len(c.Images); n > 0 {
			g.warn(x.r.Name, WarnNote, "", "%d of its %d scored images are not scored in every run: compared on the %d common images", n, len(x.ids), len(c.Images))
		}
	}
	if len(c.Images) == 0 {
		c.Sentence = "The runs share no scored image: no cross-evaluation."
		return nil
	}

	// Rows: the reference first, then the alphas in report order.
	byGroup := map[*AlphaResult]*CrossRow{}
	for _, x := range rs {
		a := g.groupOf(x.r)
		row := byGroup[a]
		if row == nil {
			row = &CrossRow{Label: a.Label, Alpha: a.Alpha, Level: level(a), Reference: a.Reference, scores: map[int64][]float64{}, tuning: map[int64]float64{}, group: a, Method: a.Baseline}
			byGroup[a] = row
		}
		if _, dup := row.scores[x.r.Seed]; dup {
			continue // dupSeeds warned: the first run of a seed is paired
		}
		v := make([]float64, len(c.Images))
		for i, id := range c.Images {
			v[i] = x.scores[id]
		}
		row.scores[x.r.Seed] = v
		row.Seeds = append(row.Seeds, x.r.Seed)
		if sm := x.r.run.Summary; sm != nil && sm.FinalEval != nil && sm.FinalEval.Mean != nil && num.Finite(*sm.FinalEval.Mean) {
			row.tuning[x.r.Seed] = *sm.FinalEval.Mean
		}
	}
	for _, a := range g.res.Alphas {
		if row := byGroup[a]; row != nil && a.Reference {
			c.Rows = append(c.Rows, row)
		}
	}
	for _, a := range g.res.Alphas {
		if row := byGroup[a]; row != nil && !a.Reference {
			c.Rows = append(c.Rows, row)
		}
	}
	lv := map[float64]bool{TailLevel: true}
	for _, row := range c.Rows {
		if !row.Reference && row.Level > 0 && row.Level < 1 {
			lv[row.Level] = true
		}
	}
	for l := range lv {
		c.Levels = append(c.Levels, l)
	}
	sort.Float64s(c.Levels)
	for _, row := range c.Rows {
		var m, w []float64
		cv := make([][]float64, len(c.Levels))
		for _, s := range row.Seeds {
			v := row.scores[s]
			m, w = append(m, meanOf(v)), append(w, worstOf(v))
			for k, l := range c.Levels {
				cv[k] = append(cv[k], cvarOf(v, l))
			}
		}
		row.Mean, row.Worst = Describe(m), Describe(w)
		for _, x := range cv {
			row.CVaR = append(row.CVaR, Describe(x))
		}
	}

	// The baseline: the reference, else the largest alpha's level.
	var base *CrossRow
	for _, row := range c.Rows {
		if row.Reference {
			base = row
			c.HasReference = true
			break
		}
		if !math.IsNaN(row.Level) && (base == nil || row.Level > base.Level) {
			base = row
		}
	}
	if base == nil {
		c.Sentence = "No recommendation with a known alpha: no comparison."
		return nil
	}
	base.Baseline = true
	c.Baseline = base.Label
	for _, row := range c.Rows {
		if row == base {
			continue
		}
		var a, b [][]float64
		for _, s := range row.Seeds {
			if bv, ok := base.scores[s]; ok {
				a, b = append(a, row.scores[s]), append(b, bv)
			}
		}
		row.PairedSeeds = len(a)
		if len(a) == 0 {
			g.warn("", WarnNote, "", "%s shares no seed with %s: no paired difference", row.Label, base.Label)
			continue
		}
		own := row.Level
		if !(own > 0 && own <= 1) {
			own = TailLevel
		}
		stats := []func([]float64) float64{
			meanOf,
			func(v []float64) float64 { return cvarOf(v, TailLevel) },
			func(v []float64) float64 { return cvarOf(v, own) },
		}
		rng := rand.New(rand.NewPCG(bootstrapSeed, math.Float64bits(row.Level)))
		d := PairedBootstrap(a, b, stats, c.B, rng)
		row.DMean, row.DTail = &d[0], &d[1]
		if row.Level > 0 && row.Level <= 1 {
			row.DOwn = &d[2]
		}
	}
	c.Sentence = c.sentence()
	return g.crossFigures()
}

// groupOf is the alpha group a run belongs to.
func (g *gen) groupOf(r *RunResult) *AlphaResult {
	for _, a := range g.res.Alphas {
		for _, x := range a.runs {
			if x == r {
				return a
			}
		}
	}
	return nil
}

// fmtDiff formats a difference with its interval: "+0.043 [95 % CI 0.021, 0.065]".
func fmtDiff(d *Diff) string {
	if d == nil || math.IsNaN(d.Est) {
		return "—"
	}
	return fmt.Sprintf("%s [95 %% CI %s, %s]", fmtSigned(d.Est), fmtSigned3(d.Lo), fmtSigned3(d.Hi))
}

func fmtSigned(v float64) string {
	if math.Abs(v) < 0.0005 {
		return fmt.Sprintf("%+.3f", 0.0) // no "-0.000"
	}
	return strings.Replace(fmt.Sprintf("%+.3f", v), "-", "−", 1)
}

func fmtSigned3(v float64) string {
	if math.Abs(v) < 0.0005 {
		return "0.000"
	}
	return strings.Replace(fmt.Sprintf("%.3f", v), "-", "−", 1)
}

// what names the images the comparison was made on.
func (c *CrossEval) what() string {
	if c.Source == CrossHoldout {
		return "held-out"
	}
	return "in-sample (tuning images, no held-out scores)"
}

func (c *CrossEval) scoreName() string {
	if c.Metric != "" {
		return "per-image " + c.Metric
	}
	switch c.Score {
	case "f", "":
		return "per-image F"
	}
	return "per-image " + c.Score
}

// sentence is the one plain sentence at the top of summary.md: what the
// most risk-averse alpha changed against the baseline, or that the alphas
// are indistinguishable.
func (c *CrossEval) sentence() string {
	s := c.alphaSentence()
	var bs []string
	for _, row := range c.Rows {
		if row.Method != "" && !row.Baseline && row.DTail != nil && !math.IsNaN(row.DTail.Est) {
			bs = append(bs, fmt.Sprintf("%s %s", row.Method, fmtDiff(row.DTail)))
		}
	}
	if len(bs) > 0 {
		s += fmt.Sprintf(" Baselines against %s, %s lower tail (CVaR %g): %s.", c.Baseline, strings.SplitN(c.what(), " (", 2)[0], TailLevel, strings.Join(bs, "; "))
	}
	return s
}

// alphaSentence is the sentence about the alphas (baselines left out).
func (c *CrossEval) alphaSentence() string {
	var first *CrossRow
	distinct := 0
	for _, row := range c.Rows {
		if row.Baseline || row.Method != "" || row.DTail == nil || math.IsNaN(row.DTail.Est) {
			continue
		}
		if first == nil || row.Level < first.Level {
			first = row
		}
		if row.DTail.Distinct() && !(c.HasReference && c.referenceFellShort(row)) {
			distinct++ // a tail difference the reference's shortfall does not explain
		}
	}
	if first == nil {
		for _, row := range c.Rows {
			if row.Method != "" && !row.Baseline {
				return fmt.Sprintf("No alpha has scores to compare with %s.", c.Baseline)
			}
		}
		return fmt.Sprintf("Only %s has scores: nothing to compare it with.", c.Baseline)
	}
	against := "against the risk-neutral reference"
	if !c.HasReference {
		against = fmt.Sprintf("against the largest alpha (%s; this sweep has no risk-neutral reference)", c.Baseline)
	}
	alpha := "alpha " + fmtAlpha(first.Alpha)
	tail := fmt.Sprintf("%s lower tail (CVaR %g of %s)", c.what(), TailLevel, c.scoreName())
	n := fmt.Sprintf("%d images × %d paired seeds", len(c.Images), first.PairedSeeds)
	if first.DTail.Distinct() && c.HasReference && c.referenceFellShort(first) {
		return fmt.Sprintf("Alphas are indistinguishable from the risk-neutral reference as risk choices on this data: %s's recommendation is ahead on the held-out mean too (%s; %s %s; %s) and on the mean over the tuning images, the reference's own objective, in every seed. The reference fell short of its optimum, so the difference is the optimiser's, not risk aversion's.",
			alpha, fmtDiff(first.DMean), tail, fmtDiff(first.DTail), n)
	}
	if first.DTail.Distinct() {
		// Say whether the tail was bought with the mean: a risk-averse choice
		// is expected to pay for its tail, and a reader should not have to
		// read the interval to learn that it did not.
		trade := "no trade-off appeared: the mean did not fall distinguishably"
		switch {
		case first.DMean == nil || math.IsNaN(first.DMean.Est):
			trade = "no paired mean to tell whether it cost anything"
		case first.DMean.Distinct() && first.DMean.Est < 0:
			trade = "the trade-off a risk-averse choice makes: a better tail for a lower mean"
		}
		return fmt.Sprintf("Risk aversion (%s) changed the %s by %s %s; the mean by %s (%s): %s.",
			alpha, tail, fmtDiff(first.DTail), against, fmtDiff(first.DMean), n, trade)
	}
	if distinct == 0 {
		return fmt.Sprintf("Alphas are indistinguishable on this data (%s %s: %s %s; mean %s; %s).",
			alpha, against, tail, fmtDiff(first.DTail), fmtDiff(first.DMean), n)
	}
	return fmt.Sprintf("Risk aversion (%s) did not change the %s distinguishably %s: %s; the mean by %s (%s; other alphas differ: see the cross-evaluation table).",
		alpha, tail, against, fmtDiff(first.DTail), fmtDiff(first.DMean), n)
}

// referenceFellShort reports whether row beats the reference on the mean,
// the reference's own objective: on the held-out images distinguishably,
// and on the tuning images (final_eval) in every paired seed that has them.
// Then a tail difference measures how well the reference was optimised,
// not what risk aversion buys.
func (c *CrossEval) referenceFellShort(row *CrossRow) bool {
	var ref *CrossRow
	for _, r := range c.Rows {
		if r.Reference {
			ref = r
		}
	}
	if ref == nil || row.DMean == nil || !row.DMean.Distinct() || !(row.DMean.Est > 0) {
		return false
	}
	n := 0
	for _, s := range row.Seeds {
		a, okA := row.tuning[s]
		b, okB := ref.tuning[s]
		if !okA || !okB {
			continue
		}
		if !(a > b) {
			return false
		}
		n++
	}
	return n > 0
}

// crossFigures draws holdout.*: per measure, each recommendation's values
// (seeds as points, their mean as a diamond) with the baseline as a dashed
// line; and holdout_diff.*: per measure, the paired differences against the
// baseline with their 95 % intervals. One panel per measure: rows are
// compared at the same measure, never across levels.
func (g *gen) crossFigures() error {
	c := g.res.Cross
	var names []string
	for _, row := range c.Rows {
		names = append(names, shortLabel(row))
	}
	type measure struct {
		title string
		stat  func(row *CrossRow) (Stat, []float64)
	}
	perSeed := func(row *CrossRow, f func([]float64) float64) []float64 {
		var out []float64
		for _, s := range row.Seeds {
			out = append(out, f(row.scores[s]))
		}
		return out
	}
	ms := []measure{{"mean", func(row *CrossRow) (Stat, []float64) { return row.Mean, perSeed(row, meanOf) }}}
	for k, l := range c.Levels {
		ms = append(ms, measure{fmt.Sprintf("CVaR %g (worst %g %%)", l, 100*l), func(row *CrossRow) (Stat, []float64) {
			return row.CVaR[k], perSeed(row, func(v []float64) float64 { return cvarOf(v, l) })
		}})
	}
	ms = append(ms, measure{"worst image", func(row *CrossRow) (Stat, []float64) { return row.Worst, perSeed(row, worstOf) }})
	var panels []*Figure
	for i, m := range ms {
		yl := ""
		if i == 0 {
			yl = g.scoreWord()
		}
		f := NewFigure(m.title, "", yl)
		f.Categories(names...)
		var px, py, mx, my []float64
		baseV := math.NaN()
		for j, row := range c.Rows {
			st, vs := m.stat(row)
			for _, v := range vs {
				px, py = append(px, float64(j)), append(py, v)
			}
			mx, my = append(mx, float64(j)), append(my, st.Mean)
			if row.Baseline {
				baseV = st.Mean
			}
		}
		f.SetColor("seed", Gray)
		f.Markers("seed", px, py, "circle", 2)
		f.SetColor("mean over seeds", color0)
		f.Markers("mean over seeds", mx, my, "diamond", 4)
		if num.Finite(baseV) {
			bn := "baseline: " + c.Baseline
			f.SetColor(bn, palette[0])
			f.SetDashes(bn, []vg.Length{vg.Points(4), vg.Points(2)})
			f.Line(bn, []float64{-0.5, float64(len(names)) - 0.5}, []float64{baseV, baseV})
		}
		panels = append(panels, f)
	}
	cols := min(len(panels), 3)
	if len(panels) == 4 {
		cols = 2
	}
	rows := (len(panels) + cols - 1) / cols
	title := fmt.Sprintf("Each recommendation scored on the same %d %s images (one panel per measure)", len(c.Images), c.what())
	if err := g.save(g.opts.Out, "holdout", DefaultWidth, vg.Length(rows)*2.3*vg.Inch+0.7*vg.Inch, title, cols, panels...); err != nil {
		return err
	}

	// Differences against the baseline.
	var dnames []string
	var drows []*CrossRow
	for _, row := range c.Rows {
		if !row.Baseline && row.DMean != nil {
			dnames, drows = append(dnames, shortLabel(row)), append(drows, row)
		}
	}
	if len(drows) == 0 {
		return nil
	}
	dm := []struct {
		title string
		get   func(*CrossRow) *Diff
	}{
		{"Δ mean", func(r *CrossRow) *Diff { return r.DMean }},
		{fmt.Sprintf("Δ CVaR %g (lower tail)", TailLevel), func(r *CrossRow) *Diff { return r.DTail }},
		{"Δ CVaR at the row's own alpha", func(r *CrossRow) *Diff { return r.DOwn }},
	}
	panels = panels[:0]
	for i, m := range dm {
		yl := ""
		if i == 0 {
			yl = "recommendation − baseline"
		}
		f := NewFigure(m.title, "", yl)
		f.Categories(dnames...)
		var x, y, lo, hi []float64
		for j, row := range drows {
			if d := m.get(row); d != nil && !math.IsNaN(d.Est) {
				x, y, lo, hi = append(x, float64(j)), append(y, d.Est), append(lo, d.Lo), append(hi, d.Hi)
			}
		}
		const est = "paired difference, 95 % bootstrap CI"
		f.SetColor(est, color0)
		f.ErrorBars(est, x, lo, hi)
		f.Markers(est, x, y, "diamond", 4)
		f.SetColor("no difference", Gray)
		f.SetDashes("no difference", []vg.Length{vg.Points(4), vg.Points(2)})
		f.Line("no difference", []float64{-0.5, float64(len(dnames)) - 0.5}, []float64{0, 0})
		panels = append(panels, f)
	}
	title = fmt.Sprintf("Against %s, paired (%s images): 95 %% bootstrap CI", c.Baseline, strings.SplitN(c.what(), " (", 2)[0])
	return g.save(g.opts.Out, "holdout_diff", DefaultWidth, 2.8*vg.Inch, title, len(panels), panels...)
}

func shortLabel(row *CrossRow) string {
	if row.Reference {
		return strings.Replace(ReferenceLabel, " ", "\n", 1) // two lines under the axis
	}
	if row.Method != "" {
		return strings.Replace(row.Method, " ", "\n", 1)
	}
	return "α=" + fmtAlpha(row.Alpha)
}

// crossMarkdown writes the cross-evaluation section of summary.md.
func (g *gen) crossMarkdown(p func(string, ...any)) {
	c := g.res.Cross
	if c == nil || len(c.Rows) == 0 {
		return
	}
	where := fmt.Sprintf("the held-out split `%s`", c.Split)
	if c.Source != CrossHoldout {
		where = "the tuning images (final_eval: in-sample, no holdout.json in these runs)"
	}
	p("## Cross-evaluation: every recommendation on the same images\n\n")
	p("Each run's recommended x scored on %s, the same %d images for every run, so differences are paired image by image. ", where, len(c.Images))
	p("Each column is one measure of the per-image scores: compare a row with the %s row in the same column, ", mdEscape(c.Baseline))
	p("never one column with another (CVaR at different levels are different measures). Mean ± std over seeds.\n\n")
	if !c.HasReference {
		p("This sweep has no risk-neutral reference (no run with the mean objective, alpha 1): the baseline is the largest alpha, %s.\n\n", mdEscape(c.Baseline))
	}
	p("| recommendation | seeds | mean |")
	for _, l := range c.Levels {
		p(" CVaR %g (worst %g %%) |", l, 100*l)
	}
	p(" worst image |\n|---|---|---|")
	for range c.Levels {
		p("---|")
	}
	p("---|\n")
	for _, row := range c.Rows {
		label := mdEscape(row.Label)
		if row.Baseline {
			label = "**" + label + "** (baseline)"
		}
		p("| %s | %d | %s |", label, len(row.Seeds), fmtStat(row.Mean))
		for _, s := range row.CVaR {
			p(" %s |", fmtStat(s))
		}
		p(" %s |\n", fmtStat(row.Worst))
	}
	p("\nPaired differences against %s (recommendation − baseline, averaged over the seeds both have), ", mdEscape(c.Baseline))
	p("with 95 %% percentile bootstrap intervals over images and seeds (%d replicates; each replicate resamples the seeds and the images with replacement, ", c.B)
	p("one image resample shared by every seed and both recommendations; fixed random seed, so the report is deterministic). ")
	p("The own-alpha column compares each row with the baseline at that row's own level.\n\n")
	p("| recommendation | paired seeds | Δ mean | Δ CVaR %g (lower tail) | Δ CVaR at own alpha | differs from the baseline in |\n|---|---|---|---|---|---|\n", TailLevel)
	for _, row := range c.Rows {
		if row.Baseline {
			continue
		}
		own := fmtDiff(row.DOwn)
		if row.DOwn != nil {
			own = fmt.Sprintf("CVaR %g: %s", row.Level, own)
		}
		differs := strings.Join(row.Differs, ", ")
		if differs == "" {
			differs = "—"
		}
		if row.Confounded {
			differs = "**confounded**: " + differs
		}
		p("| %s | %d | %s | %s | %s | %s |\n", mdEscape(row.Label), row.PairedSeeds, fmtDiff(row.DMean), fmtDiff(row.DTail), own, mdEscape(differs))
	}
	p("\n")
}

// crossRecords are holdout.csv's rows (and results.json's kind "cross").
func (g *gen) crossRecords() []*record {
	c := g.res.Cross
	if c == nil {
		return nil
	}
	var out []*record
	for _, row := range c.Rows {
		rec := &record{}
		rec.add("kind", "cross")
		rec.add("recommendation", row.Label)
		rec.add("alpha", row.Alpha)
		rec.add("reference", row.Reference)
		rec.add("method", row.Method)
		rec.add("baseline", row.Baseline)
		rec.add("source", c.Source)
		rec.add("split", c.Split)
		rec.add("n_images", len(c.Images))
		rec.add("n_seeds", len(row.Seeds))
		rec.addStat("mean", row.Mean)
		for k, l := range c.Levels {
			rec.addStat(fmt.Sprintf("cvar_%g", l), row.CVaR[k])
		}
		rec.addStat("worst", row.Worst)
		rec.add("paired_seeds", row.PairedSeeds)
		rec.add("confounded", row.Confounded)
		rec.add("differs_in", strings.Join(row.Differs, " "))
		for _, d := range []struct {
			name string
			d    *Diff
		}{{"d_mean", row.DMean}, {fmt.Sprintf("d_cvar_%g", TailLevel), row.DTail}, {"d_cvar_own", row.DOwn}} {
			v := Diff{math.NaN(), math.NaN(), math.NaN()}
			if d.d != nil {
				v = *d.d
			}
			rec.add(d.name, v.Est)
			rec.add(d.name+"_lo", v.Lo)
			rec.add(d.name+"_hi", v.Hi)
		}
		out = append(out, rec)
	}
	return out
}
