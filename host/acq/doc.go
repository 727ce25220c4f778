// Package acq holds bohost's acquisition functions for risk-averse Bayesian
// optimisation over (x, w) — design variables x and environmental variables
// w — and their optimisation.
//
// Every acquisition works on a Post, the exact GP posterior of a fitted
// gp.Model (NewPost), and on a W set: the n_w w's that are appended to every
// x (BoTorch's AppendFeatures), over which the risk measure (risk.Measure,
// CVaR in either alpha convention) is taken.
//
//   - NEI: qNEI / qLogNEI (BoTorch's qLogNoisyExpectedImprovement, fat
//     softplus with tau_relu = 1e-6, logmeanexp over samples) of the risk
//     measure over W, improvement over the best (pruned) baseline x per
//     joint posterior sample, fixed scrambled-Sobol base samples (SAA), the
//     baseline block factorised once. Used in "all_w" mode: x is then
//     evaluated at every w of W.
//   - KG: ρKG (BoRisk) of the posterior-mean risk measure: picks an (x, w)
//     pair; fantasies are rank-1 mean updates, the inner max runs over a
//     fixed solution set plus the candidate's x. Value ≥ 0 by construction.
//   - MeanRisk: ρ(μ_n(x, W)), its linearised variance, UCB and EI on it, and
//     its analytic gradient; Recommend maximises it over the evaluated x's
//     and, optionally, the box.
//   - TS: Thompson sampling: one posterior draw of the GP as a function
//     (random Fourier features of the prior, conditioned pathwise on the
//     data), value ρ(f̃(x, W)) with its analytic gradient.
//   - Maximize / MaximizeDiscrete: scrambled-Sobol raw samples, the best
//     Restarts polished by boxopt's bounded L-BFGS (finite-difference
//     gradients), in goroutines, deterministic for a seed. MaximizeGrad /
//     MaximizeDiscreteGrad polish on analytic gradients instead.
//
// # Gradients
//
// NEI.ValueGrad, KG.ValueGrad, TS.ValueGrad, MeanRisk.UCBGrad / EIGrad and MeanRisk.Grad
// return exact gradients in x (ρKG: in (x, w)) for the fixed base samples,
// in reverse mode: the risk measure contributes its (sub)gradient weights at
// each sample, the sample path μ + A z_B + L_xx z_x is differentiated through
// the means, the cross-covariances with the baseline block and the Cholesky
// factor of the candidate block (Murray 2016), and everything reaches x
// through the kernel's gradient and the whitened cross-covariances
// V = W k (Post.adjoint). The tests check every gradient against central
// finite differences on both posterior routes.
//
// # Posterior routes
//
// Post factorises K + σ²I densely (W = L⁻¹) unless the training inputs form a
// complete grid x × W_grid (gp.GridSplit; host/bo's all_w mode with a fixed W
// set) and the kernel is RBF, which factorises over x and w: then
// K + σ²I = Q(σ²Λ_x⊗Λ_w + σ²_n I)Qᵀ with Q = Q_x⊗Q_w from two small
// eigendecompositions, W = D^{-1/2}Qᵀ, and a point's V costs O(n) instead
// of O(n²). NEI adds a fast path on that route (neigrid.go): the baseline
// block is contracted with the W factor once per ask, so a candidate costs
// O(n_x·n_w·n_B) instead of O(n·n_w·n_B). Both routes give the same numbers
// to rounding (tests: 1e-8).
//
// Units: inputs are raw (the caller's coordinates, e.g. log-space for log
// parameters), outputs raw (y units). All types are read-only after
// construction and safe for concurrent use.
//
// Thin-binding view: NewPost(model, X, y) → *Post; NewNEI(post, W, baseline,
// measure, NEIOptions); NewKG(post, W, measure, xlo, xhi, KGOptions);
// NewMeanRisk(post, W, measure); Value methods return float64, ValueGrad
// methods also fill a gradient slice; Recommend returns a
// Recommendation{X, Risk, Mean}.
package acq
