package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// trialScore is the part of a trial's score record that names the metric:
// score.metric ("f" or "soft_lp") and its tolerance (score.r for F_r,
// score.soft_r for soft LP_r). Any other shape (a Lua objective's own
// record) leaves it empty, never a decoding error.
type trialScore struct {
	Metric string
	R      float64
	SoftR  float64
}

func (s *trialScore) UnmarshalJSON(b []byte) error {
	var v struct {
		Metric json.RawMessage `json:"metric"`
		R      json.RawMessage `json:"r"`
		SoftR  json.RawMessage `json:"soft_r"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	_ = json.Unmarshal(v.Metric, &s.Metric)
	_ = json.Unmarshal(v.R, &s.R)
	_ = json.Unmarshal(v.SoftR, &s.SoftR)
	return nil
}

// metricLabel names the score of a run's objective from its trials:
// "soft LP_r (r = 20 px)", "F_r (r = 3 px)" (a range of r when images of
// different sizes scaled it), "" when the trials do not say.
func metricLabel(r *Run) string {
	name := ""
	lo, hi := 0.0, 0.0
	for _, t := range r.Trials {
		s := t.Score
		var m string
		var rr float64
		switch {
		case s.Metric == "soft_lp":
			m, rr = "soft LP_r", s.SoftR
		case s.Metric == "f" || (s.Metric == "" && s.R > 0):
			m, rr = "F_r", s.R
		default:
			continue
		}
		if name == "" {
			name, lo, hi = m, rr, rr
		}
		if m != name {
			return "mixed metrics"
		}
		if rr > 0 {
			lo, hi = min(lo, rr), max(hi, rr)
		}
	}
	switch {
	case name == "":
		return ""
	case hi <= 0:
		return name
	case hi-lo < 0.005:
		return fmt.Sprintf("%s (r = %s px)", name, fmtNum(lo))
	}
	return fmt.Sprintf("%s (r = %s–%s px)", name, fmtNum(lo), fmtNum(hi))
}

// scoreMetric names the report's score: the metric every run's trials
// record, or a guard finding when runs were scored by different metrics
// (their scores are then not comparable).
func (g *gen) scoreMetric() {
	by := map[string][]string{}
	for _, r := range g.res.Runs {
		if l := metricLabel(r.run); l != "" {
			by[l] = append(by[l], r.Name)
		}
	}
	switch len(by) {
	case 0:
	case 1:
		for l := range by {
			g.metric = l
		}
	default:
		var parts []string
		for l, runs := range by {
			parts = append(parts, fmt.Sprintf("%s (%s)", l, strings.Join(runs, ", ")))
		}
		sort.Strings(parts)
		g.warn("", WarnGuard, "trials.jsonl", "runs were scored by different metrics, so their scores are not comparable: %s", strings.Join(parts, "; "))
	}
}

// scoreWord is what the figures call a score: the metric with its r, or
// "score" when the trials do not name it.
func (g *gen) scoreWord() string {
	if g.metric == "" {
		return "score"
	}
	return g.metric
}
