package report

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// Options configure Generate. The zero value is valid.
type Options struct {
	// Out is the folder the report is written to; it is created. Default:
	// "report" inside the first sweep directory.
	Out string
	// Formats of every figure: any of "png", "svg", "pdf". Default png, svg.
	Formats []string
	// Band is the spread drawn around mean curves over seeds: "std" (±1
	// sample standard deviation, the default) or "minmax".
	Band string
}

// Validate reports the first bad field, naming its valid values.
func (o *Options) Validate() error {
	const op = "report.options"
	seen := map[string]bool{}
	for _, f := range o.Formats {
		switch strings.ToLower(f) {
		case "png", "svg", "pdf":
		default:
			return errs.New(errs.BadArg, op, "formats: each must be png, svg or pdf, got %q", f)
		}
		if seen[strings.ToLower(f)] {
			return errs.New(errs.BadArg, op, "formats: %q given twice", f)
		}
		seen[strings.ToLower(f)] = true
	}
	switch o.Band {
	case "", "std", "minmax":
	default:
		return errs.New(errs.BadArg, op, "band must be \"std\" or \"minmax\", got %q", o.Band)
	}
	return nil
}

func (o Options) withDefaults(dirs []string) Options {
	if o.Out == "" && len(dirs) > 0 {
		o.Out = filepath.Join(dirs[0], "report")
	}
	formats := []string{"png", "svg"}
	if len(o.Formats) > 0 {
		formats = make([]string, len(o.Formats))
		for i, f := range o.Formats {
			formats[i] = strings.ToLower(f)
		}
	}
	o.Formats = formats
	if o.Band == "" {
		o.Band = "std"
	}
	return o
}

// Result is what Generate wrote and what it could not use.
type Result struct {
	Out      string         // the report folder
	Files    []string       // every file written, under Out
	Warnings []Warning      // per run and file: what was missing, malformed or replaced
	Runs     []*RunResult   // one per run directory, in report order
	Alphas   []*AlphaResult // one per (convention, alpha), sorted; the reference (alpha 1, bohost) has Reference set
	// Cross is the cross-evaluation: each recommendation scored on the same
	// (held-out) images and compared with the reference; nil before it runs.
	Cross *CrossEval
	// Headline is the plain sentence at the top of summary.md.
	Headline string
	// Curves lists every curve of the convergence figure: which panel,
	// measured or model-predicted, from which field, and its points.
	Curves []Curve
	// Comparisons are the groups of runs the report compares and the
	// config.json settings they differ in (guards.go).
	Comparisons []Comparison
}

// Generate reads every run directory at or below dirs and writes the figures
// and tables listed in the package documentation to opts.Out. A run that is
// incomplete or partly malformed contributes what it can; what is missing
// is listed in Result.Warnings and in summary.md. Errors: bad_arg for bad
// options or paths without runs, io when the report cannot be written,
// canceled when ctx ends.
func Generate(ctx context.Context, dirs []string, opts Options) (*Result, error) {
	const op = "report.generate"
	if len(dirs) == 0 {
		return nil, errs.New(errs.BadArg, op, "no sweep directories given")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults(dirs)
	runDirs, names, err := FindRuns(dirs)
	if err != nil {
		return nil, err
	}
	if len(runDirs) == 0 {
		return nil, errs.New(errs.BadArg, op, "no run directories (folders holding config.json) under %s", strings.Join(dirs, ", ")).
			WithHint("pass a sweep directory written by bohost run, e.g. SWEEP with SWEEP/alpha_0.1/seed_1/config.json")
	}

	g := &gen{ctx: ctx, opts: opts, res: &Result{Out: opts.Out}}
	var runs []*Run
	for i, d := range runDirs {
		if err := ctx.Err(); err != nil {
			return nil, errs.Wrap(errs.Canceled, op, err)
		}
		runs = append(runs, LoadRun(d, names[i]))
	}
	names, space, warns := dims(runs)
	g.names, g.space = names, space
	g.res.Warnings = append(g.res.Warnings, warns...)
	for _, r := range runs {
		g.res.Runs = append(g.res.Runs, summarise(r, names))
	}
	g.res.Alphas = group(g.res.Runs, len(names))
	g.dupSeeds()
	g.scoreMetric()

	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	steps := []func() error{g.convergence, g.tradeoff, g.scores, g.params, g.perRun, g.crossEval, g.guards, g.collect, g.tables}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return g.res, errs.Wrap(errs.Canceled, op, err)
		}
		if err := step(); err != nil {
			return g.res, err
		}
	}
	return g.res, nil
}

