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
//   - Maximize / MaximizeDiscrete: scrambled-Sobol raw samples, the best
//     Restarts polished by boxopt's bounded L-BFGS (finite-difference
//     gradients), in goroutines, deterministic for a seed.
//
// Units: inputs are raw (the caller's coordinates, e.g. log-space for log
// parameters), outputs raw (y units). All types are read-only after
// construction and safe for concurrent use.
//
// Thin-binding view: NewPost(model, X, y) → *Post; NewNEI(post, W, baseline,
// measure, NEIOptions); NewKG(post, W, measure, xlo, xhi, KGOptions);
// NewMeanRisk(post, W, measure); Value methods return float64; Recommend
// returns a Recommendation{X, Risk, Mean}.
package acq
