package bo

import "slices"

// CandidateFor is the candidate that evaluating x at w answers, for Tell and
// TellFailed when only x and w are known (a script passing back what Ask
// returned): a pending candidate of the last Ask with this x and w, else
// the environment whose features are w (finite environments), else the
// point (x, w) alone, with EnvIndex -1.
func (o *Optimizer) CandidateFor(x, w []float64) Candidate {
	c := Candidate{X: x, W: w, EnvIndex: -1}
	for _, p := range o.pending {
		if slices.Equal(p.X, x) && slices.Equal(p.W, w) {
			c.EnvIndex = p.EnvIndex
			return c
		}
	}
	for i, e := range o.cfg.Env.List {
		if slices.Equal(e, w) {
			c.EnvIndex = i
			return c
		}
	}
	return c
}