type gen struct {
	metric string // the score's name with its r (scoreMetric), "" unknown
	ctx    context.Context
	opts   Options
	res    *Result
	names  []string
	space  *Space
}

// collect puts the runs' warnings (in report order) before the report-wide ones.
func (g *gen) collect() error {
	var ws []Warning
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			ws = append(ws, r.run.Warnings...)
		}
	}
	g.res.Warnings = append(ws, g.res.Warnings...)
	return nil
}

func (g *gen) warn(run, kind, file, format string, args ...any) {
	g.res.Warnings = append(g.res.Warnings, Warning{Run: run, Kind: kind, File: file, Msg: fmt.Sprintf(format, args...)})
}

func (g *gen) dupSeeds() {
	for _, a := range g.res.Alphas {
		seen := map[int64]string{}
		for _, r := range a.runs {
			if prev, ok := seen[r.Seed]; ok {
				g.warn(r.Name, WarnNote, "config.json", "same alpha %s and seed %d as %s; both are counted as separate seeds", a.name(), r.Seed, prev)
			}
			seen[r.Seed] = r.Name
		}
	}
}

// save writes fig (or a grid) in every format as base.<ext> under dir and
// records the files. A drawing failure becomes a warning; a write failure
// is returned.
func (g *gen) save(dir, base string, w, h vg.Length, title string, cols int, panels ...*Figure) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errs.Wrap(errs.IO, "report.generate", err)
	}
	for _, ext := range g.opts.Formats {
		path := filepath.Join(dir, base+"."+ext)
		err := SaveGrid(path, w, h, title, cols, panels...)
		if err == nil {
			g.res.Files = append(g.res.Files, path)
			continue
		}
		if errs.Is(err, errs.IO) {
			return err
		}
		g.warn("", WarnNote, base, "figure not drawn: %v", err)
		return nil
	}
	return nil
}

// evaluations returns, for each iteration of r, the number of evaluations
// finished by then: n_trials, else a count of trials with iteration ≤ it.
func evaluations(r *Run) []float64 {
	out := make([]float64, len(r.Iterations))
	for i, it := range r.Iterations {
		if it.NTrials != nil {
			out[i] = float64(*it.NTrials)
			continue
		}
		if len(r.Trials) == 0 {
			out[i] = math.NaN()
			continue
		}
		n := 0
		for _, t := range r.Trials {
			if t.Iteration <= it.Iteration {
				n++
			}
		}
		out[i] = float64(n)
	}
	return out
}

func (g *gen) bandName() string {
	if g.opts.Band == "minmax" {
		return "min–max"
	}
	return "±1 std"
}

