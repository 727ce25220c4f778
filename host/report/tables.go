package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// fmtNum formats a number for people: 4 significant digits, whole numbers
// from 1000 up, "—" for unknown.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// fmtStat formats mean ± std (std only with two or more values).
func fmtStat(s Stat) string {
	if s.N == 0 {
		return "—"
	}
	if s.N < 2 {
		return fmtNum(s.Mean)
	}
	return fmtNum(s.Mean) + " ± " + fmtNum(s.Std)
}

// csvNum formats a number exactly for machines; "" for unknown.
func csvNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// jsonNum is a float64 that encodes NaN as null.
type jsonNum float64

func (v jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// record is an ordered set of columns: one row of a CSV, one object of
// results.json.
type record struct {
	keys []string
	vals []any // string, int, int64, float64
}

func (r *record) add(k string, v any) { r.keys, r.vals = append(r.keys, k), append(r.vals, v) }

func (r *record) addStat(prefix string, s Stat) {
	r.add(prefix+"_mean", s.Mean)
	r.add(prefix+"_std", s.Std)
}

func (r *record) csv() []string {
	out := make([]string, len(r.vals))
	for i, v := range r.vals {
		switch v := v.(type) {
		case float64:
			out[i] = csvNum(v)
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

func (r *record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		v := r.vals[i]
		if f, ok := v.(float64); ok {
			v = jsonNum(f)
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (g *gen) runRecord(r *RunResult) *record {
	rec := &record{}
	rec.add("kind", "run")
	rec.add("run", r.Name)
	rec.add("alpha", r.Alpha)
	rec.add("convention", r.Convention)
	rec.add("reference", r.Reference)
	rec.add("baseline", r.Baseline)
	rec.add("seed", r.Seed)
	rec.add("status", r.Status)
	rec.add("final_cvar", r.FinalCVaR)
	rec.add("final_mean", r.FinalMean)
	rec.add("final_source", r.FinalSource)
	rec.add("lower10", r.Lower10)
	rec.add("cvar10", r.CVaR10)
	rec.add("evaluations", r.Evaluations)
	rec.add("iterations", r.Iterations)
	rec.add("failures", r.Failures)
	rec.add("wall_s", r.WallS)
	distinct, share, dominated := math.NaN(), math.NaN(), false
	if r.Envs != nil {
		distinct, share, dominated = float64(r.Envs.Distinct), r.Envs.Top3Share, r.Envs.Dominated
	}
	rec.add("distinct_envs", distinct)
	rec.add("top3_env_share", share)
	rec.add("envs_dominated", dominated)
	for k, n := range g.names {
		v := math.NaN()
		if k < len(r.RecX) {
			v = r.RecX[k]
		}
		rec.add("x_"+n, v)
	}
	rec.add("dir", r.Dir)
	return rec
}

func (g *gen) alphaRecord(a *AlphaResult) *record {
	rec := &record{}
	rec.add("kind", "alpha")
	rec.add("alpha", a.Alpha)
	rec.add("convention", a.Convention)
	rec.add("reference", a.Reference)
	rec.add("baseline", a.Baseline)
	rec.add("n_runs", len(a.runs))
	seeds := make([]string, len(a.Seeds))
	for i, s := range a.Seeds {
		seeds[i] = strconv.FormatInt(s, 10)
	}
	rec.add("seeds", strings.Join(seeds, " "))
	rec.add("n_final", a.FinalCVaR.N)
	rec.addStat("final_cvar", a.FinalCVaR)
	rec.addStat("final_mean", a.FinalMean)
	rec.add("final_source", a.FinalSource)
	rec.addStat("lower10", a.Lower10)
	rec.addStat("cvar10", a.CVaR10)
	rec.addStat("evaluations", a.Evaluations)
	rec.addStat("failures", a.Failures)
	rec.add("failures_total", a.Failures.Mean*float64(a.Failures.N))
	rec.addStat("wall_s", a.WallS)
	for k, n := range g.names {
		s := Stat{Mean: math.NaN(), Std: math.NaN()}
		if k < len(a.RecX) {
			s = a.RecX[k]
		}
		rec.addStat("x_"+n, s)
	}
	return rec
}

func (g *gen) writeCSV(name string, recs []*record) error {
	if len(recs) == 0 {
		return nil
	}
	path := filepath.Join(g.opts.Out, name)
	err := writeAtomic(path, func(f *os.File) error {
		w := csv.NewWriter(f)
		w.Write(recs[0].keys)
		for _, r := range recs {
			w.Write(r.csv())
		}
		w.Flush()
		return w.Error()
	})
	if err == nil {
		g.res.Files = append(g.res.Files, path)
	}
	return err
}

func (g *gen) writeFile(name string, data []byte) error {
	path := filepath.Join(g.opts.Out, name)
	err := writeAtomic(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
	if err == nil {
		g.res.Files = append(g.res.Files, path)
	}
	return err
}

// tables writes summary.csv, runs.csv, results.json and summary.md.
func (g *gen) tables() error {
	var runRecs, alphaRecs []*record
	for _, a := range g.res.Alphas {
		alphaRecs = append(alphaRecs, g.alphaRecord(a))
		for _, r := range a.runs {
			runRecs = append(runRecs, g.runRecord(r))
		}
	}
	if err := g.writeCSV("summary.csv", alphaRecs); err != nil {
		return err
	}
	if err := g.writeCSV("runs.csv", runRecs); err != nil {
		return err
	}
	crossRecs := g.crossRecords()
	if err := g.writeCSV("holdout.csv", crossRecs); err != nil {
		return err
	}
	all := append(append(append([]*record(nil), runRecs...), alphaRecs...), crossRecs...)
	js, err := json.MarshalIndent(all, "", " ")
	if err != nil {
		return err
	}
	if err := g.writeFile("results.json", append(js, '\n')); err != nil {
		return err
	}
	if g.res.Cross != nil {
		g.res.Headline = g.res.Cross.Sentence
	}
	return g.writeFile("summary.md", g.markdown())
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func (g *gen) markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Sweep report\n\n")
	if g.res.Headline != "" {
		p("**%s**\n\n", g.res.Headline)
	}
	if g.metric != "" {
		p("Every score is **%s**, the objective's metric as the runs' trials record it (`score.metric`, `score.r` or `score.soft_r`).\n\n", g.metric)
	}
	p("%d runs in %d alpha groups. Values are mean ± sample standard deviation (n − 1) over seeds; ", len(g.res.Runs), len(g.res.Alphas))
	p("final CVaR and mean score come from `summary.json` `final_eval` (the recommended x scored on every environment) ")
	p("unless the source column says `%s` (the model's posterior at the last iteration, for runs without a final evaluation). ", SourcePosterior)
	p("Lower 10 %% is the 0.1-quantile of the per-image scores (linear interpolation, as numpy and pandas). ")
	p("The objective column is CVaR at each row's own alpha (the mean for the reference): a different measure in every row, ")
	p("not comparable across rows; CVaR 0.1 is the same measure in every row.\n\n")

	g.crossMarkdown(p)
	g.guardsMarkdown(p)

	p("## Per alpha (tuning images)\n\n")
	p("| alpha | convention | runs (seeds) | objective: final CVaR at own alpha | mean score | CVaR 0.1 | lower 10 %% | evaluations | failures | wall time (s) | source |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range g.res.Alphas {
		seeds := make([]string, len(a.Seeds))
		for i, s := range a.Seeds {
			seeds[i] = strconv.FormatInt(s, 10)
		}
		p("| %s | %s | %d (%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n", a.name(), mdEscape(a.Convention),
			len(a.runs), strings.Join(seeds, ", "), fmtStat(a.FinalCVaR), fmtStat(a.FinalMean), fmtStat(a.CVaR10), fmtStat(a.Lower10),
			fmtStat(a.Evaluations), fmtStat(a.Failures), fmtStat(a.WallS), a.FinalSource)
	}

	if len(g.names) > 0 {
		p("\n## Recommended x per alpha\n\n")
		p("Mean ± std over seeds, in the units of the search space")
		if g.space != nil {
			p(" (bounds from config.json)")
		}
		p(".\n\n| alpha |")
		for _, n := range g.names {
			p(" %s |", mdEscape(n))
		}
		p("\n|---|")
		for range g.names {
			p("---|")
		}
		p("\n")
		if g.space != nil && len(g.space.Lo) == len(g.names) && len(g.space.Hi) == len(g.names) {
			p("| *bounds* |")
			for k := range g.names {
				p(" [%s, %s] |", fmtNum(g.space.Lo[k]), fmtNum(g.space.Hi[k]))
			}
			p("\n")
		}
		for _, a := range g.res.Alphas {
			p("| %s |", mdEscape(a.Label))
			for k := range g.names {
				s := Stat{}
				if k < len(a.RecX) {
					s = a.RecX[k]
				}
				p(" %s |", fmtStat(s))
			}
			p("\n")
		}
	}

	p("\n## Runs\n\n")
	p("| run | alpha | seed | status | objective: final CVaR at own alpha | mean score | CVaR 0.1 | lower 10 %% | evaluations | iterations | failures | wall time (s) | source |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range g.res.Alphas {
		for _, r := range a.runs {
			p("| %s | %s | %d | %s | %s | %s | %s | %s | %d | %d | %d | %s | %s |\n", mdEscape(r.Name), a.name(), r.Seed,
				mdEscape(r.Status), fmtNum(r.FinalCVaR), fmtNum(r.FinalMean), fmtNum(r.CVaR10), fmtNum(r.Lower10), r.Evaluations,
				r.Iterations, r.Failures, fmtNum(r.WallS), r.FinalSource)
		}
	}

	p("\n## Figures\n\n")
	var figs []string
	for _, f := range g.res.Files {
		rel, err := filepath.Rel(g.opts.Out, f)
		if err == nil {
			figs = append(figs, filepath.ToSlash(rel))
		}
	}
	sort.Strings(figs)
	for _, f := range figs {
		p("- [%s](%s)\n", f, f)
	}

	p("\n## Missing\n\n")
	missing, other := 0, 0
	for _, w := range g.res.Warnings {
		if w.Kind == WarnMissing || w.Kind == WarnMalformed {
			p("- %s\n", mdEscape(w.String()))
			missing++
		} else if w.Kind != WarnGuard {
			other++
		}
	}
	if missing == 0 {
		p("Nothing: every run has all its files and every line decoded.\n")
	}
	if other > 0 {
		p("\n## Other warnings\n\n")
		for _, w := range g.res.Warnings {
			if w.Kind != WarnMissing && w.Kind != WarnMalformed && w.Kind != WarnGuard {
				p("- %s\n", mdEscape(w.String()))
			}
		}
	}
	return b.Bytes()
}
