package airline

import (
	"math"

	"bohost/host/errs"
)

// Param describes one dimension of a search space.
type Param struct {
	Name    string  // snake_case, as scripts and run records see it
	Lo, Hi  float64 // inclusive bounds
	Default float64 // the value used when x is nil
	Scale   string  // "linear" or "log" (a hint for the optimiser's input warping)
	Integer bool    // the value is rounded to the nearest integer before use
	Doc     string  // one line: what it does and where the default comes from
}

// Space names.
const (
	SpaceAirline8  = "airline8"
	SpaceClassical = "classical"
)

// The airline8 space: the original optimisation's 8-D search (notes §6):
// (edgeThresh, simThresh, pixelRatio) for preset Q, the same for preset QG,
// and the two RANSAC consensus weights. Bounds are the original's
// lower [-23,0.5,0.01,-23,0.5,0.01,1,1], upper [7,0.99,0.15,7,0.99,0.15,20,20].
//
// Defaults: the original presets were Q = (-3, 0.98, 0.05) and
// QG = (1, 0.75, 0.05) on DexiNed logits. On the classical edge map (logit =
// EdgeGain*ln(|grad|/EdgeRef), see EdgeParams) the defaults below were
// chosen on the synthetic data set (see doc.go for the numbers): Q is the
// permissive preset (low edge threshold, strict similarity) and QG the
// conservative one (higher edge threshold, looser similarity).
var airline8 = []Param{
	{Name: "edge_thresh_q", Lo: -23, Hi: 7, Default: -6, Scale: "linear",
		Doc: "preset Q: edge logit threshold (mask = E > t); original -3.0"},
	{Name: "sim_thresh_q", Lo: 0.5, Hi: 0.99, Default: 0.9, Scale: "linear",
		Doc: "preset Q: CRG cosine threshold; original 0.98"},
	{Name: "pixel_ratio_q", Lo: 0.01, Hi: 0.15, Default: 0.03, Scale: "linear",
		Doc: "preset Q: min region size as a fraction of the ROI diagonal (capped at PixelRatioCap); original 0.05"},
	{Name: "edge_thresh_qg", Lo: -23, Hi: 7, Default: -6, Scale: "linear",
		Doc: "preset QG: edge logit threshold; original 1.0"},
	{Name: "sim_thresh_qg", Lo: 0.5, Hi: 0.99, Default: 0.6, Scale: "linear",
		Doc: "preset QG: CRG cosine threshold; original 0.75"},
	{Name: "pixel_ratio_qg", Lo: 0.01, Hi: 0.15, Default: 0.03, Scale: "linear",
		Doc: "preset QG: min region size as a fraction of the ROI diagonal; original 0.05"},
	{Name: "w_q", Lo: 1, Hi: 20, Default: 12, Scale: "linear",
		Doc: "RANSAC consensus weight of preset Q's pixels; original 10"},
	{Name: "w_qg", Lo: 1, Hi: 20, Default: 12, Scale: "linear",
		Doc: "RANSAC consensus weight of preset QG's pixels; original 10"},
}

// The classical space: one AirLine run (no fusion) on a Canny-like edge map,
// with the stages' own knobs (notes §6).
var classical = []Param{
	{Name: "blur_sigma", Lo: 0.5, Hi: 3, Default: 1, Scale: "linear",
		Doc: "Gaussian blur sigma before Sobel (notes §6: 1.0)"},
	{Name: "canny_low", Lo: 10, Hi: 100, Default: 40, Scale: "log",
		Doc: "hysteresis low threshold on the L2 Sobel magnitude of the blurred image"},
	{Name: "canny_ratio", Lo: 2, Hi: 4, Default: 3, Scale: "linear",
		Doc: "hysteresis high/low ratio"},
	{Name: "orientations", Lo: 4, Hi: 12, Default: 6, Scale: "linear", Integer: true,
		Doc: "T, the number of orientation kernels (AirLine: 6)"},
	{Name: "kernel_half", Lo: 2, Hi: 6, Default: 4, Scale: "linear", Integer: true,
		Doc: "K = 2*kernel_half+1 is the orientation kernel size (AirLine: K = 9)"},
	{Name: "sim_thresh", Lo: 0.5, Hi: 0.99, Default: 0.85, Scale: "linear",
		Doc: "CRG cosine threshold (York Urban script: 0.8, demo 0.9)"},
	{Name: "min_pixels", Lo: 5, Hi: 200, Default: 10, Scale: "log", Integer: true,
		Doc: "pixelNumThresh: regions need more than this many pixels (AirLine: 10)"},
	{Name: "min_length", Lo: 0, Hi: 50, Default: 15, Scale: "linear",
		Doc: "post-filter: keep segments at least this long, px (demo: 15)"},
	{Name: "max_region_px", Lo: 1000, Hi: 20000, Default: 5000, Scale: "log", Integer: true,
		Doc: "regions reaching this many pixels are dropped (AirLine: 5000)"},
	{Name: "seed_stride", Lo: 1, Hi: 2, Default: 1, Scale: "linear", Integer: true,
		Doc: "CRG seed grid stride in rows and columns (AirLine: 2, which misses thin edges on odd rows/columns)"},
}

// Space returns a copy of the named search space: "airline8" (also "") or
// "classical".
func Space(name string) ([]Param, error) {
	switch name {
	case "", SpaceAirline8:
		return append([]Param(nil), airline8...), nil
	case SpaceClassical:
		return append([]Param(nil), classical...), nil
	}
	return nil, errs.New(errs.BadArg, "airline.space", "unknown space %q (want %q or %q)", name, SpaceAirline8, SpaceClassical)
}

// Defaults returns the default point of a space.
func Defaults(space []Param) []float64 {
	x := make([]float64, len(space))
	for i, p := range space {
		x[i] = p.Default
	}
	return x
}

// checkX validates x against space and returns the values to use (integers
// rounded). x nil selects the defaults.
func checkX(op string, space []Param, x []float64) ([]float64, error) {
	if x == nil {
		return Defaults(space), nil
	}
	if len(x) != len(space) {
		return nil, errs.New(errs.BadArg, op, "x has %d values, the space has %d parameters", len(x), len(space))
	}
	v := make([]float64, len(x))
	for i, p := range space {
		xi := x[i]
		if math.IsNaN(xi) || math.IsInf(xi, 0) {
			return nil, errs.New(errs.BadArg, op, "parameter %s (x[%d]) must be finite in [%g, %g], got %g", p.Name, i, p.Lo, p.Hi, xi)
		}
		// Tolerate round-off at the bounds (optimisers work in scaled units).
		tol := 1e-9 * math.Max(1, p.Hi-p.Lo)
		if xi < p.Lo-tol || xi > p.Hi+tol {
			return nil, errs.New(errs.BadArg, op, "parameter %s (x[%d]) must be in [%g, %g], got %g", p.Name, i, p.Lo, p.Hi, xi)
		}
		xi = math.Min(math.Max(xi, p.Lo), p.Hi)
		if p.Integer {
			xi = math.Round(xi)
		}
		v[i] = xi
	}
	return v, nil
}