// convergence: posterior CVaR at the recommendation (model-predicted) and
// best observed CVaR (measured) against evaluations, mean and band over
// seeds per alpha, each in its own panel whose title and axis say which it
// is: a curve never joins values of the two kinds (the welding study's
// record mixed them in one line). Every run's last iteration is marked, and
// the axes are never cut (no fixed x range), so a collapse at the end shows;
// each curve drawn is listed in Result.Curves.
func (g *gen) convergence() error {
	post := NewFigure(PanelPredicted, "evaluations", "CVaR of "+g.scoreWord()+", "+CurvePredicted)
	obs := NewFigure(PanelMeasured, "evaluations", "CVaR of "+g.scoreWord()+", "+CurveMeasured)
	have := [2]bool{}
	var lastX, lastY [2][]float64
	for _, a := range g.res.Alphas {
		var pc, oc []stepCurve
		for _, r := range a.runs {
			ev := evaluations(r.run)
			var p, o stepCurve
			for i, it := range r.run.Iterations {
				if !num.Finite(ev[i]) {
					continue
				}
				if it.PosteriorCVaR != nil {
					p.x, p.y = append(p.x, ev[i]), append(p.y, *it.PosteriorCVaR)
				}
				if it.BestObservedCVaR != nil {
					o.x, o.y = append(o.x, ev[i]), append(o.y, *it.BestObservedCVaR)
				}
			}
			pc, oc = appendCurve(pc, p), appendCurve(oc, o)
			for k, c := range []stepCurve{p, o} {
				if n := len(c.x); n > 0 {
					lastX[k], lastY[k] = append(lastX[k], c.x[n-1]), append(lastY[k], c.y[n-1])
				}
			}
			g.finalIteration(r, ev)
		}
		for k, cs := range [][]stepCurve{pc, oc} {
			if len(cs) == 0 {
				continue
			}
			f := [2]*Figure{post, obs}[k]
			b := aggregateCurves(cs, g.opts.Band)
			name := fmt.Sprintf("%s (n=%d)", a.Label, len(cs))
			g.styleAlpha(f, name, a)
			if len(cs) > 1 {
				f.Band(name, b.x, b.lo, b.hi)
			}
			f.Line(name, b.x, b.mean)
			g.res.Curves = append(g.res.Curves, Curve{Figure: "convergence", Panel: f.title, Series: name,
				Kind: [2]string{CurvePredicted, CurveMeasured}[k], Source: [2]string{SourcePosteriorCVaR, SourceBestObservedCVaR}[k],
				X: b.x, Y: b.mean})
			have[k] = true
		}
	}
	for k, f := range [2]*Figure{post, obs} {
		if len(lastX[k]) > 0 {
			f.SetColor(LastIterationSeries, color0)
			f.Markers(LastIterationSeries, lastX[k], lastY[k], "diamond", 3.5)
			g.res.Curves = append(g.res.Curves, Curve{Figure: "convergence", Panel: f.title, Series: LastIterationSeries,
				Kind: [2]string{CurvePredicted, CurveMeasured}[k], Source: [2]string{SourcePosteriorCVaR, SourceBestObservedCVaR}[k],
				X: lastX[k], Y: lastY[k], Markers: true})
		}
	}
	var panels []*Figure
	if have[0] {
		panels = append(panels, post)
	}
	if have[1] {
		panels = append(panels, obs)
	}
	if len(panels) == 0 {
		g.warn("", WarnMissing, "iterations.jsonl", "no run has iterations with posterior_cvar or best_observed_cvar: convergence figure not drawn")
		return nil
	}
	return g.save(g.opts.Out, "convergence", DefaultWidth, 3.6*vg.Inch,
		fmt.Sprintf("Convergence: mean over seeds, band %s; diamonds: each run's last iteration", g.bandName()), len(panels), panels...)
}

func appendCurve(cs []stepCurve, c stepCurve) []stepCurve {
	if len(c.x) == 0 {
		return cs
	}
	// Iterations are journaled in order, but guard against resumes that
	// rewrote a stretch: sort by x, keeping the later value on ties.
	idx := make([]int, len(c.x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return c.x[idx[i]] < c.x[idx[j]] })
	var s stepCurve
	for _, i := range idx {
		if n := len(s.x); n > 0 && s.x[n-1] == c.x[i] {
			s.y[n-1] = c.y[i]
			continue
		}
		s.x, s.y = append(s.x, c.x[i]), append(s.y, c.y[i])
	}
	return append(cs, s)
}

