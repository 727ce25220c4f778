package boxopt

import (
	"context"
	"math"

	"bohost/host/errs"
	"bohost/host/internal/num"
)

// Func is the objective to minimise. When grad is non-nil (len(x) values)
// it must be filled with the gradient at x; with Settings.FiniteDiff it is
// always called with grad == nil. Returning NaN or +Inf marks x as
// infeasible for the line search.
type Func func(x, grad []float64) float64

// Settings controls Minimize. Zero fields take the documented defaults.
type Settings struct {
	MaxIter    int     // iterations (default 1000)
	GradTol    float64 // stop when max_i |P(x - g) - x|_i <= GradTol (default 1e-6)
	FTol       float64 // stop when (f_old - f_new) <= FTol * max(|f_old|, |f_new|, 1) (default 1e-12)
	FiniteDiff bool    // estimate the gradient by central differences inside the box
}

// Defaults for zero Settings fields.
const (
	DefaultMaxIter = 1000
	DefaultGradTol = 1e-6
	DefaultFTol    = 1e-12
	memory         = 10 // L-BFGS pairs kept
)

// Status values of Result.
const (
	StatusGradTol = "gtol"     // projected gradient below GradTol
	StatusFTol    = "ftol"     // relative decrease below FTol
	StatusMaxIter = "max_iter" // MaxIter reached
	StatusNoStep  = "no_step"  // the line search found no decrease (at a kink or numerical noise)
	StatusCancel  = "canceled" // ctx was cancelled; X is the best point so far
)

// Result is the outcome of a minimisation.
type Result struct {
	X      []float64 // the best point found, inside the box
	F      float64   // f(X)
	Iter   int       // iterations of the (winning) run
	Evals  int       // objective calls, finite-difference calls included
	Status string    // one of the Status constants
}

// Validate checks the settings and names a bad field.
func (s *Settings) Validate() error {
	if s == nil {
		return nil
	}
	if s.MaxIter < 0 {
		return errs.New(errs.BadArg, "boxopt.Settings", "MaxIter must be >= 0 (0 = default %d), got %d", DefaultMaxIter, s.MaxIter)
	}
	if !(s.GradTol >= 0) || math.IsInf(s.GradTol, 0) {
		return errs.New(errs.BadArg, "boxopt.Settings", "GradTol must be finite and >= 0 (0 = default %g), got %v", DefaultGradTol, s.GradTol)
	}
	if !(s.FTol >= 0) || math.IsInf(s.FTol, 0) {
		return errs.New(errs.BadArg, "boxopt.Settings", "FTol must be finite and >= 0 (0 = default %g), got %v", DefaultFTol, s.FTol)
	}
	return nil
}

func (s *Settings) withDefaults() Settings {
	var r Settings
	if s != nil {
		r = *s
	}
	if r.MaxIter == 0 {
		r.MaxIter = DefaultMaxIter
	}
	if r.GradTol == 0 {
		r.GradTol = DefaultGradTol
	}
	if r.FTol == 0 {
		r.FTol = DefaultFTol
	}
	return r
}

func checkBox(op string, lo, hi []float64) error {
	if len(lo) == 0 {
		return errs.New(errs.BadArg, op, "the box must have at least one dimension, got len(lo) = 0")
	}
	if len(lo) != len(hi) {
		return errs.New(errs.BadArg, op, "lo and hi must have the same length, got %d and %d", len(lo), len(hi))
	}
	for i := range lo {
		if math.IsNaN(lo[i]) || math.IsNaN(hi[i]) || math.IsInf(lo[i], 0) || math.IsInf(hi[i], 0) || lo[i] > hi[i] {
			return errs.New(errs.BadArg, op, "bounds must be finite with lo <= hi, got lo[%d] = %v, hi[%d] = %v", i, lo[i], i, hi[i])
		}
	}
	return nil
}

// problem wraps f with evaluation counting and finite differences.
type problem struct {
	f      Func
	lo, hi []float64
	fd     bool
	evals  int
	tmp    []float64
}

// eval returns f(x) and fills g.
func (p *problem) eval(x, g []float64) float64 {
	if !p.fd {
		p.evals++
		return p.f(x, g)
	}
	p.evals++
	fx := p.f(x, nil)
	p.gradFD(x, fx, g)
	return fx
}

