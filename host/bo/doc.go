// Package bo is bohost's ask/tell optimiser for risk-averse Bayesian
// optimisation: maximise CVaR over environments w of f(x, w).
//
// A Config names the x space (bounds, names, linear or log scale; log
// dimensions are optimised in log space), the environments (a continuous w
// box, or a finite list of env feature vectors, one per image), how the W
// set of NW w's is chosen ("snap": wset.SnapSobol; "fixed": given indices;
// "sobol" / "sobol_fresh": continuous Sobol draws, fixed or redrawn every
// iteration), the risk level Alpha under a risk.Convention (default
// bohost: alpha is the worst fraction averaged), the acquisition (rho_kg,
// qlognei, qnei, ucb, ei, ts, random, sobol), the Mode ("pair": one (x, w) per
// ask, the default for rho_kg; "all_w": one x at every w of W), the initial
// design size, the seed and the GP options. Validate names the bad field.
//
//	o, err := bo.New(cfg)
//	for o.Iteration() < iters {
//		cands, err := o.Ask(ctx)          // initial design first, then one proposal
//		for _, c := range cands {
//			o.Tell(c, evaluate(c.X, c.W))  // or o.TellFailed(c, bo.FailSkip)
//		}
//	}
//	rec, err := o.Recommend(ctx)          // x with the best posterior-mean CVaR over W
//
// Ask returns the untold candidates of the previous ask again when some are
// still pending, so a resumed run re-issues them. Every random choice is
// derived from (seed, iteration, purpose) by a counter-based hash, and every
// fit starts from the stored hyper-parameters (FitWithHyper, then Fit), so
// State (plain JSON-able data) → Restore reproduces the next ask bit for
// bit. Diagnostics gives the last iteration's fit and acquisition seconds and
// acquisition value for the run journal.
//
// Every acquisition is maximised with analytic gradients (acq.MaximizeGrad:
// 128 Sobol raw samples, the best 10 plus the top evaluated x's polished by
// L-BFGS). In all_w mode with a fixed W set and the RBF kernel the training
// data form an x × W grid, and both the GP fit (host/gp) and the acquisition
// posterior (host/acq) use its Kronecker structure automatically; a failed
// evaluation told with FailSkip breaks the grid and falls back to the dense
// route (same numbers, slower). docs/engine.md has the benchmark tables.
package bo