func (g *gen) alphaAxis() string {
	convs := map[string]bool{}
	for _, a := range g.res.Alphas {
		if !a.Reference && a.Baseline == "" {
			convs[a.Convention] = true
		}
	}
	if len(convs) == 1 {
		for c := range convs {
			return fmt.Sprintf("alpha (%s convention)", c)
		}
	}
	return "alpha"
}

// tradeoff: the lower tail (CVaR 0.1 of the per-image scores) and the
// mean score of each recommendation on the tuning images (final_eval)
// against alpha, and mean against lower tail. Every alpha is measured at the
// same level (0.1), never at its own: CVaR values at different alphas are
// different measures. The reference is drawn as dashed horizontal lines
// (left) and a labelled point (right).
func (g *gen) tradeoff() error {
	left := NewFigure("lower tail and mean score", g.alphaAxis(), g.scoreWord())
	right := NewFigure("risk–return trade-off", "lower tail: CVaR 0.1 of per-image "+g.scoreWord(), "mean "+g.scoreWord())
	var ax, cv, cvLo, cvHi, mn, mnLo, mnHi, px, py []float64
	var ref *AlphaResult
	skipped := 0
	for _, a := range g.res.Alphas {
		if a.CVaR10.N == 0 {
			if a.FinalCVaR.N > 0 {
				skipped++
			}
			continue
		}
		px, py = append(px, a.CVaR10.Mean), append(py, a.FinalMean.Mean)
		right.Label(a.CVaR10.Mean, a.FinalMean.Mean, a.short())
		if a.Reference {
			ref = a
			continue
		}
		if math.IsNaN(a.Alpha) || a.Baseline != "" {
			continue // baselines: in the right panel only (they have no place on the alpha axis)
		}
		ax = append(ax, a.Alpha)
		cv = append(cv, a.CVaR10.Mean)
		mn = append(mn, a.FinalMean.Mean)
		lo, hi := spread(a.CVaR10, g.opts.Band)
		cvLo, cvHi = append(cvLo, lo), append(cvHi, hi)
		lo, hi = spread(a.FinalMean, g.opts.Band)
		mnLo, mnHi = append(mnLo, lo), append(mnHi, hi)
	}
	if skipped > 0 {
		g.warn("", WarnMissing, "summary.json", "trade-off: %d groups have no final_eval.scores (no lower tail on the tuning images) and are not drawn", skipped)
	}
	if len(px) == 0 {
		g.warn("", WarnMissing, "summary.json", "no run has final_eval.scores: trade-off figure not drawn")
		return nil
	}
	const tail, mean = "lower tail (CVaR 0.1)", "mean score"
	left.SetColor(tail, palette[0])
	left.SetColor(mean, palette[1])
	left.ErrorBars(tail, ax, cvLo, cvHi)
	left.LinePoints(tail, ax, cv)
	left.ErrorBars(mean, ax, mnLo, mnHi)
	left.LinePoints(mean, ax, mn)
	if ref != nil {
		xs := []float64{0, 1}
		if s := Describe(ax); s.N > 0 {
			xs = []float64{s.Min, s.Max}
		}
		for _, m := range []struct {
			name string
			v    float64
			c    color.Color
		}{{ReferenceLabel + ": lower tail", ref.CVaR10.Mean, palette[0]}, {ReferenceLabel + ": mean", ref.FinalMean.Mean, palette[1]}} {
			left.SetColor(m.name, m.c)
			left.SetDashes(m.name, []vg.Length{vg.Points(4), vg.Points(2)})
			left.Line(m.name, xs, []float64{m.v, m.v})
		}
	}
	right.SetColor("per recommendation, mean over seeds", color0)
	right.Markers("per recommendation, mean over seeds", px, py, "circle", 3)
	// Leave room for the labels on the right.
	cs := Describe(px)
	if cs.N > 0 {
		d := math.Max(cs.Max-cs.Min, 0.02)
		right.SetXRange(cs.Min-0.08*d, cs.Max+0.45*d)
	}
	return g.save(g.opts.Out, "tradeoff", DefaultWidth, 3.4*vg.Inch,
		fmt.Sprintf("On the tuning images (final_eval), every alpha at the same measures (bars %s)", g.bandName()), 2, left, right)
}

