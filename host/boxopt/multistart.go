package boxopt

import (
	"context"
	"math"
	"sort"
	"sync"

	"bohost/host/errs"
	"bohost/host/sobol"
)

// MultiStart minimises from several starts chosen from a Sobol screen, as
// BoTorch's optimize_acqf does (raw_samples, num_restarts), but picking the
// best Restarts raw points deterministically instead of Boltzmann sampling.
// Zero fields take the defaults below.
type MultiStart struct {
	RawSamples int      // scrambled Sobol points evaluated over the box (default 128)
	Restarts   int      // local runs from the best raw points (default 10, at most RawSamples)
	Seed       uint64   // seeds the Sobol scramble
	Workers    int      // goroutines for raw evaluations and local runs (default 1)
	Settings   Settings // for each local run
}

// Defaults of MultiStart.
const (
	DefaultRawSamples = 128
	DefaultRestarts   = 10
)

// Validate checks the fields and names a bad one.
func (m MultiStart) Validate() error {
	const op = "boxopt.MultiStart"
	if m.RawSamples < 0 {
		return errs.New(errs.BadArg, op, "RawSamples must be >= 0 (0 = default %d), got %d", DefaultRawSamples, m.RawSamples)
	}
	if m.Restarts < 0 {
		return errs.New(errs.BadArg, op, "Restarts must be >= 0 (0 = default %d), got %d", DefaultRestarts, m.Restarts)
	}
	if m.Workers < 0 {
		return errs.New(errs.BadArg, op, "Workers must be >= 0 (0 = default 1), got %d", m.Workers)
	}
	return m.Settings.Validate()
}

// Minimize evaluates f (with grad == nil) at RawSamples scrambled Sobol
// points of the box, runs the local minimiser from the Restarts best of them
// (ties by sample index), and returns the best result (ties by start rank).
// Result.Iter and Status are those of the winning run; Evals counts every
// call. The result depends only on f, the box and the fields, not on Workers
// or scheduling, provided f is deterministic; f must be safe for concurrent
// use when Workers > 1.
func (m MultiStart) Minimize(ctx context.Context, f Func, lo, hi []float64) (Result, error) {
	const op = "boxopt.MultiStart"
	if f == nil {
		return Result{}, errs.New(errs.BadArg, op, "f must not be nil")
	}
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if err := checkBox(op, lo, hi); err != nil {
		return Result{}, err
	}
	raw, restarts, workers := m.RawSamples, m.Restarts, m.Workers
	if raw == 0 {
		raw = DefaultRawSamples
	}
	if restarts == 0 {
		restarts = DefaultRestarts
	}
	restarts = min(restarts, raw)
	if workers == 0 {
		workers = 1
	}
	seq, err := sobol.New(len(lo), true, m.Seed)
	if err != nil {
		return Result{}, errs.Wrap(errs.BadArg, op, err)
	}
	pts := seq.Draw(raw)
	for _, p := range pts {
		for j := range p {
			p[j] = lo[j] + p[j]*(hi[j]-lo[j])
		}
	}
	vals := make([]float64, raw)
	parallel(ctx, raw, workers, func(i int) {
		vals[i] = f(pts[i], nil)
	})
	if err := ctx.Err(); err != nil {
		return Result{Evals: raw}, errs.Wrap(errs.Canceled, op, err)
	}
	order := make([]int, raw)
	for i := range order {
		order[i] = i
	}
	key := func(v float64) float64 {
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	sort.SliceStable(order, func(a, b int) bool { return key(vals[order[a]]) < key(vals[order[b]]) })

	set := m.Settings.withDefaults()
	results := make([]Result, restarts)
	errors := make([]error, restarts)
	parallel(ctx, restarts, workers, func(r int) {
		p := &problem{f: f, lo: lo, hi: hi, fd: set.FiniteDiff}
		results[r], errors[r] = minimize(ctx, p, pts[order[r]], set)
	})
	best := -1
	evals := raw
	var firstErr error
	for r := range results {
		evals += results[r].Evals
		if errors[r] != nil {
			if firstErr == nil {
				firstErr = errors[r]
			}
			if !errs.Is(errors[r], errs.Canceled) {
				continue
			}
		}
		if results[r].X == nil {
			continue
		}
		if best < 0 || results[r].F < results[best].F {
			best = r
		}
	}
	if err := ctx.Err(); err != nil {
		out := Result{Evals: evals, Status: StatusCancel}
		if best >= 0 {
			out = results[best]
			out.Evals, out.Status = evals, StatusCancel
		}
		return out, errs.Wrap(errs.Canceled, op, err)
	}
	if best < 0 {
		return Result{Evals: evals}, errs.New(errs.Failed, op,
			"every one of the %d local runs failed; first: %v", restarts, firstErr)
	}
	out := results[best]
	out.Evals = evals
	return out, nil
}

// parallel runs fn(0..n-1) on workers goroutines and stops handing out work
// once ctx is done.
func parallel(ctx context.Context, n, workers int, fn func(i int)) {
	if workers <= 1 {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			fn(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
