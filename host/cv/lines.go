package cv

import (
	"math"

	"gocv.io/x/gocv"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// LSD runs OpenCV's LineSegmentDetector (createLineSegmentDetector with
// LSD_REFINE_STD and the other defaults: scale 0.8, sigma_scale 0.6, quant 2,
// ang_th 22.5°, log_eps 0, density_th 0.7, n_bins 1024) on img.
func LSD(img *imgbuf.Gray) ([]imgbuf.Segment, error) {
	return runDetector("cv.lsd", img, lsdRaw)
}

// FLD runs ximgproc's FastLineDetector with its defaults (length threshold
// 10 px, distance threshold 1.414, Canny 50/50 with aperture 3, no merging).
func FLD(img *imgbuf.Gray) ([]imgbuf.Segment, error) {
	return runDetector("cv.fld", img, fldRaw)
}

func runDetector(op string, img *imgbuf.Gray, raw func(gocv.Mat) ([]segment4, error)) ([]imgbuf.Segment, error) {
	m, err := GrayToMat(img)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer m.Close()
	s4, err := raw(m)
	if err != nil {
		return nil, err
	}
	return toSegments(s4), nil
}

func toSegments(s4 []segment4) []imgbuf.Segment {
	out := make([]imgbuf.Segment, len(s4))
	for i, s := range s4 {
		out[i] = imgbuf.Segment{X1: float64(s[0]), Y1: float64(s[1]), X2: float64(s[2]), Y2: float64(s[3])}
	}
	return out
}

// HoughParams configures Hough: Canny edges followed by the probabilistic
// Hough transform (cv::HoughLinesP). The zero value means DefaultHoughParams;
// any other value is used as given and must pass Validate.
type HoughParams struct {
	CannyLow, CannyHigh float64 // hysteresis thresholds, 0 <= low <= high <= 10000; default 50, 150
	Rho                 float64 // distance resolution in pixels, (0, 100]; default 1
	Theta               float64 // angle resolution in radians, (0, π]; default π/180
	Threshold           int     // accumulator votes, [1, 1e6]; default 50
	MinLineLength       float64 // shortest segment kept, pixels, [0, 1e5]; default 30
	MaxLineGap          float64 // largest gap bridged on one line, pixels, [0, 1e5]; default 5
}

// DefaultHoughParams returns Canny(50, 150) + HoughLinesP(1, 1°, 50, 30, 5),
// the baseline of notes/airline.md §10.
func DefaultHoughParams() HoughParams {
	return HoughParams{CannyLow: 50, CannyHigh: 150, Rho: 1, Theta: math.Pi / 180, Threshold: 50, MinLineLength: 30, MaxLineGap: 5}
}

// Validate reports the first field out of range, naming it.
func (p HoughParams) Validate() error {
	const op = "cv.hough"
	if err := checkCanny(op, p.CannyLow, p.CannyHigh); err != nil {
		return err
	}
	switch {
	case !(p.Rho > 0 && p.Rho <= 100):
		return errs.New(errs.BadArg, op, "Rho must be in (0, 100], got %g", p.Rho)
	case !(p.Theta > 0 && p.Theta <= math.Pi):
		return errs.New(errs.BadArg, op, "Theta must be in (0, π], got %g", p.Theta)
	case p.Threshold < 1 || p.Threshold > 1e6:
		return errs.New(errs.BadArg, op, "Threshold must be in [1, 1000000], got %d", p.Threshold)
	case !(p.MinLineLength >= 0 && p.MinLineLength <= 1e5):
		return errs.New(errs.BadArg, op, "MinLineLength must be in [0, 100000], got %g", p.MinLineLength)
	case !(p.MaxLineGap >= 0 && p.MaxLineGap <= 1e5):
		return errs.New(errs.BadArg, op, "MaxLineGap must be in [0, 100000], got %g", p.MaxLineGap)
	}
	return nil
}

// Hough detects segments with Canny + HoughLinesP under p (zero value: defaults).
func Hough(img *imgbuf.Gray, p HoughParams) ([]imgbuf.Segment, error) {
	const op = "cv.hough"
	if p == (HoughParams{}) {
		p = DefaultHoughParams()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	src, err := GrayToMat(img)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	edges := gocv.NewMat()
	defer edges.Close()
	gocv.Canny(src, &edges, float32(p.CannyLow), float32(p.CannyHigh))
	lines := gocv.NewMat()
	defer lines.Close()
	gocv.HoughLinesPWithParams(edges, &lines, float32(p.Rho), float32(p.Theta), p.Threshold,
		float32(p.MinLineLength), float32(p.MaxLineGap))
	if lines.Empty() {
		return []imgbuf.Segment{}, nil
	}
	// lines is N×1 CV_32SC4: x1, y1, x2, y2 per row.
	if lines.Type() != gocv.MatTypeCV32SC4 {
		return nil, errs.New(errs.Internal, op, "HoughLinesP returned Mat type %v, want CV_32SC4", lines.Type())
	}
	n := lines.Rows()
	out := make([]imgbuf.Segment, n)
	for i := 0; i < n; i++ {
		v := lines.GetVeciAt(i, 0)
		out[i] = imgbuf.Segment{X1: float64(v[0]), Y1: float64(v[1]), X2: float64(v[2]), Y2: float64(v[3])}
	}
	return out, nil
}
