// Package airline is a pure-Go rebuild of the AirLine line detector (Lin &
// Wang, IROS 2023; sair-lab/AirLine CRGandLP.cpp) used as bohost's
// optimisation objective, following notes/airline.md §1–§7. It works on plain
// buffers (bohost/host/imgbuf) and never imports OpenCV; learned edge maps and
// ROI detectors are injected as functions (host/cv provides them).
//
// # Pipeline
//
//  1. Edge map E, a logit-like float map. Classical (default, ClassicalEdges):
//     Gaussian blur → 3x3 Sobel → L2 magnitude → Canny non-maximum
//     suppression → E = EdgeGain·ln(|∇|/EdgeRef) (4·ln(|∇|/100)) on kept
//     pixels, EdgeFloor (-30) elsewhere. edgeThresh keeps AirLine's role
//     (mask = E > t) and bounds [-23, 7]: t = 0 is magnitude 100, t = -23 is
//     0.3 (everything), t = 7 is 575. Learned: Options.EdgeFunc returns the
//     logits (non-finite values are clamped to ±1e6, NaN to -1e6).
//  2. Orientation: T line kernels of size K (KernelBank, bit-exact with
//     OpenCV 4.6 cv2.line, testdata/kernels_opencv46.*) correlated with E
//     (zero padding), descriptor = L2-normalised mean-removed T-vector
//     (Orientation). The evaluator computes it only at pixels of the loosest
//     mask, the only ones CRG reads.
//  3. CRG and local edge voting (CRG) exactly as DesGrow1, including its
//     quirks: the centre is visited among the 9 "neighbours", so the seed is
//     stored twice; regions reaching MaxRegionPx are dropped and their pixels
//     stay consumed; endpoints are Euclidean radii and the v_y < 0 flip does
//     not swap them (FixEndpoints uses projections instead). Fixed faults
//     (§4): every buffer is sized from the input (candidate lists ≤ mask
//     pixels, region ≤ MaxRegionPx, output ≤ MaxSegments with
//     Stats.Truncated), inputs are validated, cosines are computed by value, a
//     pixel on the centroid contributes 0 to straightness (upstream: NaN), a
//     region with no direction is dropped (Stats.Degenerate; upstream: NaN
//     endpoints), and there is no random colour map.
//  4. Post-filter: MinLength (15 px, the demo's) and MinStraightness (off).
//  5. airline8: presets Q and QG (edgeThresh, simThresh, pixelRatio each;
//     PixelNumThresh = int(min(pixelRatio, 0.03)·ROI diagonal) as run_airline)
//     fused by weighted RANSAC with the replication table of §7 as weights
//     (FusionWeights; IntegerWeights floors them as replication did).
//     Fusion "lines" (default) is bohost's whole-image adaptation: each input
//     segment, strongest first, gathers unconsumed weighted pixels within
//     FusionTol, fits by weighted RANSAC (samples ∝ weight, score Σ weight of
//     inliers, weighted TLS refit) and is kept when its mean inlier weight per
//     raster pixel ≥ FusionMinWeight (4): with w = 12, single-preset lines
//     (7.2) survive; with w < 6.7 only agreed lines (w_q + w_qg) do. "seam" is
//     the original (one line per ROI extended to its border; the original's
//     cone and centre filters are not reproduced), "union" skips the
//     weighting. Options.OtherFunc adds other detectors' segments (weight 1).
//  6. ROI: whole image (default), Options.Boxes / DetectIn, Options.ROIFunc
//     (e.g. YOLO via host/cv), or "gt" (padded GT box, a labelled substitute).
//     The edge map is computed once on the whole image and cropped per ROI.
//
// # API
//
//	sp, err := airline.Space("airline8")              // []Param{Name, Lo, Hi, Default, Scale, Integer, Doc}
//	e, err := airline.New(airline.Options{Seed: 1})    // zero values = defaults; Options.Validate names bad fields
//	m, err := e.Params(x)                              // validates x (nil = defaults), names the bad parameter and its bounds
//	segs, err := e.Detect(ctx, x, img)                 // []imgbuf.Segment
//	segs, err = e.DetectIn(ctx, x, img, boxes)         // per-call ROIs
//	rec, err := e.Eval(ctx, x, img, gt)                // Record{metric.Score, Soft, Metric, NLines, Ms, Stats}; rec.Value() is the objective
//	rec = e.ScoreSegments(det, gt, w, h)               // both metrics, F_r and soft LP_r (Options.Metric picks Value)
//	res, err := e.Run(ctx, x, img, boxes, gt)          // everything: per-preset segments, ROIs, Stats
//	recs, err := e.EvalMany(ctx, x, n, imageFn, workers) // n images on all cores (workers 0), records in order
//
// Errors are *errs.Error: bad_arg (x, options, images), oom (image over
// MaxPixels, 16 Mpx), failed (EdgeFunc, ROIFunc, OtherFunc), canceled
// (ctx, polled between stages and per CRG seed row), internal (a recovered
// panic). The Evaluator is safe for concurrent use and pools its scratch
// memory; repeated calls on same-sized images keep the heap flat.
//
// Stages for the GPU port (stages.go): Blur, GaussianKernel, Sobel,
// ClassicalEdges(EdgeParams), KernelBank, Orientation (pixel-major flat
// []float32, stride T), OrientationHalfLen, CRG. All float32, fixed order.
//
// # Spaces and defaults
//
// "airline8" is the original 8-D space with the original bounds. Its defaults
// [-6, 0.9, 0.03, -6, 0.6, 0.03, 12, 12] were picked by a 40-point random
// search on the synthetic train split plus rounding (tune_test.go, opt-in with
// BOHOST_TUNE=1). Mean F_3 (P, R) with these defaults: synthetic (24 images,
// seed 1) train 0.643, test 0.775 (P 0.995, R 0.673); York Urban, first 20
// train images, 0.574 (P 0.494, R 0.753), about OpenCV LSD's 0.566 on all 102
// (notes §10). The original presets (-3, 0.98/0.75, 0.05) score 0.38–0.52 on
// synthetic with this edge map. DenseEdges (no NMS, DexiNed-like bands) reaches
// F 0.92 on synthetic test but 0.55 on York Urban and emits parallel duplicates
// on clean edges, so it is an option.
//
// "classical" (10-D) tunes one AirLine run on a Canny map: blur_sigma,
// canny_low, canny_ratio, orientations (T), kernel_half (K = 2h+1),
// sim_thresh, min_pixels, min_length, max_region_px, seed_stride.
//
// Seed stride: AirLine seeds on a stride-2 grid, which never meets a 1-px edge
// on an odd row or column (or a 45° edge with odd x−y). Thick learned maps hide
// this; thin classical maps do not, so SeedStride defaults to 1 for the
// classical edge stage and to AirLine's 2 for learned edges.
//
// Speed (2-core Xeon, single-threaded, same image): 640x480 synthetic scene
// 20.7 ms vs OpenCV 4.6 LSD 19.8 ms (1.05x); York Urban P1020171 46 ms vs LSD
// 37.7 ms (1.22x). See BenchmarkDetect640x480 and BenchmarkDetectYorkUrban.
package airline
