package acq

import (
	"math"

	"bohost/host/risk"
)

// rho evaluates a risk measure over n_w values quickly (no allocation, a
// partial insertion sort), with the tail of risk.Tail. Other kinds fall back
// to risk.Measure.
type rho struct {
	m    risk.Measure
	n    int
	k    int     // full-weight tail size
	frac float64 // weight of the boundary sample
	fast bool
}

func newRho(m risk.Measure, n int) rho {
	r := rho{m: m, n: n}
	if m.Kind == risk.KindCVaR {
		conv := m.Convention
		if conv == "" {
			conv = risk.Bohost
		}
		r.k, r.frac = risk.Tail(n, m.Alpha, conv)
		r.fast = true
	}
	return r
}

// eval returns the measure of v; buf needs len >= k+1.
func (r *rho) eval(v, buf []float64) float64 {
	if !r.fast {
		return r.m.Eval(v)
	}
	t := r.k
	if r.frac > 0 {
		t++
	}
	// keep the t smallest values sorted ascending in buf[:c]
	c := 0
	for _, x := range v {
		if c == t && x >= buf[c-1] {
			continue
		}
		i := c
		if c < t {
			c++
		} else {
			i = c - 1
		}
		for i > 0 && buf[i-1] > x {
			buf[i] = buf[i-1]
			i--
		}
		buf[i] = x
	}
	var s float64
	for i := 0; i < r.k; i++ {
		s += buf[i]
	}
	if r.frac > 0 {
		s += r.frac * buf[r.k]
	}
	return s / (float64(r.k) + r.frac)
}

// weights returns the (sub)gradient weights of the measure at v.
func (r *rho) weights(v, dst []float64) []float64 { return r.m.Weights(v, dst) }

// evalW returns the measure of v and fills w (len(v)) with its
// (sub)gradient weights: the tail average's weights on the k smallest values
// and the fractional weight on the boundary one (ties broken by index).
// buf needs len >= k+1 and ib len >= k+1.
func (r *rho) evalW(v, buf []float64, ib []int, w []float64) float64 {
	if !r.fast {
		r.m.Weights(v, w)
		return r.m.Eval(v)
	}
	t := r.k
	if r.frac > 0 {
		t++
	}
	c := 0
	for j, x := range v {
		if c == t && x >= buf[c-1] {
			continue
		}
		i := c
		if c < t {
			c++
		} else {
			i = c - 1
		}
		for i > 0 && buf[i-1] > x {
			buf[i], ib[i] = buf[i-1], ib[i-1]
			i--
		}
		buf[i], ib[i] = x, j
	}
	den := float64(r.k) + r.frac
	clear(w)
	var s float64
	for i := 0; i < r.k; i++ {
		s += buf[i]
		w[ib[i]] = 1 / den
	}
	if r.frac > 0 {
		s += r.frac * buf[r.k]
		w[ib[r.k]] = r.frac / den
	}
	return s / den
}

// dLogFatplus is the derivative of logFatplus(x, tau) in x.
func dLogFatplus(x, tau float64) float64 {
	z := x / tau
	var sp, sig float64
	switch {
	case z > 32:
		sp, sig = z, 1
	default:
		e := math.Exp(z)
		sp, sig = math.Log1p(e), e/(1+e)
	}
	c := 1 + z*z
	return (sig - 0.2*z/(c*c)) / (sp + 0.1/c) / tau
}

// logFatplus is BoTorch's log_fatplus(x, tau): log(tau·(softplus(x/tau) +
// 0.1/(1 + (x/tau)²))).
func logFatplus(x, tau float64) float64 {
	z := x / tau
	var sp float64
	switch {
	case z > 32:
		sp = z
	default:
		sp = math.Log1p(math.Exp(z))
	}
	return math.Log(tau * (sp + 0.1/(1+z*z)))
}

// logMeanExp returns log(mean(exp(v))).
func logMeanExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s/float64(len(v)))
}
