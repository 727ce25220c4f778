package gp

import (
	"fmt"

	"bohost/host/errs"
	"bohost/host/internal/num"
)

// Kernel names a covariance function.
type Kernel string

// Kernels.
const (
	RBF      Kernel = "rbf"      // squared exponential with ARD lengthscales (BoTorch ≥ 0.12 default)
	Matern52 Kernel = "matern52" // Matérn-5/2 with ARD lengthscales (BoTorch < 0.12 default)
)

// Prior names a set of hyper-parameter priors (and with it whether the
// outputscale is learned). The fit maximises the log marginal likelihood plus
// the log prior densities (MAP), as BoTorch does.
type Prior string

// Prior sets.
const (
	// PriorDefault picks PriorDimScaled for RBF and PriorGamma for Matérn-5/2.
	PriorDefault Prior = ""
	// PriorDimScaled is BoTorch ≥ 0.12: lengthscales LogNormal(√2 + ½·ln d, √3),
	// no outputscale (fixed at 1: the outputs are standardised), noise
	// LogNormal(−4, 1).
	PriorDimScaled Prior = "dimscaled"
	// PriorGamma is BoTorch < 0.12 (and the BoTorch 0.11.3 reference fits):
	// lengthscales Gamma(3, 6), outputscale Gamma(2, 0.15) (learned), noise
	// Gamma(1.1, 0.05). Rates, not scales.
	PriorGamma Prior = "gamma"
	// PriorNone is a plain maximum-likelihood fit (as scikit-learn), with the
	// outputscale learned. Hyper-parameters are kept in a wide box by a
	// quadratic penalty outside it.
	PriorNone Prior = "none"
)

// Options configure a Model. Use DefaultOptions and change fields; the zero
// value is valid but means fixed zero noise (plus jitter).
type Options struct {
	Kernel Kernel `json:"kernel"` // "rbf" (default; "" means rbf) or "matern52"
	// Bounds are the raw input bounds per dimension; inputs are scaled to the
	// unit cube with them. nil means [0, 1]^d with d taken from the data.
	// Points outside the bounds are allowed.
	Bounds [][2]float64 `json:"bounds"`
	// Noise is the fixed observation-noise variance in standardised-output
	// units, used when LearnNoise is false (0 is allowed: jitter only). It must
	// be 0 when LearnNoise is true.
	Noise float64 `json:"noise"`
	// LearnNoise learns the noise variance (default true via DefaultOptions).
	LearnNoise bool `json:"learn_noise"`
	// NoiseFloor is the lower bound on the learned noise variance in
	// standardised units (default 1e-4, as BoTorch).
	NoiseFloor float64 `json:"noise_floor"`
	// Restarts is the number of L-BFGS restarts from prior draws (default 4).
	// One more start is always made from the prior mode, and one from the
	// previous hyper-parameters when the model was fitted before.
	Restarts int `json:"restarts"`
	// MaxIter bounds the L-BFGS iterations per start (0: 200).
	MaxIter int `json:"max_iter"`
	// Seed seeds the prior draws of the restarts (math/rand/v2 PCG). Together
	// with the data and the previous hyper-parameters it fixes the fit.
	Seed uint64 `json:"seed"`
	// Prior picks the hyper-parameter priors ("" picks the kernel's default).
	Prior Prior `json:"prior"`
	// Workers bounds the goroutines running restarts (0: GOMAXPROCS). The
	// result does not depend on it.
	Workers int `json:"workers"`
	// DenseOnly turns off the Kronecker route of the hyper-parameter search
	// and of the final factorisation for RBF models on grid data
	// (GridSplit); the optimum is the same up to rounding, only slower. For
	// comparisons and tests.
	DenseOnly bool `json:"dense_only,omitempty"`
}

// DefaultOptions returns BoTorch ≥ 0.12 defaults: RBF kernel, dimension-scaled
// log-normal lengthscale prior, learned noise with LogNormal(−4, 1) prior and
// floor 1e-4, 4 restarts, 200 iterations, seed 0.
func DefaultOptions() Options {
	return Options{
		Kernel:     RBF,
		LearnNoise: true,
		NoiseFloor: 1e-4,
		Restarts:   4,
		MaxIter:    200,
	}
}

func badOpt(field, format string, args ...any) error {
	return errs.New(errs.BadArg, "gp.options", "%s %s", field, fmt.Sprintf(format, args...))
}

// Validate reports the first invalid field as a bad_arg *errs.Error.
func (o Options) Validate() error {
	switch o.Kernel {
	case "", RBF, Matern52:
	default:
		return badOpt("Kernel", "must be %q or %q, got %q", RBF, Matern52, o.Kernel)
	}
	switch o.Prior {
	case PriorDefault, PriorDimScaled, PriorGamma, PriorNone:
	default:
		return badOpt("Prior", "must be \"\", %q, %q or %q, got %q", PriorDimScaled, PriorGamma, PriorNone, o.Prior)
	}
	for i, b := range o.Bounds {
		if !num.Finite(b[0]) || !num.Finite(b[1]) || !(b[0] < b[1]) {
			return badOpt(fmt.Sprintf("Bounds[%d]", i), "must be finite with lo < hi, got [%g, %g]", b[0], b[1])
		}
	}
	if o.Bounds != nil && len(o.Bounds) == 0 {
		return badOpt("Bounds", "must be nil or have one entry per dimension, got an empty list")
	}
	if !num.Finite(o.Noise) || o.Noise < 0 {
		return badOpt("Noise", "must be a finite variance >= 0, got %g", o.Noise)
	}
	if o.LearnNoise && o.Noise != 0 {
		return badOpt("Noise", "must be 0 when LearnNoise is true (got %g); set LearnNoise=false for a fixed noise", o.Noise)
	}
	if !num.Finite(o.NoiseFloor) || o.NoiseFloor < 0 || o.NoiseFloor > 1 {
		return badOpt("NoiseFloor", "must be in [0, 1] (standardised units), got %g", o.NoiseFloor)
	}
	if o.Restarts < 0 || o.Restarts > 1000 {
		return badOpt("Restarts", "must be in [0, 1000], got %d", o.Restarts)
	}
	if o.MaxIter < 0 {
		return badOpt("MaxIter", "must be >= 0 (0: 200), got %d", o.MaxIter)
	}
	if o.Workers < 0 {
		return badOpt("Workers", "must be >= 0 (0: GOMAXPROCS), got %d", o.Workers)
	}
	return nil
}

// kernel returns the effective kernel.
func (o Options) kernel() Kernel {
	if o.Kernel == "" {
		return RBF
	}
	return o.Kernel
}

// prior returns the effective prior set.
func (o Options) prior() Prior {
	if o.Prior != PriorDefault {
		return o.Prior
	}
	if o.kernel() == Matern52 {
		return PriorGamma
	}
	return PriorDimScaled
}

func (o Options) maxIter() int {
	if o.MaxIter == 0 {
		return 200
	}
	return o.MaxIter
}
