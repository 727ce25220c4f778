package bo

import (
	"slices"

	"bohost/host/errs"
	"bohost/host/gp"
)

// StateFormat is the version of State.
const StateFormat = 1

// State is the optimizer's complete state as plain JSON-able data. Every
// random choice is derived from (Config.Seed, iteration, purpose) by a
// counter-based hash, so the iteration counter is the position of every RNG
// stream; refitting from the observations with the stored hyper-parameters
// reproduces the next ask bit for bit.
type State struct {
	Format       int           `json:"format"`
	Config       Config        `json:"config"`
	Observations []Observation `json:"observations"`
	WSet         [][]float64   `json:"w_set"`
	WIndices     []int         `json:"w_indices,omitempty"`
	Hyper        *gp.Hyper     `json:"hyper,omitempty"` // warm start of the next fit
	Iteration    int           `json:"iteration"`
	InitAsked    bool          `json:"init_asked"`
	Pending      []Candidate   `json:"pending,omitempty"`
	PendingIter  int           `json:"pending_iteration"`
	// PendingAsked is the iteration whose ask proposed each pending
	// candidate (absent in states written before asynchronous asks: all
	// were proposed by PendingIter).
	PendingAsked []int `json:"pending_asked,omitempty"`
	// Fit is the acquisition fit in use for the current data (saved between
	// an ask and the next tell): the iteration that seeded it and its warm
	// start. A restored optimiser asked again before a tell refits exactly
	// that model, as the original reuses it. Absent when a tell came after
	// the last fit.
	Fit *FitState `json:"fit,omitempty"`
	// RNG documents the streams: seed-derived, positioned by Iteration.
	RNG      string      `json:"rng"`
	LastDiag Diagnostics `json:"last_diagnostics"`
}

// FitState identifies the current acquisition fit (State.Fit).
type FitState struct {
	Iteration    int       `json:"iteration"`
	Observations int       `json:"observations"` // how many observations it was fitted on
	Warm         *gp.Hyper `json:"warm,omitempty"`
}

// State returns a deep copy of the optimizer's state.
func (o *Optimizer) State() State {
	s := State{Format: StateFormat, Config: o.cfg, Iteration: o.iter, InitAsked: o.initDone,
		WSet: o.WSet(), WIndices: slices.Clone(o.widx), PendingIter: o.pendIt, LastDiag: o.diag,
		RNG: "splitmix64(seed, iteration, purpose) per iteration; no other stream"}
	if o.cfg.GP != nil {
		g := *o.cfg.GP
		g.Bounds = slices.Clone(g.Bounds)
		s.Config.GP = &g
	}
	for _, ob := range o.obs {
		ob.X, ob.W = slices.Clone(ob.X), slices.Clone(ob.W)
		s.Observations = append(s.Observations, ob)
	}
	for _, c := range o.pending {
		s.Pending = append(s.Pending, Candidate{X: slices.Clone(c.X), W: slices.Clone(c.W), EnvIndex: c.EnvIndex})
	}
	for _, a := range o.pendAt {
		if a != o.pendIt {
			s.PendingAsked = slices.Clone(o.pendAt) // only when the asks differ: older readers see the same state
			break
		}
	}
	s.Hyper = cloneHyper(o.hyper)
	if f := o.fitted; f != nil && f.nObs == len(o.obs) {
		s.Fit = &FitState{Iteration: f.it, Observations: f.nObs, Warm: cloneHyper(f.warm)}
	}
	return s
}

// Restore rebuilds an optimizer from a State (as returned by State, possibly
// through JSON).
func Restore(s State) (*Optimizer, error) {
	if s.Format != StateFormat {
		return nil, errs.New(errs.BadArg, "bo.Restore", "state format must be %d, got %d", StateFormat, s.Format)
	}
	o, err := New(s.Config)
	if err != nil {
		return nil, err
	}
	if len(s.WSet) != o.cfg.NW {
		return nil, errs.New(errs.BadArg, "bo.Restore", "w_set has %d w's, want n_w = %d", len(s.WSet), o.cfg.NW)
	}
	o.wset = nil
	for _, w := range s.WSet {
		if len(w) != o.dw {
			return nil, errs.New(errs.BadArg, "bo.Restore", "w_set entry has %d values, want %d", len(w), o.dw)
		}
		o.wset = append(o.wset, slices.Clone(w))
	}
	o.widx = slices.Clone(s.WIndices)
	for _, ob := range s.Observations {
		if err := o.checkCand("bo.Restore", Candidate{X: ob.X, W: ob.W, EnvIndex: ob.EnvIndex}); err != nil {
			return nil, err
		}
		ob.X, ob.W = slices.Clone(ob.X), slices.Clone(ob.W)
		o.obs = append(o.obs, ob)
	}
	if s.PendingAsked != nil && len(s.PendingAsked) != len(s.Pending) {
		return nil, errs.New(errs.BadArg, "bo.Restore", "pending_asked has %d entries for %d pending candidates", len(s.PendingAsked), len(s.Pending))
	}
	for i, c := range s.Pending {
		o.pending = append(o.pending, Candidate{X: slices.Clone(c.X), W: slices.Clone(c.W), EnvIndex: c.EnvIndex})
		at := s.PendingIter
		if s.PendingAsked != nil {
			at = s.PendingAsked[i]
		}
		o.pendAt = append(o.pendAt, at)
	}
	o.pendIt = s.PendingIter
	o.iter = s.Iteration
	o.initDone = s.InitAsked
	o.diag = s.LastDiag
	o.hyper = cloneHyper(s.Hyper)
	if f := s.Fit; f != nil && f.Observations == len(o.obs) {
		o.fitted = &fitted{nObs: f.Observations, it: f.Iteration, warm: cloneHyper(f.Warm)}
	}
	return o, nil
}
