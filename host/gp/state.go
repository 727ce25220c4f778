package gp

import (
	"slices"

	"bohost/host/errs"
	"bohost/host/internal/num"
)

// StateFormat is the version of State's layout.
const StateFormat = 1

// State is a model's complete serialisable state (JSON-friendly plain data):
// Restore(m.State()) predicts exactly as m does, and a Fit after Restore
// warm-starts from Hyper exactly as a Fit on m would.
type State struct {
	Format  int         `json:"format"`
	Options Options     `json:"options"`
	Fitted  bool        `json:"fitted"`
	Hyper   Hyper       `json:"hyper"`
	X       [][]float64 `json:"x"` // raw training inputs
	Y       []float64   `json:"y"` // raw training outputs
	YMean   float64     `json:"y_mean"`
	YStd    float64     `json:"y_std"`
	Jitter  float64     `json:"jitter"` // absolute diagonal jitter of the factorisation
}

// State returns the model's state (deep copies).
func (m *Model) State() State {
	s := State{Format: StateFormat, Options: m.Options(), Fitted: m.fitted,
		YMean: m.yMean, YStd: m.yStd, Jitter: m.jitter}
	if m.warm {
		s.Hyper = m.h.clone()
	}
	if m.fitted {
		s.X = make([][]float64, len(m.xRaw))
		for i, r := range m.xRaw {
			s.X[i] = slices.Clone(r)
		}
		s.Y = slices.Clone(m.yRaw)
	}
	return s
}

// Restore rebuilds a model from a State: the kernel matrix is factorised
// afresh at the stored hyper-parameters, standardisation and jitter (no
// optimisation). A model conditioned with Condition restores to the same
// predictions up to rounding (its factor was built by block extension).
func Restore(s State) (*Model, error) {
	const op = "gp.restore"
	if s.Format != StateFormat {
		return nil, errs.New(errs.BadArg, op, "State.Format must be %d, got %d", StateFormat, s.Format)
	}
	m, err := New(s.Options)
	if err != nil {
		return nil, err
	}
	if !s.Fitted {
		if len(s.Hyper.Lengthscales) > 0 {
			m.h, m.warm = s.Hyper.clone(), true
		}
		return m, nil
	}
	u, err := m.checkData(op, s.X, s.Y)
	if err != nil {
		return nil, err
	}
	if err := checkHyper(op, s.Hyper, m.d); err != nil {
		return nil, err
	}
	if !num.Finite(s.YMean) || !num.Finite(s.YStd) || s.YStd <= 0 {
		return nil, errs.New(errs.BadArg, op, "State.YMean must be finite and State.YStd finite and > 0, got %g and %g", s.YMean, s.YStd)
	}
	if !num.Finite(s.Jitter) || s.Jitter < 0 {
		return nil, errs.New(errs.BadArg, op, "State.Jitter must be finite and >= 0, got %g", s.Jitter)
	}
	m.setData(s.X, s.Y, u, s.YMean, s.YStd)
	m.h = s.Hyper.clone()
	if err := m.factorize(op, s.Jitter); err != nil {
		return nil, err
	}
	return m, nil
}
