// Package boxopt minimises smooth functions over a box lo <= x <= hi: a
// projected L-BFGS (an "L-BFGS-B lite") plus a multistart driver in the style
// of BoTorch's optimize_acqf. It minimises; negate to maximise an acquisition.
//
// # Local runs
//
//	r, err := boxopt.Minimize(ctx, f, x0, lo, hi, &boxopt.Settings{})
//
// f(x, grad) returns the value and fills grad when grad != nil. With
// Settings.FiniteDiff the gradient comes from central differences with step
// eps^(1/3)·max(1, |x_i|), one-sided where a central step would leave the box
// (2·d extra calls per gradient; f is then never asked for grad).
//
// Each iteration computes the two-loop L-BFGS direction (10 pairs) on the
// free variables, those not held at a bound by the sign of the gradient, and
// backtracks (Armijo, c1 = 1e-4, halving) along the projected path
// P(x + t d), so bounds are honoured exactly and active bounds are released
// as soon as the gradient points inward. Pairs with s·y <= 0 are skipped; a
// non-descent direction or a failed search restarts from steepest descent.
// Stopping: max_i |P(x - g) - x|_i <= GradTol (default 1e-6, status "gtol"),
// relative decrease <= FTol (default 1e-12, "ftol", scipy's factr rule),
// MaxIter (default 1000, "max_iter"), or no decrease found ("no_step", e.g. at
// a kink of a piecewise-smooth CVaR). Settings.Validate names a bad field.
//
// # Multistart
//
//	ms := boxopt.MultiStart{RawSamples: 128, Restarts: 10, Seed: 1, Workers: 4}
//	r, err := ms.Minimize(ctx, f, lo, hi)
//
// evaluates f at RawSamples scrambled Sobol points (bohost/host/sobol, seeded
// by Seed) mapped to the box, starts Minimize from the Restarts best (ties by
// index), and returns the best run (ties by start rank). BoTorch picks its
// starts by Boltzmann sampling; this takes the best ones, which is
// deterministic. Results are identical for any Workers when f is
// deterministic; f must be goroutine-safe when Workers > 1.
//
// # Errors
//
// *errs.Error of kind bad_arg (bounds, x0, settings), failed (f not finite at
// the start, or every local run failed) and canceled (ctx done: the best point
// so far is returned with status "canceled"). Nothing panics on user input.
package boxopt
