// Package metric scores detected line segments against ground truth: with the
// pixel-tolerance F-score F_r of notes/airline.md §10 (the heatmap F-score used
// on Wireframe and York Urban, whose recall half is AirLine's LP_r), and with
// the welding study's soft LP_r and its precision counterpart (SoftLP, below).
//
// For one image of size w x h with GT segments G and detected segments S:
//
//  1. G and S are rasterised separately as 1-px 8-connected Bresenham lines,
//     endpoints rounded (half away from zero) and clamped to [0,w-1] x [0,h-1],
//     giving the masks M_G and M_S. Segments with a non-finite coordinate are
//     ignored and not counted.
//  2. Exact Euclidean distance transforms d_G and d_S are computed with the
//     Felzenszwalb–Huttenlocher 1-D squared EDT, applied along columns and then
//     along rows.
//  3. P_r = |{p in M_S : d_G(p) <= r}| / |M_S| and
//     R_r = |{q in M_G : d_S(q) <= r}| / |M_G| (= LP_r with exact dilation,
//     not the upstream blur-threshold version).
//  4. F_r = 2 P_r R_r / (P_r + R_r); F_r = 0 when S is empty or P_r + R_r = 0.
//
// Empty ground truth: when no GT segment rasterises, FScore returns a Score
// with NGT == 0 and F = Precision = Recall = 0. Callers must skip such images
// (exclude them from means) rather than count them as failures; the test
// NGT == 0 is the documented signal.
//
// Radius gives the default tolerance: 3 px at 640x480 and
// round(0.00375 * diagonal) at other sizes (which is also 3 at 640x480; it is
// 1 at 160x120 and 0 below a diagonal of about 133 px, where r = 0 means exact
// pixel overlap, LP_0).
//
// # Soft LP_r: the welding study's metric
//
// SoftLP is the metric of the welding study (../shared/notes/welding.md),
// exactly as defined there, with no rasterisation:
//
//  1. every segment (x1, y1, x2, y2) with finite coordinates is sampled at
//     the SoftSamples = 100 points (x1 + t(x2 − x1), y1 + t(y2 − y1)),
//     t = 0, 1/99, …, 1 (both ends included); the points of all GT segments
//     of the image are pooled, and so are those of all detected segments;
//  2. soft LP_r (SoftScore.LP, a recall) is the mean over the GT points of
//     clip(1 − d/r, 0, 1), d the Euclidean distance to the nearest detected
//     sample point (not to the segment);
//  3. its precision counterpart (SoftScore.Precision) is the same with the
//     roles swapped: the mean over the detected points of clip(1 − d/r, 0, 1),
//     d the distance to the nearest GT sample point. LP alone does not
//     penalise false lines (a flood of lines scores 1); Precision shows them;
//  4. SoftScore.F = 2·LP·Precision/(LP + Precision), their harmonic mean (0
//     when both are 0), a soft F-score.
//
// No detected segment gives 0. No GT segment gives NGT == 0: skip the image
// (the study scored it 0; bohost excludes it, as for FScore).
//
// SoftRadius gives the default r: the study's 20 px at its 3264 x 2448
// photographs (diagonal 4080 px), scaled with the diagonal,
// r = 20 · sqrt(w² + h²)/4080 (3.92 px at 640 x 480). The study's code used
// 30 px; pass r explicitly to match it.
//
// The nearest point is searched in a uniform grid of cells at least r wide
// (3 x 3 cells per query), since any point r or more away scores 0: 400 GT
// points against 100,000 detected ones cost about 7 ms, and the result
// equals the brute-force definition (TestSoftLPMatchesBruteForce).
//
// Entry points:
//
//	func Radius(w, h int) float64
//	func FScore(det, gt []imgbuf.Segment, w, h int, r float64) Score
//	func SoftRadius(w, h int) float64
//	func SoftLP(det, gt []imgbuf.Segment, w, h int, r float64) SoftScore
//
// FScore never panics: a non-positive image size returns the zero Score, and
// out-of-image or huge coordinates are clamped. Working buffers come from a
// sync.Pool, so steady-state scoring allocates nothing per call; FScore is
// safe for concurrent use.
//
// Rasterise and DistanceTransform are exported for callers that want to draw
// masks (overlays) or test the pieces.
package metric
