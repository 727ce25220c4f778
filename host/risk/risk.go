package risk

import (
	"fmt"
	"math"
	"slices"

	"bohost/host/errs"
)

// Convention says how alpha is read. See the package documentation.
type Convention string

const (
	// Bohost: alpha is the fraction of worst outcomes averaged (lower tail,
	// maximisation), with the Rockafellar–Uryasev fractional boundary weight.
	// alpha = 0.1 is the most risk-averse of the usual sweep.
	Bohost Convention = "bohost"
	// BoTorch: BoTorch's CVaR(alpha, n_w): alpha is the confidence level and
	// the worst (1 - alpha) share is averaged, k = n - (ceil(n*alpha) - 1)
	// computed in float64 exactly as BoTorch does.
	BoTorch Convention = "botorch"
)

// Measure kinds.
const (
	KindCVaR  = "cvar"
	KindVaR   = "var"
	KindMean  = "mean"
	KindWorst = "worst"
)

// snapTol is the distance from an integer within which alpha*n is taken to
// be that integer under the Bohost convention.
const snapTol = 1e-9

// Measure is a risk measure over the n_w values of f(x, w_1..w_nw).
// Alpha and Convention are used by "cvar" and "var" only; an empty
// Convention means Bohost.
type Measure struct {
	Kind       string // "cvar" | "var" | "mean" | "worst"
	Alpha      float64
	Convention Convention
}

func (m Measure) conv() Convention {
	if m.Convention == "" {
		return Bohost
	}
	return m.Convention
}

// Validate reports a *errs.Error of kind bad_arg naming the bad field.
func (m Measure) Validate() error {
	switch m.Kind {
	case KindCVaR, KindVaR:
		if err := checkAlpha("risk.Measure", m.Alpha); err != nil {
			return err
		}
		return checkConv("risk.Measure", m.Convention, true)
	case KindMean, KindWorst:
		return checkConv("risk.Measure", m.Convention, true)
	default:
		return errs.New(errs.BadArg, "risk.Measure",
			"Kind must be one of \"cvar\", \"var\", \"mean\", \"worst\", got %q", m.Kind)
	}
}

func checkAlpha(op string, alpha float64) error {
	if !(alpha > 0 && alpha <= 1) { // also rejects NaN
		return errs.New(errs.BadArg, op, "alpha must be in (0, 1], got %v", alpha)
	}
	return nil
}

func checkConv(op string, c Convention, allowEmpty bool) error {
	switch c {
	case Bohost, BoTorch:
		return nil
	case "":
		if allowEmpty {
			return nil
		}
	}
	return errs.New(errs.BadArg, op, "Convention must be \"bohost\" or \"botorch\", got %q", string(c))
}

// Tail returns the tail of n sorted values that a CVaR at alpha averages:
// the k smallest values with weight 1 each and the (k+1)-th smallest with
// weight frac in [0, 1), normalised by k + frac.
//
// Bohost: m = alpha*n, snapped to the nearest integer when within 1e-9 of it;
// k = floor(m), frac = m - k. For m < 1, k = 0 and the only weight is on the
// smallest value (the worst case).
//
// BoTorch: k = n - (ceil(n*alpha) - 1) with the product n*alpha taken in
// float64, as BoTorch computes it, and frac = 0. This reproduces BoTorch's
// floating-point trap on purpose: at n = 25, alpha = 0.28 the product is
// 7.000000000000001, so k = 18 rather than the exact 19.
//
// Tail panics if n < 1 or alpha is outside (0, 1]; validate first.
func Tail(n int, alpha float64, conv Convention) (k int, frac float64) {
	if n < 1 || !(alpha > 0 && alpha <= 1) {
		panic(fmt.Sprintf("risk: Tail(n=%d, alpha=%v) out of range", n, alpha))
	}
	switch conv {
	case BoTorch:
		idx := int(math.Ceil(float64(n)*alpha)) - 1
		return n - idx, 0
	default:
		m := alpha * float64(n)
		r := math.Round(m)
		if math.Abs(m-r) <= snapTol {
			return int(r), 0
		}
		k = int(math.Floor(m))
		return k, m - float64(k)
	}
}

// varIndex is the 0-based index, in ascending order, of the VaR sample.
func varIndex(n int, alpha float64, conv Convention) int {
	k, frac := Tail(n, alpha, conv)
	if conv == BoTorch {
		return k - 1
	}
	if frac > 0 {
		return k // the boundary sample, 0-based index k
	}
	return k - 1
}

