package acq

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"

	"bohost/host/boxopt"
	"bohost/host/errs"
	"bohost/host/sobol"
)

// OptimOptions configure the acquisition optimiser: RawSamples scrambled-
// Sobol points are evaluated, the best Restarts of them (plus any extra
// starts) are polished by bounded L-BFGS with finite-difference gradients.
// The zero value gives BoTorch's tutorial settings (10 restarts, 128 raw
// samples).
type OptimOptions struct {
	RawSamples int    // default 128
	Restarts   int    // default 10
	MaxIter    int    // L-BFGS iterations per restart (default 100)
	Workers    int    // goroutines (default GOMAXPROCS); the result does not depend on it
	Seed       uint64 // seeds the raw samples (and the Boltzmann draw)
	// Boltzmann picks the starts among the raw samples by Boltzmann
	// sampling, weights exp(2·z) of the standardised values, always keeping
	// the best (BoTorch's initialize_q_batch, eta = 2), instead of taking the
	// best Restarts.
	Boltzmann bool `json:"boltzmann,omitempty"`
}

func (o *OptimOptions) defaults() {
	if o.RawSamples <= 0 {
		o.RawSamples = 128
	}
	if o.Restarts <= 0 {
		o.Restarts = 10
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// lowIfFailed maps -Inf/NaN (a failed evaluation) to a very low finite value.
func lowIfFailed(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, -1) {
		return -1e300
	}
	return v
}

// Maximize maximises f over the box [lo, hi]: MaximizeDiscrete with a
// single discrete value. extra are additional starting points.
func Maximize(ctx context.Context, f func(z []float64) float64, lo, hi []float64, extra [][]float64, o OptimOptions) ([]float64, float64, error) {
	x, _, v, err := MaximizeDiscrete(ctx, func(z []float64, _ int) float64 { return f(z) }, lo, hi, 1, extra, o)
	return x, v, err
}

// start is a starting point: x, a discrete index (the w of a finite W set,
// or 0) and its value.
type start struct {
	x []float64
	i int
	v float64
}

// MaximizeDiscrete maximises f(x, i) over x in [lo, hi] and i in 0..nI-1:
// RawSamples Sobol x's are crossed with every i, the best Restarts pairs and
// the extra starts (all i for each) are polished in x with i fixed. It
// returns the best x, i and value; deterministic for a seed.
func MaximizeDiscrete(ctx context.Context, f func(x []float64, i int) float64, lo, hi []float64, nI int,
	extra [][]float64, o OptimOptions) ([]float64, int, float64, error) {
	return maximize(ctx, func(x []float64, i int, _ []float64) float64 { return f(x, i) }, false, lo, hi, nI, extra, o)
}

// MaximizeGrad is Maximize for an f with an analytic gradient: f(x, grad)
// returns the value and fills grad (len(x)) when grad != nil. The polish is
// boxopt's L-BFGS on that gradient instead of finite differences.
func MaximizeGrad(ctx context.Context, f func(x, grad []float64) float64, lo, hi []float64, extra [][]float64, o OptimOptions) ([]float64, float64, error) {
	x, _, v, err := maximize(ctx, func(z []float64, _ int, g []float64) float64 { return f(z, g) }, true, lo, hi, 1, extra, o)
	return x, v, err
}

// MaximizeDiscreteGrad is MaximizeDiscrete with an analytic gradient in x.
func MaximizeDiscreteGrad(ctx context.Context, f func(x []float64, i int, grad []float64) float64, lo, hi []float64, nI int,
	extra [][]float64, o OptimOptions) ([]float64, int, float64, error) {
	return maximize(ctx, f, true, lo, hi, nI, extra, o)
}

// maximize is the common multistart: f(x, i, grad) fills grad when grad !=
// nil and hasGrad; without hasGrad the polish uses finite differences.
func maximize(ctx context.Context, fg func(x []float64, i int, grad []float64) float64, hasGrad bool, lo, hi []float64, nI int,
	extra [][]float64, o OptimOptions) ([]float64, int, float64, error) {
	o.defaults()
	f := func(x []float64, i int) float64 { return fg(x, i, nil) }
	d := len(lo)
	var cand []start
	for _, u := range sobolUnit(d, o.RawSamples, o.Seed) {
		x := make([]float64, d)
		for k := range x {
			x[k] = lo[k] + u[k]*(hi[k]-lo[k])
		}
		for i := 0; i < nI; i++ {
			cand = append(cand, start{x: x, i: i})
		}
	}
	parallelEval(cand, f, o.Workers)
	slices.SortStableFunc(cand, func(a, b start) int { return cmpDesc(a.v, b.v) })
	starts := cand[:min(o.Restarts, len(cand))]
	if o.Boltzmann && len(cand) > o.Restarts {
		starts = boltzmann(cand, o.Restarts, o.Seed)
	}
	var ex []start
	for _, x := range extra {
		for i := 0; i < nI; i++ {
			ex = append(ex, start{x: clip(slices.Clone(x), lo, hi), i: i})
		}
	}
	parallelEval(ex, f, o.Workers)
	slices.SortStableFunc(ex, func(a, b start) int { return cmpDesc(a.v, b.v) })
	starts = append(slices.Clone(starts), ex[:min(o.Restarts, len(ex))]...)
	best := starts[0]
	res := make([]start, len(starts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Workers)
	var firstErr error
	var mu sync.Mutex
	for si, s := range starts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			obj := func(x, g []float64) float64 {
				if g == nil {
					return -lowIfFailed(fg(x, s.i, nil))
				}
				v := fg(x, s.i, g)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return math.Inf(1) // infeasible for the line search
				}
				for k := range g {
					g[k] = -g[k]
				}
				return -v
			}
			r, err := boxopt.Minimize(ctx, obj, s.x, lo, hi, &boxopt.Settings{MaxIter: o.MaxIter, FiniteDiff: !hasGrad})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				res[si] = s
				return
			}
			res[si] = start{x: r.X, i: s.i, v: -r.F}
		}()
	}
	wg.Wait()
	if firstErr != nil && ctx.Err() != nil {
		return nil, 0, 0, errs.Wrap(errs.Canceled, "acq.MaximizeDiscrete", ctx.Err())
	}
	for _, r := range res {
		if r.v > best.v {
			best = r
		}
	}
	return best.x, best.i, best.v, nil
}