// gradFD fills g by central differences with step h_i = eps^(1/3) max(1,
// |x_i|), switching to a one-sided difference where a central step would
// leave the box.
func (p *problem) gradFD(x []float64, fx float64, g []float64) {
	const cbrtEps = 6.0554544523933395e-06 // 2^-52^(1/3)
	if p.tmp == nil {
		p.tmp = make([]float64, len(x))
	}
	t := p.tmp
	copy(t, x)
	for i := range x {
		h := cbrtEps * math.Max(1, math.Abs(x[i]))
		up, down := x[i]+h <= p.hi[i], x[i]-h >= p.lo[i]
		switch {
		case up && down:
			t[i] = x[i] + h
			fp := p.f(t, nil)
			t[i] = x[i] - h
			fm := p.f(t, nil)
			p.evals += 2
			g[i] = (fp - fm) / (2 * h)
		case up:
			t[i] = x[i] + h
			g[i] = (p.f(t, nil) - fx) / h
			p.evals++
		case down:
			t[i] = x[i] - h
			g[i] = (fx - p.f(t, nil)) / h
			p.evals++
		default: // the box is narrower than h in this coordinate
			g[i] = 0
		}
		t[i] = x[i]
	}
}

func clampTo(dst, x, lo, hi []float64) {
	for i := range x {
		dst[i] = math.Min(math.Max(x[i], lo[i]), hi[i])
	}
}

