package acq

import (
	"context"
	"math"
	"slices"
	"sync"

	"bohost/host/boxopt"
	"bohost/host/errs"
)

// Grad returns ρ(μ_n(x, W)) in raw units and fills grad (len(x)) with its
// analytic (sub)gradient in x: Σ_i a_i ∂μ_n(x, w_i)/∂x with a the measure's
// weights at the mean.
func (mr *MeanRisk) Grad(x, grad []float64) float64 {
	p, nw, d := mr.p, len(mr.w), mr.p.d
	dx := len(x)
	vals := make([]float64, nw)
	u := make([]float64, d)
	dmu := make([][]float64, nw)
	for i, w := range mr.w {
		z := append(append(make([]float64, 0, d), x...), w...)
		p.unit(z, u)
		dmu[i] = make([]float64, dx)
		m := p.c0
		for n := 0; n < p.n; n++ {
			xn := p.xs[n*d : (n+1)*d]
			var r2 float64
			for k, il := range p.invl2 {
				dd := u[k] - xn[k]
				r2 += dd * dd * il
			}
			var kv, g float64
			if p.matern {
				r := math.Sqrt(r2)
				e := math.Exp(-sqrt5 * r)
				kv = p.os * (1 + sqrt5*r + 5.0/3.0*r2) * e
				g = 5.0 / 3.0 * p.os * (1 + sqrt5*r) * e
			} else {
				kv = p.os * math.Exp(-0.5*r2)
				g = kv
			}
			m += kv * p.alpha[n]
			for k := 0; k < dx; k++ {
				dmu[i][k] -= p.alpha[n] * g * (u[k] - xn[k]) * p.invl2[k] / p.sc[k]
			}
		}
		vals[i] = p.ymu + p.ysd*m
	}
	v := mr.r.eval(vals, make([]float64, nw+1))
	if grad != nil {
		a := mr.r.weights(vals, nil)
		clear(grad)
		for i := range a {
			for k := 0; k < dx; k++ {
				grad[k] += a[i] * p.ysd * dmu[i][k]
			}
		}
	}
	return v
}

// Recommendation is the x maximising the posterior-mean risk measure.
type Recommendation struct {
	X    []float64
	Risk float64 // ρ(μ_n(x, W)), raw units
	Mean float64 // mean_i μ_n(x, w_i), raw units
}

// Recommend returns the x maximising ρ(μ_n(x, W)): over the evaluated x's
// (as BoTorch's reference runs), and, with continuous, also over the box
// [lo, hi] by L-BFGS with analytic gradients started from the 3 best
// evaluated x's and the best of o.RawSamples Sobol points (o.Restarts of
// them).
func Recommend(ctx context.Context, mr *MeanRisk, evaluated [][]float64, lo, hi []float64, continuous bool, o OptimOptions) (Recommendation, error) {
	o.defaults()
	if len(evaluated) == 0 && !continuous {
		return Recommendation{}, errs.New(errs.BadState, "acq.Recommend", "no evaluated x to recommend from")
	}
	vals := mr.Batch(evaluated)
	order := make([]int, len(evaluated))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpDesc(vals[a][0], vals[b][0]) })
	best := Recommendation{Risk: math.Inf(-1)}
	if len(order) > 0 {
		j := order[0]
		best = Recommendation{X: slices.Clone(evaluated[j]), Risk: vals[j][0], Mean: vals[j][1]}
	}
	if !continuous {
		return best, nil
	}
	var starts [][]float64
	for _, j := range order[:min(3, len(order))] {
		starts = append(starts, evaluated[j])
	}
	// raw Sobol screen for extra starts
	raw := sobolBox(len(lo), o.RawSamples, o.Seed, lo, hi)
	rv := mr.Batch(raw)
	ro := make([]int, len(raw))
	for i := range ro {
		ro[i] = i
	}
	slices.SortStableFunc(ro, func(a, b int) int { return cmpDesc(rv[a][0], rv[b][0]) })
	for _, j := range ro[:min(o.Restarts, len(ro))] {
		starts = append(starts, raw[j])
	}
	res := make([]Recommendation, len(starts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Workers)
	for si, s0 := range starts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := boxopt.Minimize(ctx, func(x, g []float64) float64 {
				v := mr.Grad(x, g)
				for k := range g {
					g[k] = -g[k]
				}
				return -v
			}, slices.Clone(s0), lo, hi, &boxopt.Settings{MaxIter: 200})
			if err != nil {
				res[si].Risk = math.Inf(-1)
				return
			}
			rm, mm := mr.Value(r.X)
			res[si] = Recommendation{X: r.X, Risk: rm, Mean: mm}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return best, errs.Wrap(errs.Canceled, "acq.Recommend", ctx.Err())
	}
	for _, r := range res {
		if r.Risk > best.Risk {
			best = r
		}
	}
	return best, nil
}

// sobolBox returns n scrambled-Sobol points in the box.
func sobolBox(d, n int, seed uint64, lo, hi []float64) [][]float64 {
	out := make([][]float64, 0, n)
	for _, u := range sobolUnit(d, n, seed) {
		x := make([]float64, d)
		for k := range x {
			x[k] = lo[k] + u[k]*(hi[k]-lo[k])
		}
		out = append(out, x)
	}
	return out
}