func spread(s Stat, band string) (lo, hi float64) {
	if band == "minmax" {
		return s.Min, s.Max
	}
	if s.N < 2 {
		return s.Mean, s.Mean
	}
	return s.Mean - s.Std, s.Mean + s.Std
}

// scores: per-image score distribution at each alpha's recommended x.
func (g *gen) scores() error {
	f := NewFigure("", g.alphaAxis(), "per-image "+g.scoreWord())
	var qx, qy, mx, my []float64
	i := 0
	for _, a := range g.res.Alphas {
		if len(a.Scores) == 0 {
			continue
		}
		label := a.short()
		if !a.Reference && len(g.res.Alphas) > 0 && a.Convention != g.res.Alphas[0].Convention {
			label += " " + a.Convention
		}
		g.styleAlpha(f, label, a)
		f.Box(label, a.Scores)
		qx, qy = append(qx, float64(i)), append(qy, Quantile(a.Scores, 0.1))
		mx, my = append(mx, float64(i)), append(my, Describe(a.Scores).Mean)
		i++
	}
	if i == 0 {
		g.warn("", WarnMissing, "summary.json", "no run has final_eval.scores: score distribution figure not drawn")
		return nil
	}
	f.SetColor("lower 10 % quantile", color0)
	f.Markers("lower 10 % quantile", qx, qy, "diamond", 4)
	f.SetColor("mean", Gray)
	f.Markers("mean", mx, my, "plus", 4)
	return g.save(g.opts.Out, "scores", DefaultWidth, DefaultHeight,
		"Per-image scores at the recommended x (seeds pooled)", 1, f)
}

var color0 = palette[6] // black

// styleAlpha gives series name of f the colour of group a, dashed when
// the palette has wrapped round.
func (g *gen) styleAlpha(f *Figure, name string, a *AlphaResult) {
	f.SetColor(name, g.alphaColor(a))
	for i, b := range g.res.Alphas {
		if a == b && i >= len(palette) {
			f.SetDashes(name, []vg.Length{vg.Points(5), vg.Points(2)})
		}
	}
}

// alphaColor is the palette colour of a group by its index, so the same
// alpha has the same colour in every figure.
func (g *gen) alphaColor(a *AlphaResult) color.Color {
	for i, b := range g.res.Alphas {
		if a == b {
			return palette[i%len(palette)]
		}
	}
	return palette[0]
}