// projGradNorm returns max_i |P(x - g)_i - x_i|.
func projGradNorm(x, g, lo, hi []float64) float64 {
	var m float64
	for i := range x {
		v := math.Min(math.Max(x[i]-g[i], lo[i]), hi[i]) - x[i]
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// Minimize minimises f over the box [lo, hi] from x0 (clamped into the box)
// by projected L-BFGS: the quasi-Newton direction is computed on the free
// variables (those not held at a bound by the gradient), and an Armijo
// backtracking search runs along the projected path P(x + t d). It stops on
// the projected-gradient rule (GradTol), on a small relative decrease (FTol),
// after MaxIter iterations, or when the line search finds no decrease.
//
// Errors are *errs.Error: bad_arg for bad bounds, x0 or settings; failed when
// f is not finite at x0 (or grad is not finite there); canceled when ctx is
// done, with the best point so far in the Result.
func Minimize(ctx context.Context, f Func, x0, lo, hi []float64, s *Settings) (Result, error) {
	const op = "boxopt.Minimize"
	if f == nil {
		return Result{}, errs.New(errs.BadArg, op, "f must not be nil")
	}
	if err := checkBox(op, lo, hi); err != nil {
		return Result{}, err
	}
	if len(x0) != len(lo) {
		return Result{}, errs.New(errs.BadArg, op, "x0 must have len(lo) = %d values, got %d", len(lo), len(x0))
	}
	for i, v := range x0 {
		if math.IsNaN(v) {
			return Result{}, errs.New(errs.BadArg, op, "x0[%d] is NaN", i)
		}
	}
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	set := s.withDefaults()
	p := &problem{f: f, lo: lo, hi: hi, fd: set.FiniteDiff}
	return minimize(ctx, p, x0, set)
}

func minimize(ctx context.Context, p *problem, x0 []float64, set Settings) (Result, error) {
	n := len(x0)
	lo, hi := p.lo, p.hi
	x := make([]float64, n)
	clampTo(x, x0, lo, hi)
	g := make([]float64, n)
	fx := p.eval(x, g)
	if math.IsNaN(fx) || math.IsInf(fx, 0) {
		return Result{X: x, F: fx, Evals: p.evals}, errs.New(errs.Failed, "boxopt.Minimize", "f(x0) = %v is not finite", fx)
	}
	for i, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{X: x, F: fx, Evals: p.evals}, errs.New(errs.Failed, "boxopt.Minimize", "gradient[%d] at x0 is %v", i, v)
		}
	}
	var (
		sMem, yMem [][]float64
		rho        []float64
		d          = make([]float64, n)
		xn         = make([]float64, n)
		gn         = make([]float64, n)
		alpha      = make([]float64, memory)
		free       = make([]bool, n)
	)
	res := func(iter int, status string) Result {
		return Result{X: x, F: fx, Iter: iter, Evals: p.evals, Status: status}
	}
	for iter := 0; ; iter++ {
		if err := ctx.Err(); err != nil {
			return res(iter, StatusCancel), errs.Wrap(errs.Canceled, "boxopt.Minimize", err)
		}
		if projGradNorm(x, g, lo, hi) <= set.GradTol {
			return res(iter, StatusGradTol), nil
		}
		if iter >= set.MaxIter {
			return res(iter, StatusMaxIter), nil
		}
		// Free variables: not held at a bound by the gradient.
		for i := range x {
			free[i] = !((x[i] <= lo[i] && g[i] > 0) || (x[i] >= hi[i] && g[i] < 0))
		}
		// Two-loop recursion on the free subspace.
		for i := range d {
			if free[i] {
				d[i] = -g[i]
			} else {
				d[i] = 0
			}
		}
		for k := len(sMem) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dotFree(sMem[k], d, free)
			axpyFree(-alpha[k], yMem[k], d, free)
		}
		if k := len(sMem) - 1; k >= 0 {
			gamma := dotFree(sMem[k], yMem[k], free) / dotFree(yMem[k], yMem[k], free)
			if gamma > 0 && !math.IsInf(gamma, 0) && !math.IsNaN(gamma) {
				for i := range d {
					d[i] *= gamma
				}
			}
		}
		for k := range sMem {
			beta := rho[k] * dotFree(yMem[k], d, free)
			axpyFree(alpha[k]-beta, sMem[k], d, free)
		}
		gd := 0.0
		for i := range d {
			gd += g[i] * d[i]
		}
		if !(gd < 0) { // not a descent direction: restart from steepest descent
			sMem, yMem, rho = sMem[:0], yMem[:0], rho[:0]
			gd = 0
			for i := range d {
				if free[i] {
					d[i] = -g[i]
				} else {
					d[i] = 0
				}
				gd -= d[i] * d[i]
			}
		}
		// Initial step: 1 for quasi-Newton steps, a unit-length move first.
		t := 1.0
		if len(sMem) == 0 {
			dn := 0.0
			for _, v := range d {
				dn = math.Max(dn, math.Abs(v))
			}
			if dn > 0 {
				t = math.Min(1, 1/dn)
			}
		}
		// Armijo backtracking along the projected path.
		const c1 = 1e-4
		var fn float64
		ok := false
		for ls := 0; ls < 60; ls++ {
			for i := range x {
				xn[i] = math.Min(math.Max(x[i]+t*d[i], lo[i]), hi[i])
			}
			dec := 0.0
			moved := false
			for i := range x {
				dec += g[i] * (xn[i] - x[i])
				if xn[i] != x[i] {
					moved = true
				}
			}
			if !moved {
				break
			}
			fn = p.eval(xn, gn)
			if !math.IsNaN(fn) && fn <= fx+c1*dec && num.Finite(gn...) {
				ok = true
				break
			}
			t *= 0.5
		}
		if !ok {
			if len(sMem) > 0 { // drop the curvature memory and retry with steepest descent
				sMem, yMem, rho = sMem[:0], yMem[:0], rho[:0]
				continue
			}
			return res(iter, StatusNoStep), nil
		}
		// Curvature pair.
		sv, yv := make([]float64, n), make([]float64, n)
		var sy, yy float64
		for i := range x {
			sv[i] = xn[i] - x[i]
			yv[i] = gn[i] - g[i]
			sy += sv[i] * yv[i]
			yy += yv[i] * yv[i]
		}
		if sy > 1e-10*yy && sy > 0 {
			if len(sMem) == memory {
				sMem, yMem, rho = sMem[1:], yMem[1:], rho[1:]
			}
			sMem, yMem, rho = append(sMem, sv), append(yMem, yv), append(rho, 1/sy)
		}
		fOld := fx
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if fOld-fx <= set.FTol*math.Max(math.Max(math.Abs(fOld), math.Abs(fx)), 1) {
			return res(iter+1, StatusFTol), nil
		}
	}
}

func dotFree(a, b []float64, free []bool) float64 {
	var s float64
	for i := range a {
		if free[i] {
			s += a[i] * b[i]
		}
	}
	return s
}

func axpyFree(alpha float64, x, y []float64, free []bool) {
	for i := range x {
		if free[i] {
			y[i] += alpha * x[i]
		}
	}
}
