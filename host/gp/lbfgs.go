package gp

import (
	"context"
	"math"
)

// lbfgs minimises f with limited-memory BFGS and a strong-Wolfe line search
// (Nocedal & Wright, Algorithms 7.4, 3.5 and 3.6). It is small on purpose:
// gonum's optimize package pulls in golang.org/x/tools through stat/distmv,
// which this module does not list.
//
// f returns the value at x and fills grad; ok=false marks a point where the
// function cannot be evaluated (treated as +Inf, the line search backs off).
// The best point evaluated is returned, whatever stopped the iteration.
type lbfgsSettings struct {
	maxIter int
	gtol    float64 // stop when |g|∞ <= gtol
	ftol    float64 // stop when the relative decrease of f over an iteration <= ftol
	mem     int
}

type objFunc func(x, grad []float64) (f float64, ok bool)

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func normInf(a []float64) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// lbfgsMin returns the best x found, its value and whether any point was
// evaluable. It stops early when ctx is canceled.
func lbfgsMin(ctx context.Context, f objFunc, x0 []float64, s lbfgsSettings) (xb []float64, fb float64, okb bool) {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	fx, ok := f(x, g)
	if !ok {
		return x, math.Inf(1), false
	}
	xb, fb, okb = append([]float64(nil), x...), fx, true
	m := s.mem
	sHist := make([][]float64, 0, m)
	yHist := make([][]float64, 0, m)
	rho := make([]float64, 0, m)
	dir := make([]float64, n)
	alphaBuf := make([]float64, m)
	xn := make([]float64, n)
	gn := make([]float64, n)

	for it := 0; it < s.maxIter; it++ {
		if ctx.Err() != nil || normInf(g) <= s.gtol {
			break
		}
		// Two-loop recursion: dir = −H g.
		copy(dir, g)
		for i := len(sHist) - 1; i >= 0; i-- {
			alphaBuf[i] = rho[i] * dot(sHist[i], dir)
			for j := range dir {
				dir[j] -= alphaBuf[i] * yHist[i][j]
			}
		}
		gamma := 1.0
		if k := len(sHist) - 1; k >= 0 {
			gamma = dot(sHist[k], yHist[k]) / dot(yHist[k], yHist[k])
		} else {
			gamma = 1 / math.Max(1, normInf(g))
		}
		for j := range dir {
			dir[j] *= gamma
		}
		for i := range sHist {
			b := rho[i] * dot(yHist[i], dir)
			for j := range dir {
				dir[j] += sHist[i][j] * (alphaBuf[i] - b)
			}
		}
		for j := range dir {
			dir[j] = -dir[j]
		}
		dg := dot(dir, g)
		if !(dg < 0) { // not a descent direction: restart from steepest descent
			sHist, yHist, rho = sHist[:0], yHist[:0], rho[:0]
			for j := range dir {
				dir[j] = -g[j] / math.Max(1, normInf(g))
			}
			dg = dot(dir, g)
		}
		step, fn, lok := wolfe(f, x, fx, g, dir, dg, xn, gn)
		if !lok {
			break
		}
		if fn < fb {
			copy(xb, xn)
			fb = fn
		}
		// Curvature pair.
		sv := make([]float64, n)
		yv := make([]float64, n)
		for j := range sv {
			sv[j] = step * dir[j]
			yv[j] = gn[j] - g[j]
		}
		if sy := dot(sv, yv); sy > 1e-12*math.Sqrt(dot(sv, sv)*dot(yv, yv)) && sy > 0 {
			if len(sHist) == m {
				sHist, yHist, rho = sHist[1:], yHist[1:], rho[1:]
			}
			sHist = append(sHist, sv)
			yHist = append(yHist, yv)
			rho = append(rho, 1/sy)
		}
		dec := (fx - fn) / math.Max(math.Max(math.Abs(fx), math.Abs(fn)), 1)
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if dec <= s.ftol {
			break
		}
	}
	return xb, fb, okb
}

// wolfe finds a step satisfying the strong Wolfe conditions along dir from x
// (c1 = 1e-4, c2 = 0.9), writing the new point and gradient into xn and gn.
// It returns false when no step decreasing f was found.
func wolfe(f objFunc, x []float64, f0 float64, g0, dir []float64, dg0 float64, xn, gn []float64) (float64, float64, bool) {
	const c1, c2 = 1e-4, 0.9
	phi := func(a float64) (float64, float64) {
		for j := range x {
			xn[j] = x[j] + a*dir[j]
		}
		v, ok := f(xn, gn)
		if !ok || math.IsNaN(v) {
			return math.Inf(1), math.NaN()
		}
		return v, dot(gn, dir)
	}
	// Remember the best decreasing step in case the conditions are never met.
	bestA, bestF := 0.0, f0
	var bestX, bestG []float64
	keep := func(a, v float64) {
		if v < bestF {
			bestA, bestF = a, v
			bestX = append(bestX[:0], xn...)
			bestG = append(bestG[:0], gn...)
		}
	}
	// zoom narrows [lo, hi] (lo satisfies sufficient decrease, flo and dlo
	// are f and the slope there, fhi is f at hi) by safeguarded quadratic
	// interpolation.
	zoom := func(lo, hi, flo, dlo, fhi float64) (float64, float64, bool) {
		for k := 0; k < 30; k++ {
			w := hi - lo
			a := lo + 0.5*w
			if den := 2 * (fhi - flo - dlo*w); den > 0 && !math.IsInf(fhi, 0) {
				a = lo - dlo*w*w/den
			} else if math.IsInf(fhi, 1) {
				a = lo + 0.1*w
			}
			// Keep a inside the middle 80 % of the interval.
			a = math.Max(math.Min(a, lo+0.9*w), lo+0.1*w)
			if w < 0 {
				a = math.Min(math.Max(a, lo+0.9*w), lo+0.1*w)
			}
			fa, da := phi(a)
			keep(a, fa)
			if fa > f0+c1*a*dg0 || fa >= flo {
				hi, fhi = a, fa
			} else {
				if math.Abs(da) <= -c2*dg0 {
					return a, fa, true
				}
				if da*(hi-lo) >= 0 {
					hi, fhi = lo, flo
				}
				lo, flo, dlo = a, fa, da
			}
			if math.Abs(hi-lo) < 1e-14*math.Max(1, math.Abs(lo)) {
				break
			}
		}
		return 0, 0, false
	}
	aPrev, fPrev, dPrev := 0.0, f0, dg0
	a := 1.0
	for k := 0; k < 40; k++ {
		fa, da := phi(a)
		keep(a, fa)
		if fa > f0+c1*a*dg0 || (k > 0 && fa >= fPrev) || math.IsInf(fa, 1) {
			if as, fs, ok := zoom(aPrev, a, fPrev, dPrev, fa); ok {
				return as, fs, true
			}
			break
		}
		if math.Abs(da) <= -c2*dg0 {
			return a, fa, true
		}
		if da >= 0 {
			if as, fs, ok := zoom(a, aPrev, fa, da, fPrev); ok {
				return as, fs, true
			}
			break
		}
		aPrev, fPrev, dPrev = a, fa, da
		a *= 2
	}
	if bestA > 0 {
		copy(xn, bestX)
		copy(gn, bestG)
		return bestA, bestF, true
	}
	return 0, f0, false
}
