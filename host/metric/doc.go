// Package metric scores detected line segments against ground truth with the
// pixel-tolerance F-score F_r of notes/airline.md §10 (the heatmap F-score used
// on Wireframe and York Urban, whose recall half is AirLine's LP_r).
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
// Entry points:
//
//	func Radius(w, h int) float64
//	func FScore(det, gt []imgbuf.Segment, w, h int, r float64) Score
//
// FScore never panics: a non-positive image size returns the zero Score, and
// out-of-image or huge coordinates are clamped. Working buffers come from a
// sync.Pool, so steady-state scoring allocates nothing per call; FScore is
// safe for concurrent use.
//
// Rasterise and DistanceTransform are exported for callers that want to draw
// masks (overlays) or test the pieces.
package metric
