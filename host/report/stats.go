package report

import (
	"math"
	"sort"

	"bohost/host/internal/num"
)

// Stat is a summary of values over seeds. Std is the sample standard
// deviation (n − 1 denominator, as pandas' std); NaN when N < 2. All fields
// are NaN when N = 0.
type Stat struct {
	N                   int
	Mean, Std, Min, Max float64
}

// Describe summarises the finite values of xs.
func Describe(xs []float64) Stat {
	s := Stat{Mean: math.NaN(), Std: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	var sum float64
	for _, x := range xs {
		if !num.Finite(x) {
			continue
		}
		if s.N == 0 || x < s.Min {
			s.Min = x
		}
		if s.N == 0 || x > s.Max {
			s.Max = x
		}
		s.N++
		sum += x
	}
	if s.N == 0 {
		return s
	}
	s.Mean = sum / float64(s.N)
	if s.N > 1 {
		var ss float64
		for _, x := range xs {
			if num.Finite(x) {
				d := x - s.Mean
				ss += d * d
			}
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// Quantile returns the p-quantile of the finite values of xs by linear
// interpolation between order statistics (numpy's and pandas' default,
// Hyndman–Fan type 7); NaN when there are none or p is outside [0, 1].
func Quantile(xs []float64, p float64) float64 {
	var v []float64
	for _, x := range xs {
		if num.Finite(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	sort.Float64s(v)
	h := p * float64(len(v)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[i] + (h-lo)*(v[i+1]-v[i])
}

// stepCurve is a right-continuous step function known on [x[0], x[len-1]].
type stepCurve struct{ x, y []float64 }

// at returns the curve's value at g (the y of the last x ≤ g) and whether g
// lies in the curve's range.
func (c stepCurve) at(g float64) (float64, bool) {
	n := len(c.x)
	if n == 0 || g < c.x[0] || g > c.x[n-1] {
		return 0, false
	}
	i := sort.Search(n, func(i int) bool { return c.x[i] > g }) - 1
	return c.y[i], true
}

// bandCurves holds the mean curve of several runs and a band around it.
type bandCurves struct {
	x, mean, lo, hi []float64
	n               []int // curves contributing at each x
}

// aggregateCurves evaluates each curve on the union of their x values and
// returns, at each such x, the mean over the curves that cover it and a band:
// ±1 std when band is "std", min–max when band is "minmax". Non-finite
// values are ignored.
func aggregateCurves(curves []stepCurve, band string) bandCurves {
	var grid []float64
	for _, c := range curves {
		grid = append(grid, c.x...)
	}
	sort.Float64s(grid)
	grid = uniq(grid)
	var out bandCurves
	vals := make([]float64, 0, len(curves))
	for _, g := range grid {
		vals = vals[:0]
		for _, c := range curves {
			if v, ok := c.at(g); ok && num.Finite(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		s := Describe(vals)
		lo, hi := s.Mean, s.Mean
		switch band {
		case "minmax":
			lo, hi = s.Min, s.Max
		default:
			if s.N > 1 {
				lo, hi = s.Mean-s.Std, s.Mean+s.Std
			}
		}
		out.x = append(out.x, g)
		out.mean = append(out.mean, s.Mean)
		out.lo = append(out.lo, lo)
		out.hi = append(out.hi, hi)
		out.n = append(out.n, s.N)
	}
	return out
}

func uniq(xs []float64) []float64 {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