// boltzmann draws k distinct starts from c (sorted best first) with weights
// exp(2·z), z the standardised values, halving the temperature factor while
// a weight overflows; the best start is always included. Deterministic for
// the seed.
func boltzmann(c []start, k int, seed uint64) []start {
	var m, sd float64
	for _, s := range c {
		m += s.v
	}
	m /= float64(len(c))
	for _, s := range c {
		sd += (s.v - m) * (s.v - m)
	}
	sd = math.Sqrt(sd / float64(len(c)))
	if !(sd > 0) || math.IsInf(sd, 0) {
		return c[:k]
	}
	eta := 2.0
	w := make([]float64, len(c))
	for {
		ok := true
		for i, s := range c {
			w[i] = math.Exp(eta * (s.v - m) / sd)
			if math.IsInf(w[i], 0) {
				ok = false
			}
		}
		if ok {
			break
		}
		eta /= 2
	}
	rng := newStream(seed, 0x626f6c747a)
	out := []start{c[0]}
	w[0] = 0
	for len(out) < k {
		var tot float64
		for _, v := range w {
			tot += v
		}
		if !(tot > 0) {
			break
		}
		r := rng.Float64() * tot
		i := 0
		for ; i < len(w)-1; i++ {
			r -= w[i]
			if r < 0 && w[i] > 0 {
				break
			}
		}
		if w[i] == 0 { // rounding at the end: take the last positive weight
			for i = len(w) - 1; w[i] == 0; i-- {
			}
		}
		out = append(out, c[i])
		w[i] = 0
	}
	return out
}

// sobolUnit returns n scrambled-Sobol points in [0, 1]^d.
func sobolUnit(d, n int, seed uint64) [][]float64 {
	s, err := sobol.New(d, true, seed)
	if err != nil { // d > sobol.MaxDim: not reachable for BO dimensions
		panic(err)
	}
	return s.Draw(n)
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// parallelEval fills v of every start.
func parallelEval(c []start, f func(x []float64, i int) float64, workers int) {
	var wg sync.WaitGroup
	chunk := (len(c) + workers - 1) / max(workers, 1)
	for lo := 0; lo < len(c); lo += max(chunk, 1) {
		hi := min(lo+chunk, len(c))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := lo; k < hi; k++ {
				c[k].v = lowIfFailed(f(c[k].x, c[k].i))
			}
		}()
	}
	wg.Wait()
}
