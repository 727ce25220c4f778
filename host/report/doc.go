// Package report draws thesis-ready figures and tables from bohost run
// directories alone (docs/rundir.md): no data set, no engine, only the files a
// run wrote. It is the engine behind `bohost report SWEEP_DIR... [--out DIR]
// [--format png,svg,pdf]` and the Lua module bohost.report.
//
// # Entry point
//
//	res, err := report.Generate(ctx, []string{"runs/sweep1"}, report.Options{
//		Out:     "runs/sweep1/report", // default: <first dir>/report
//		Formats: []string{"png", "svg"}, // default png, svg; "pdf" on request
//		Band:    "std",                  // or "minmax": the spread over seeds
//	})
//	// res.Files: every file written; res.Warnings: what was missing or
//	// malformed, per run, file and line; res.Runs, res.Alphas: the numbers.
//
// Generate finds run directories (folders holding config.json) under the
// given paths, groups them by (convention, alpha) and, within a group, by
// seed. A crashed or incomplete run (no summary.json, a torn last line, no
// monitor.csv, no final/ images) still contributes what it has; every gap
// becomes a Warning and a line in the Missing section of summary.md. No
// input file can make Generate panic. Errors are *errs.Error: bad_arg
// (options, paths, no runs), io (cannot write), canceled (ctx).
//
// # Files written under Out
//
//	convergence.{png,svg,pdf}  posterior CVaR of the recommendation (model-predicted)
//	                           and best observed CVaR (measured), each in its own
//	                           labelled panel, against evaluations (iterations.jsonl
//	                           n_trials, else counted from trials.jsonl); per alpha
//	                           the mean over seeds with a ±1 std (or min–max) band;
//	                           each run's last iteration marked (Result.Curves)
//	tradeoff.*                 lower tail (CVaR 0.1 of final_eval.scores, the same
//	                           measure for every alpha) and mean score against alpha
//	                           (error bars over seeds; the reference dashed) beside
//	                           mean score against lower tail (the risk–return trade-off)
//	scores.*                   per-image scores at each alpha's recommended x
//	                           (final_eval.scores, seeds pooled): a box plot per
//	                           alpha with the lower 10 % quantile (◆) and mean (+)
//	params.*                   small multiples, one per x dimension: the recommended
//	                           value per iteration (one line per run, coloured by
//	                           alpha) and evaluated points (grey), normalised to the
//	                           space bounds of config.json (log space for "log")
//	runs/<run>/system.*        host RSS, workers RSS and GPU memory used against time
//	                           (monitor.csv), worker deaths as vertical lines
//	                           (events.jsonl worker_death, else trials with death)
//	runs/<run>/overlay_best.*  final/best.png (and worst) with final_eval.best.lines
//	runs/<run>/overlay_worst.* in vermillion and .gt in blue, legend, score in title
//	holdout.*                  cross-evaluation: each recommendation (the risk-neutral
//	                           reference, "mean (risk-neutral)", and each alpha) on the
//	                           same images (holdout.json, else final_eval: in-sample),
//	                           one panel per measure (mean, CVaR at each level, worst
//	                           image): seeds as points, their mean, the baseline dashed
//	holdout_diff.*             paired differences against the baseline (the reference,
//	                           else the largest alpha): Δ mean, Δ CVaR 0.1, Δ CVaR at
//	                           the row's own alpha, with 95 % bootstrap intervals
//	holdout.csv                the cross-evaluation table (also results.json kind "cross")
//	summary.md                 one plain sentence first (Result.Headline: what risk
//	                           aversion changed in the held-out lower tail, or that the
//	                           alphas are indistinguishable), the cross-evaluation
//	                           tables, per-alpha table (mean ± std over seeds: final CVaR,
//	                           mean score, lower-10 % score, evaluations, failures,
//	                           wall time), recommended x per alpha, per-run table,
//	                           figure list, Missing and Other warnings sections
//	summary.csv                the per-alpha table: <col>_mean, <col>_std, …
//	runs.csv                   one row per run
//	results.json               list of records for pandas (pd.DataFrame(json.load(f))):
//	                           kind "run" rows as runs.csv, then kind "alpha" rows as
//	                           summary.csv; unknown values are null
//
// The score is named with its metric and r ("soft LP_r (r = 20 px)",
// "F_r (r = 3 px)") from the trials' score records (score.metric, score.r,
// score.soft_r) in summary.md, the figures' axes and the headline; runs
// scored by different metrics are a guard finding (metriclabel.go).
//
// Guards (guards.go; docs/sweeps.md, "Guards"): against the welding study's
// failures, summary.md's Guards section and WarnGuard warnings show per run
// how many distinct environments it evaluated and flag a run a few dominate
// (EnvUse), flag a last iteration without its value or with a sharp drop,
// an alpha whose final values average measured and model values, and every
// comparison of runs whose config.json differ in more than one setting
// (Comparison, CrossRow.Confounded; also the first words of the headline).
//
// Cross-evaluation statistics: per run, the mean, CVaR (bohost convention)
// and worst of its per-image scores on the common images; per row, mean ±
// std over seeds. A paired difference is the mean over the seeds a row
// shares with the baseline of stat(row) − stat(baseline); its 95 % interval
// is the 2.5 and 97.5 % quantiles of BootstrapB replicates that resample the
// seeds and the images with replacement, independently (seeds and images
// are crossed; one image resample serves every seed and both rows), from a
// fixed random stream (PairedBootstrap). The reference is recognised from
// config.json: alpha 1 under the bohost convention (CVaR_1 is the mean).
//
// Statistics: std is the sample standard deviation (n − 1, as pandas); the
// lower 10 % score is the 0.1-quantile with linear interpolation (numpy's and
// pandas' default), per run in the tables and pooled over seeds in scores.*.
// Curves of different seeds are put on the union of their evaluation counts
// (each held at its last value) and averaged over the seeds that reached that
// count.
//
// # Figure helpers (for bohost.report in Lua)
//
//	f := report.NewFigure(title, xlabel, ylabel string) *Figure
//	f.Line(name, x, y)            f.LinePoints(name, x, y)
//	f.Band(name, x, lo, hi)       f.ErrorBars(name, x, lo, hi)
//	f.Scatter(name, x, y)         f.Markers(name, x, y, shape, radiusPt)
//	f.Box(name, values)           // i-th box at x = i, labelled name
//	f.VLine(name, x)              f.Label(x, y, text)
//	f.SetColor(name, c)           f.SetDashes(name, d)     f.SetLineWidth(name, pt)
//	f.SetXRange(lo, hi)           f.SetYRange(lo, hi) // NaN = from data
//	f.Err() error
//	f.Save(path, w, h vg.Length) error  // .png (300 dpi; 200 with an image), .svg, .pdf
//	f.SaveInches(path, wIn, hIn float64) error
//	report.SaveGrid(path, w, h, title, cols, panels...) error
//	report.NewImageFigure(title, img) *Figure; f.Segments(name, []imgbuf.Segment)
//	                              // an image over MaxImageSide (2048) px a side is reduced
//	                              // before drawing; segments stay in its own pixels
//	report.Overlay(imgPath, map[string][]imgbuf.Segment, out) error
//	report.OverlayTitled(imgPath, title, sets, out) error
//	report.LoadImage(path) (image.Image, error) // PNG/JPEG, lightened grey
//
// A series name keeps its colour (Okabe–Ito, colour-blind safe) across calls
// and appears once in the legend, which is drawn below the axes so it never
// covers data; panels of a grid share it. Drawing methods never panic: the
// first bad input (mismatched lengths, an empty box) is kept, returned by
// Err and by Save, as a bad_arg error. Non-finite points are dropped and
// lines broken at them. The default size is 6 × 4 in, a thesis text width.
//
// In overlays, sets named "detected…" are vermillion and "ground truth…" or
// "gt…" blue, whatever else is drawn with them. PDF output re-encodes text
// to the Windows-1252 code page that gonum/plot's PDF back-end embeds and
// spells out what that lacks (α → alpha); PNG and SVG keep the text as is.
//
// Reading helpers: FindRuns(paths) lists run directories with names
// relative to the path they were found under; LoadRun(dir, name) decodes
// one into a *Run (Config, Trials, Iterations, Events, Summary, Monitor)
// with its Warnings. Readers ignore unknown fields; a line that does not
// decode is skipped and named (file:line), a torn last line is called torn;
// records repeated by a resume (same iteration or trial number) keep the
// last one. Describe and Quantile are the statistics used.
//
// Speed: BenchmarkGenerate (2 alphas × 2 seeds × 30 iterations, PNG only)
// takes about 3 s on the shared 2-core machine; overlays (image scaling and
// PNG encoding) are most of it.
package report
