package bo

import (
	"math"
	"slices"

	"bohost/host/errs"
)

// MaxAbsY is the largest |y| the model can use at all: beyond it the GP's
// standardisation squares values and sums of squares overflow to +Inf
// (gopher-lua's -math.huge is the finite -1.8e308, so such values do reach
// Tell).
const MaxAbsY = 1e100

// DefaultOutlierFactor is Config.OutlierFactor's default. Measured with the
// check off on a smooth 2-D objective whose sound values have median -0.14
// and scale 0.093 (docs/runs.md, "Values the model cannot use"): a region of
// the box returning y = -100 (1,070 scales below the median) left the
// recommendation sound; y = -300 (3,200 scales) put the posterior CVaR above
// every observed value, and beyond that the posterior grows with the
// outlier (posterior CVaR 672 after y = -1e6). The optimiser maximises, so a
// value far below everything seen is a failure in disguise (a penalty, a
// sentinel such as -math.huge), and the failure policy's "worst" is the
// right stand-in for it; a value far above may be a breakthrough after a
// flat start, so it is judged HighOutlierScale times more leniently.
const DefaultOutlierFactor = 1000

// HighOutlierScale multiplies the outlier factor for values above the data.
const HighOutlierScale = 1e4

// minOutlierObs is how many successful observations the outlier rule needs
// before it judges a value relative to them.
const minOutlierObs = 5

// yLimits are the outlier limits of a set of successful observations.
type yLimits struct {
	n          int     // successful observations judged by
	med, q3    float64 // their median and upper quartile
	scale      float64 // max(q3 - med, max(|med|, |q3|)/10)
	low, high  float64 // values below low or above high are outliers
	factor     float64
	configured bool // false: fewer than minOutlierObs values, no scale, or the check is off
}

// limits computes the outlier limits of the successful observations: the
// distance from their median to their upper quartile (the upper half, so
// that even a minority of absurd low values, say a region of the box that
// returns -1e6, does not widen the scale they are judged by), floored at a
// tenth of the values' magnitude (so that a flat start, or a run
// concentrated near its optimum, does not make an ordinary value an
// outlier); a value more than Config.OutlierFactor times that below the
// median, or HighOutlierScale times more above the upper quartile, is an
// outlier.
func (o *Optimizer) limits() yLimits {
	f := o.cfg.OutlierFactor
	if f == 0 {
		f = DefaultOutlierFactor
	}
	var ys []float64
	for _, ob := range o.obs {
		if ob.How == "ok" {
			ys = append(ys, ob.Y)
		}
	}
	l := yLimits{n: len(ys), factor: f, low: math.Inf(-1), high: math.Inf(1)}
	if f < 0 || len(ys) < minOutlierObs {
		return l
	}
	slices.Sort(ys)
	n := len(ys)
	l.med, l.q3 = ys[n/2], ys[n-1-n/4]
	if n%2 == 0 {
		l.med = ys[n/2-1]/2 + ys[n/2]/2
	}
	l.scale = max(l.q3-l.med, 0.1*max(math.Abs(l.med), math.Abs(l.q3)))
	if !(l.scale > 0) || math.IsInf(l.scale, 0) {
		return l // the upper half is all zeros: no scale to judge by
	}
	l.low, l.high = l.med-f*l.scale, l.q3+f*HighOutlierScale*l.scale
	l.configured = true
	return l
}

func (l yLimits) outlier(y float64) bool { return y < l.low || y > l.high }

