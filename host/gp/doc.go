// Package gp is bohost's exact Gaussian-process regression for the risk-averse
// BO engine: inputs scaled to the unit cube, outputs standardised, a constant
// mean, an ARD kernel (RBF or Matérn-5/2) with an outputscale, Gaussian noise
// (learned with a prior and a floor, or fixed), and hyper-parameters fitted by
// MAP with L-BFGS on analytic gradients. It imports neither gopher-lua nor any
// binding; a thin binding can be written over the plain-slice API below.
//
// # Model
//
// With raw inputs x scaled by Options.Bounds to u ∈ [0, 1]^d (nil bounds:
// x is taken as already in [0, 1]^d; points outside are allowed), and raw
// outputs standardised as ỹ = (y − ȳ)/s with the ddof-1 standard deviation
// (BoTorch's Standardize), the model is
//
//	ỹ = c + f(u) + ε,  f ~ GP(0, σ²·k(u, u')),  ε ~ N(0, noise)
//
// with k the RBF exp(−r²/2) or the Matérn-5/2 (1 + √5 r + 5r²/3)·exp(−√5 r),
// r² = Σ_k (u_k − u'_k)²/ℓ_k². Hyper holds (ℓ, σ², noise, c) in these
// standardised / unit-cube units.
//
// # Priors and defaults
//
// DefaultOptions is BoTorch ≥ 0.12 (notes/risk.md §7): RBF, lengthscales
// LogNormal(√2 + ½·ln d, √3), no outputscale (σ² fixed at 1), noise
// LogNormal(−4, 1) with floor 1e-4, constant mean. Options.Prior selects
// instead PriorGamma (BoTorch < 0.12, the default for Matern52: lengthscales
// Gamma(3, 6), outputscale Gamma(2, 0.15), noise Gamma(1.1, 0.05)) or
// PriorNone (maximum likelihood as scikit-learn). A wide box (ℓ ∈ [0.01, 1e4],
// σ² ∈ [1e-3, 1e3], noise − floor ∈ [1e-10, 10], c ∈ [−10, 10]) is kept by a
// quadratic penalty outside it.
//
// # Fitting
//
// Fit maximises log marginal likelihood + log priors over log ℓ, log σ²,
// log(noise − floor) and c with L-BFGS (strong-Wolfe line search; the best
// point evaluated is kept, so a line search that stalls after progress is not
// a failure). Starts: the previous hyper-parameters (when the model was fitted
// or restored before), the prior mode, and Options.Restarts draws from the
// priors from a math/rand/v2 PCG seeded with (Options.Seed, n). The best MAP
// value wins; ties go to the earlier start. Restarts run on up to
// Options.Workers goroutines and the result does not depend on scheduling.
// Cholesky factorisations use a jitter ladder (1e-8 … 1e-4 of the mean
// diagonal); beyond it Fit returns a not_pd error.
//
// When the kernel is RBF and the inputs form a complete grid x × W in x-major
// order (GridSplit: every x at the same w's, as risk-averse BO's all_w mode
// produces), the search evaluates the objective and its gradient through the
// Kronecker factorisation K = σ²K_x⊗K_w (two small eigendecompositions,
// O(n_x³ + n_w³ + n·(n_x + n_w)) per evaluation instead of O(n³)); the optimum
// is the dense one up to rounding (TestKronMatchesDense, TestKronFitMatchesDense),
// and the final factorisation is dense as always. Options.DenseOnly turns it
// off.
//
// (gonum's optimize.LBFGS would do, but gonum/optimize imports
// gonum/stat/distmv, which needs golang.org/x/tools, absent from go.sum; the
// package carries its own 150-line L-BFGS instead.)
//
// # API
//
//	m, err := gp.New(gp.DefaultOptions())               // bad_arg from Options.Validate
//	err = m.Fit(ctx, X, y)                              // X [][]float64 (n×d raw), y []float64 (raw)
//	mean, variance, err := m.Predict(Xq)                // raw units; latent variance (no noise)
//	post, err := m.Posterior(Xq)                        // joint mean, Cov (*mat.SymDense), Cholesky with jitter
//	s := post.Sample(base, nil)                         // Mean + L·base for fixed N(0,1) base draws (len q)
//	m2, err := m.Condition(Xf, yf)                      // fantasies: extends the factor, same hypers and standardisation
//	g := m.MeanGrad(x, nil)                             // d mean/dx, raw units
//	mu, v, dmu, dv := m.PredictGrad(x)                  // mean, variance and both gradients
//	kx := m.CrossCov(Xq)                                // q×n k(Xq, Xtrain), standardised units
//	st := m.State(); m3, err := gp.Restore(st)          // JSON-friendly checkpoint, exact predictions
//	err = m.FitWithHyper(X, y, h)                       // no optimisation
//
// Accessors: Hyper, LogMarginalLikelihood (standardised data, no priors, a
// total), LogPrior, YTransform (ȳ, s), Jitter, N, Dim, Options, Fitted.
//
// # Errors
//
// Every error a caller can cause is an *errs.Error: bad_arg naming the field,
// row and column (e.g. "X[3][1] must be finite, got NaN", "X row 2 has 3
// columns, want 2"), bad_state for use before a fit, not_pd ("kernel matrix
// not positive definite after jitter 1e-4", hint: raise the noise floor), and
// canceled when the context ends during Fit (the previous fit is kept).
// MeanGrad, PredictGrad and CrossCov have no error result: they return nil
// (NaN) on an unfitted model or invalid x; a binding should check with
// Fitted and validate x first.
//
// # Concurrency
//
// Fit and FitWithHyper mutate the model. The other methods only read it and
// may run concurrently; Condition returns a new model and leaves the
// receiver unchanged.
//
// # Quality
//
// The subpackage gpdata and the command bench/gpfit compare fits with the
// scikit-learn and BoTorch reference fits of ../shared/anchors/gpdata; see
// docs/gp.md for the table and how to regenerate it.
package gp
