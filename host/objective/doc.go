// Package objective builds the evaluation a worker runs from a run's
// objective specification (docs/runs.md), and the environment list the parent
// optimises over.
//
// A specification is JSON, the worker.Hello.Spec of a run's pool:
//
//	{"airline": {"data": "synthetic", "synth": {"n": 24}, "split": "train", "max_pixels": 67108864,
//	             "evaluator": {"space": "airline8", "seed": 1},
//	             "perturbations": [{"gain": 0.6}, {"noise_sigma": 8}]}}
//
// Only the airline objective is built here; a Lua objective
// ({"lua": {"file": ..., "fn": ...}}) needs the Lua runtime and is built by
// the bohost worker subcommand.
//
// The AirLine objective scores x on one environment: environment i is image
// i / P of the data set with perturbation i % P applied (P = 1, the identity,
// without perturbations). The data set is opened lazily on first use, images
// are decoded on demand through the data set's bounded cache, so a worker's
// memory does not grow with the data set. "max_pixels" bounds each image file
// (dataset.Options.MaxPixels; absent: BOHOST_MAX_PIXELS, else 2^26 pixels)
// in the parent and in every worker, since both open the data set from this
// specification; "downscale": f reduces every image file (and its ground
// truth) by the integer factor f there too (dataset.Options.Downscale), an
// explicit evaluator r staying in pixels of the image as stored (scored as
// r / f on the reduced image).
//
//	a, err := objective.NewAirline(spec)          // cheap: nothing loaded yet
//	envs, err := a.Envs()                          // ids + normalised envfeat features (bo.Env.List)
//	res, err := a.Eval(ctx, worker.Request{X: x, EnvIndex: 3})   // worker.Objective
//	out, err := a.Score(ctx, x, 3, true)           // record + detected and GT segments
//
// Eval returns the score record (Record: f, metric, f_r, precision, recall, r,
// soft_lp, soft_precision, soft_f, soft_r, n_lines, n_gt, ms) with y = f, the
// metric that "evaluator": {"metric": "f" | "soft_lp", "r": R} chooses (F_r by
// default; both metrics are always in the record). A request whose Args are {"lines": true} also gets the detected
// segments in score.lines (used for the run's final evaluation).
package objective