// CheckY reports whether the optimiser's model can use y as an observation:
// an error of kind bad_value naming the value and why when y is not finite,
// |y| > MaxAbsY, or y is an outlier of the successful observations told so
// far (more than OutlierFactor times their scale below their median; see
// limits). Tell refuses such a y; a run records the evaluation as failed
// instead (docs/runs.md).
func (o *Optimizer) CheckY(y float64) error {
	const op = "bo.check_y"
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return errs.New(errs.BadValue, op, "y = %g is not finite", y)
	}
	if math.Abs(y) > MaxAbsY {
		return errs.New(errs.BadValue, op, "y = %g is beyond ±%g, where the GP's arithmetic overflows", y, MaxAbsY).
			WithHint("return a finite score on the objective's usual scale for a bad outcome, or fail the evaluation (error(...)) and let on_failure decide")
	}
	l := o.limits()
	if !l.configured || !l.outlier(y) {
		return nil
	}
	where, d, lim := "below the median", (l.med-y)/l.scale, l.factor
	if y > l.high {
		where, d, lim = "above the upper quartile", (y-l.q3)/l.scale, l.factor*HighOutlierScale
	}
	return errs.New(errs.BadValue, op, "y = %g is %.3g scales %s of the %d successful evaluations so far (median %.6g, upper quartile %.6g, scale %.3g); the GP's fit degenerates around such a value (the limit is %g scales, optimizer.outlier_factor = %g)",
		y, d, where, l.n, l.med, l.q3, l.scale, lim, l.factor).
		WithHint("if such values are real, transform the objective (e.g. a log) or raise optimizer.outlier_factor (-1 turns the check off)")
}

// Outliers returns the indices (into Observations) of successful
// observations the model does not use as they are: values that became
// outliers once more data came in (typically one of the first few values,
// told before there was a scale to judge it by). The fit replaces each by
// the nearest limit of the others' range (the worst, or best, non-outlier
// value), reproducibly from the observations alone.
func (o *Optimizer) Outliers() []int {
	l := o.limits()
	if !l.configured {
		return nil
	}
	var out []int
	for i, ob := range o.obs {
		if ob.How == "ok" && l.outlier(ob.Y) {
			out = append(out, i)
		}
	}
	return out
}

// WorstY is the worst y the model uses: the lowest non-outlier value told
// (successful, or a failure told as the worst); ok is false before any.
// TellFailed's "worst" policy tells it.
func (o *Optimizer) WorstY() (y float64, ok bool) {
	l := o.limits()
	y = math.Inf(1)
	for _, ob := range o.obs {
		if ob.How != FailSkip && !l.outlier(ob.Y) && ob.Y < y {
			y, ok = ob.Y, true
		}
	}
	return y, ok
}

// clipY replaces, in the training targets y (from trainData, in the
// order of the non-skipped observations), the outliers by the nearest
// non-outlier value told.
func (o *Optimizer) clipY(y []float64) {
	l := o.limits()
	if !l.configured {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range y {
		if !l.outlier(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for i, v := range y {
		switch {
		case v < l.low:
			y[i] = lo
		case v > l.high:
			y[i] = hi
		}
	}
}

// checkW reports a w outside the optimiser's environments: outside the box
// of a continuous Env, or, for a finite Env, not the feature vector of the
// candidate's environment index (or, without one, outside the list's hull).
func (o *Optimizer) checkW(op string, c Candidate) error {
	e := o.cfg.Env
	if len(e.List) > 0 && c.EnvIndex >= 0 {
		if c.EnvIndex >= len(e.List) {
			return errs.New(errs.BadArg, op, "environment index %d is outside the %d environments", c.EnvIndex+1, len(e.List))
		}
		if !slices.Equal(c.W, e.List[c.EnvIndex]) {
			return errs.New(errs.BadArg, op, "w = %v is not environment %d's features %v", c.W, c.EnvIndex+1, e.List[c.EnvIndex])
		}
		return nil
	}
	for k, v := range c.W {
		lo, hi := o.wlo[k], o.whi[k]
		what := "the environment bounds"
		if len(e.List) > 0 {
			lo, hi = e.List[0][k], e.List[0][k]
			for _, l := range e.List {
				lo, hi = math.Min(lo, l[k]), math.Max(hi, l[k])
			}
			what = "the range of the environments' features"
		}
		if math.IsNaN(v) || v < lo || v > hi {
			return errs.New(errs.BadArg, op, "w[%d] = %g is outside %s [%g, %g]", k+1, v, what, lo, hi).
				WithHint("w must be a point of the optimiser's env (%d dimension(s)); the model is only defined there", o.dw)
		}
	}
	return nil
}