func checkValues(op string, v []float64) error {
	if len(v) == 0 {
		return errs.New(errs.BadArg, op, "values must hold at least one value, got 0")
	}
	for i, x := range v {
		if math.IsNaN(x) {
			return errs.New(errs.BadArg, op, "values[%d] is NaN", i)
		}
	}
	return nil
}

// CVaR is the conditional value at risk of values (lower tail, maximisation)
// under the convention: the (weighted) mean of the worst tail given by Tail.
func CVaR(values []float64, alpha float64, conv Convention) (float64, error) {
	const op = "risk.CVaR"
	if err := checkAlpha(op, alpha); err != nil {
		return math.NaN(), err
	}
	if err := checkConv(op, conv, false); err != nil {
		return math.NaN(), err
	}
	if err := checkValues(op, values); err != nil {
		return math.NaN(), err
	}
	return cvar(values, alpha, conv), nil
}

// VaR is the value at risk. Bohost: the ceil(alpha*n)-th smallest value
// (exact alpha*n), i.e. the smallest v with P(Y <= v) >= alpha. BoTorch: the
// k-th smallest value with BoTorch's k (torch.quantile at 1 - alpha_idx/n,
// interpolation "lower").
func VaR(values []float64, alpha float64, conv Convention) (float64, error) {
	const op = "risk.VaR"
	if err := checkAlpha(op, alpha); err != nil {
		return math.NaN(), err
	}
	if err := checkConv(op, conv, false); err != nil {
		return math.NaN(), err
	}
	if err := checkValues(op, values); err != nil {
		return math.NaN(), err
	}
	s := slices.Clone(values)
	slices.Sort(s)
	return s[varIndex(len(s), alpha, conv)], nil
}

func cvar(values []float64, alpha float64, conv Convention) float64 {
	n := len(values)
	k, frac := Tail(n, alpha, conv)
	s := slices.Clone(values)
	slices.Sort(s) // n_w is small; a partial selection would do

	var sum float64
	for i := 0; i < k; i++ {
		sum += s[i]
	}
	if frac > 0 {
		sum += frac * s[k]
	}
	return sum / (float64(k) + frac)
}

// Eval returns the measure of values. It returns NaN when the measure is
// invalid (see Validate) or values is empty or holds a NaN.
func (m Measure) Eval(values []float64) float64 {
	if m.Validate() != nil || checkValues("", values) != nil {
		return math.NaN()
	}
	switch m.Kind {
	case KindCVaR:
		return cvar(values, m.Alpha, m.conv())
	case KindVaR:
		v, _ := VaR(values, m.Alpha, m.conv())
		return v
	case KindMean:
		var s float64
		for _, x := range values {
			s += x
		}
		return s / float64(len(values))
	default: // worst
		return slices.Min(values)
	}
}

// Weights returns w with Eval(values) == sum_i w[i]*values[i]; w is the
// (sub)gradient of the measure with respect to values, for acquisition
// gradients. Ties are broken by index (the earlier index counts as
// smaller), so the result is deterministic. dst is reused when it has room;
// the result has len(values). On an invalid measure or input, every weight
// is NaN.
func (m Measure) Weights(values []float64, dst []float64) []float64 {
	n := len(values)
	if cap(dst) >= n {
		dst = dst[:n]
	} else {
		dst = make([]float64, n)
	}
	if m.Validate() != nil || checkValues("", values) != nil {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst
	}
	clear(dst)
	switch m.Kind {
	case KindMean:
		for i := range dst {
			dst[i] = 1 / float64(n)
		}
		return dst
	case KindWorst:
		dst[argsort(values)[0]] = 1
		return dst
	}
	idx := argsort(values)
	if m.Kind == KindVaR {
		dst[idx[varIndex(n, m.Alpha, m.conv())]] = 1
		return dst
	}
	k, frac := Tail(n, m.Alpha, m.conv())
	den := float64(k) + frac
	for i := 0; i < k; i++ {
		dst[idx[i]] = 1 / den
	}
	if frac > 0 {
		dst[idx[k]] = frac / den
	}
	return dst
}

// argsort returns the indices of values in ascending order, ties by index.
func argsort(values []float64) []int {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case values[a] < values[b]:
			return -1
		case values[a] > values[b]:
			return 1
		}
		return 0
	})
	return idx
}