// params: each dimension's recommended value (normalised to the space
// bounds) against iteration, and the evaluated points in grey.
func (g *gen) params() error {
	d := len(g.names)
	if d == 0 {
		g.warn("", WarnMissing, "config.json", "no space names and no recommended_x_vec: parameter figure not drawn")
		return nil
	}
	norm := g.space != nil
	if !norm {
		g.warn("", WarnMissing, "config.json", "no space bounds in any config.json: parameter traces show raw values")
	}
	cols := 2
	if d >= 5 {
		cols = 3
	}
	if d == 1 {
		cols = 1
	}
	rows := (d + cols - 1) / cols
	panels := make([]*Figure, d)
	drew := false
	for k := range d {
		xl, yl := "", ""
		if k >= d-cols {
			xl = "iteration"
		}
		if k%cols == 0 {
			if norm {
				yl = "normalised value"
			} else {
				yl = "value"
			}
		}
		f := NewFigure(g.names[k], xl, yl)
		if norm {
			f.SetYRange(-0.03, 1.03)
		}
		f.SetColor("evaluated x", color.RGBA{0xb0, 0xb0, 0xb0, 0xff})
		panels[k] = f
	}
	tr := func(k int, v float64) float64 {
		if norm {
			return normalise(g.space, k, v)
		}
		return v
	}
	// Evaluated points first (behind), then the recommendation traces.
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			for k := range d {
				var xs, ys []float64
				for _, t := range r.run.Trials {
					x := vec(t.XVec, t.X, g.names)
					if k < len(x) {
						xs, ys = append(xs, float64(t.Iteration)), append(ys, tr(k, x[k]))
					}
				}
				if len(xs) > 0 {
					panels[k].Markers("evaluated x", xs, ys, "circle", 1.2)
				}
			}
		}
	}
	for _, a := range g.res.Alphas {
		for _, f := range panels {
			g.styleAlpha(f, a.Label, a)
			f.SetLineWidth(a.Label, 1)
		}
		for _, r := range a.runs {
			for k := range d {
				var xs, ys []float64
				for _, it := range r.run.Iterations {
					x := vec(it.RecommendedXVec, it.RecommendedX, g.names)
					if k < len(x) {
						xs, ys = append(xs, float64(it.Iteration)), append(ys, tr(k, x[k]))
					}
				}
				if len(xs) > 0 {
					panels[k].Line(a.Label, xs, ys)
					drew = true
				}
			}
		}
	}
	if !drew {
		g.warn("", WarnMissing, "iterations.jsonl", "no recommended_x in any iteration: parameter figure not drawn")
		return nil
	}
	h := vg.Length(rows)*1.75*vg.Inch + 0.8*vg.Inch
	return g.save(g.opts.Out, "params", DefaultWidth, h,
		"Recommended x per iteration (lines, one per run) and evaluated x (grey)", cols, panels...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runDirName turns a run name such as "alpha_0.1/seed_1" into a folder name.
func runDirName(name string, used map[string]bool) string {
	s := strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if s == "" {
		s = "run"
	}
	base := s
	for i := 2; used[s]; i++ {
		s = fmt.Sprintf("%s-%d", base, i)
	}
	used[s] = true
	return s
}

// perRun draws the system figure and the best/worst overlays of every run.
func (g *gen) perRun() error {
	used := map[string]bool{}
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			if err := g.ctx.Err(); err != nil {
				return errs.Wrap(errs.Canceled, "report.generate", err)
			}
			dir := filepath.Join(g.opts.Out, "runs", runDirName(r.Name, used))
			if err := g.system(dir, a, r); err != nil {
				return err
			}
			if err := g.overlays(dir, a, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gen) system(dir string, a *AlphaResult, r *RunResult) error {
	m := r.run.Monitor
	if m == nil {
		return nil // already warned by LoadRun
	}
	t := m.Col("elapsed_s")
	cols := []struct{ col, name string }{
		{"host_rss_bytes", "host RSS"},
		{"workers_rss_bytes", "workers RSS"},
		{"gpu_used_bytes", "GPU memory used"},
		{"workers_gpu_bytes", "workers' GPU memory"},
	}
	peak := 0.0
	for _, c := range cols {
		for _, v := range m.Col(c.col) {
			if num.Finite(v) {
				peak = math.Max(peak, v)
			}
		}
	}
	unit, div := "MiB", float64(1<<20)
	if peak >= 1<<30 {
		unit, div = "GiB", float64(1<<30)
	}
	title := fmt.Sprintf("%s, seed %d: memory (%s)", a.Label, r.Seed, r.Name)
	f := NewFigure(title, "time since start (s)", "memory ("+unit+")")
	drawn := 0
	var missing []string
	for _, c := range cols {
		v := m.Col(c.col)
		if v == nil {
			missing = append(missing, c.col)
			continue
		}
		y := make([]float64, len(v))
		for i := range v {
			y[i] = v[i] / div
		}
		f.Line(c.name, t, y)
		drawn++
	}
	for _, c := range missing {
		if strings.Contains(c, "gpu") { // no GPU, or no NVML, where the run ran
			r.run.warn(WarnNote, "monitor.csv", 0, "%s has no values (not available on that machine): not drawn", c)
		} else {
			r.run.warn(WarnMissing, "monitor.csv", 0, "%s has no values: not drawn", c)
		}
	}
	if drawn == 0 {
		return nil
	}
	f.SetColor("worker death", color.RGBA{0xc0, 0x00, 0x00, 0xff})
	for _, x := range r.Deaths {
		f.VLine("worker death", x)
	}
	f.SetYRange(0, math.NaN())
	return g.save(dir, "system", DefaultWidth, 3.2*vg.Inch, "", 1, f)
}

// segments converts [[x1,y1,x2,y2],…] into segments, counting bad entries.
func segments(lines [][]float64) (out []imgbuf.Segment, bad int) {
	for _, l := range lines {
		if len(l) != 4 {
			bad++
			continue
		}
		out = append(out, imgbuf.Segment{X1: l[0], Y1: l[1], X2: l[2], Y2: l[3]})
	}
	return out, bad
}

func (g *gen) overlays(dir string, a *AlphaResult, r *RunResult) error {
	s := r.run.Summary
	if r.run.ScoredOnly && s != nil && s.FinalEval != nil && s.FinalEval.Best == nil && s.FinalEval.Worst == nil {
		return nil // a baseline that only scored: it keeps no images
	}
	if s == nil || s.FinalEval == nil {
		// Say which images are absent too: they are what a report on
		// another machine would need.
		for _, f := range []string{"final/best.png", "final/worst.png"} {
			if _, err := os.Stat(filepath.Join(r.Dir, filepath.FromSlash(f))); err != nil {
				r.run.warn(WarnMissing, f, 0, "image not found (and no final_eval lines to draw): no overlay")
			}
		}
		return nil
	}
	for _, which := range []string{"best", "worst"} {
		fi := s.FinalEval.Best
		if which == "worst" {
			fi = s.FinalEval.Worst
		}
		file := "final/" + which + ".png"
		if fi == nil {
			r.run.warn(WarnMissing, "summary.json", 0, "final_eval.%s missing: no %s overlay", which, which)
			continue
		}
		if fi.Image != "" {
			c := filepath.ToSlash(filepath.Clean(fi.Image))
			if filepath.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
				r.run.warn(WarnMalformed, "summary.json", 0, "final_eval.%s.image %q points outside the run directory; using %s", which, fi.Image, file)
			} else {
				file = c
			}
		}
		path := filepath.Join(r.Dir, filepath.FromSlash(file))
		img, err := LoadImage(path)
		if err != nil {
			kind := WarnMalformed
			if errors.Is(err, os.ErrNotExist) {
				kind = WarnMissing
				r.run.warn(kind, file, 0, "image not found: no %s overlay", which)
			} else {
				r.run.warn(kind, file, 0, "%v: no %s overlay", err, which)
			}
			continue
		}
		det, bad1 := segments(fi.Lines)
		gt, bad2 := segments(fi.GT)
		if bad1+bad2 > 0 {
			r.run.warn(WarnMalformed, "summary.json", 0, "final_eval.%s: %d line entries are not [x1,y1,x2,y2] and were skipped", which, bad1+bad2)
		}
		if fi.GT == nil {
			r.run.warn(WarnMissing, "summary.json", 0, "final_eval.%s.gt missing: overlay shows detected lines only", which)
		}
		title := fmt.Sprintf("%s, seed %d: %s image %s, score %s", a.Label, r.Seed, which, fi.EnvID, fmtNum(val(fi.Score)))
		f := NewImageFigure(title, img)
		dn, gn := fmt.Sprintf("detected (%d)", len(det)), fmt.Sprintf("ground truth (%d)", len(gt))
		f.SetColor(gn, overlayColors[1])
		f.SetColor(dn, overlayColors[0])
		if fi.GT != nil {
			f.Segments(gn, gt)
		}
		f.Segments(dn, det)
		w, h := overlaySize(img)
		if err := g.save(dir, "overlay_"+which, w, h, "", 1, f); err != nil {
			return err
		}
	}
	return nil
}
