package cv

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// rectImage is a w×h dark image (value bg) with one bright rectangle
// (value fg) covering [x0, x1) × [y0, y1).
func rectImage(w, h, x0, y0, x1, y1 int, bg, fg uint8) *imgbuf.Gray {
	g := imgbuf.NewGray(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := bg
			if x >= x0 && x < x1 && y >= y0 && y < y1 {
				v = fg
			}
			g.Set(x, y, v)
		}
	}
	return g
}

func TestGrayMatRoundTrip(t *testing.T) {
	g := imgbuf.NewGray(7, 5)
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	m, err := GrayToMat(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Rows() != 5 || m.Cols() != 7 {
		t.Fatalf("Mat is %dx%d, want 7x5", m.Cols(), m.Rows())
	}
	back, err := MatToGray(m)
	if err != nil {
		t.Fatal(err)
	}
	if back.W != 7 || back.H != 5 || string(back.Pix) != string(g.Pix) {
		t.Fatalf("round trip changed the image: %v vs %v", back.Pix, g.Pix)
	}
	// The Mat owns a copy: changing the source afterwards must not change it.
	g.Pix[0] = 99
	again, err := MatToGray(m)
	if err != nil {
		t.Fatal(err)
	}
	if again.Pix[0] != 0 {
		t.Fatalf("Mat aliases the Go buffer: pixel 0 is %d", again.Pix[0])
	}
}

func TestFloatMatRoundTrip(t *testing.T) {
	f := imgbuf.NewFloat(3, 4)
	for i := range f.Pix {
		f.Pix[i] = float32(i)*0.5 - 2
	}
	m, err := FloatToMat(f)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	back, err := MatToFloat(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Pix {
		if back.Pix[i] != f.Pix[i] {
			t.Fatalf("pixel %d: got %g want %g", i, back.Pix[i], f.Pix[i])
		}
	}
	if _, err := MatToGray(m); !errs.Is(err, errs.BadArg) {
		t.Fatalf("MatToGray of a float Mat: got %v, want bad_arg", err)
	}
}

func TestBadImagesAreBadArg(t *testing.T) {
	bad := []*imgbuf.Gray{nil, {W: 3, H: 3, Pix: make([]uint8, 8)}, {W: 0, H: 0}}
	for i, g := range bad {
		if _, err := LSD(g); !errs.Is(err, errs.BadArg) {
			t.Errorf("case %d: LSD: got %v, want bad_arg", i, err)
		}
		if _, err := Canny(g, 50, 150); !errs.Is(err, errs.BadArg) {
			t.Errorf("case %d: Canny: got %v, want bad_arg", i, err)
		}
	}
}

func TestDecode(t *testing.T) {
	dir := t.TempDir()
	want := rectImage(40, 30, 10, 5, 30, 20, 20, 200)
	png := filepath.Join(dir, "rect.png")
	rgba, err := DrawSegments(want) // grey → RGB, no segments
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePNG(png, rgba); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(png)
	if err != nil {
		t.Fatal(err)
	}
	if got.W != 40 || got.H != 30 || string(got.Pix) != string(want.Pix) {
		t.Fatalf("decoded image differs from the written one")
	}

	garbage := filepath.Join(dir, "garbage.png")
	if err := os.WriteFile(garbage, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.jpg"), "no such file"},
		{garbage, "cannot decode"},
		{dir, "is a directory"},
	} {
		_, err := Decode(tc.path)
		if !errs.Is(err, errs.IO) {
			t.Errorf("Decode(%s): got %v, want kind io", tc.path, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.want) {
			t.Errorf("Decode(%s): message %q must name the file and say %q", tc.path, msg, tc.want)
		}
	}
}

func TestSobelRamp(t *testing.T) {
	// I(x, y) = 3x + 2y: the unscaled 3×3 Sobel gives 8·3 and 8·2 inside.
	g := imgbuf.NewGray(12, 10)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			g.Set(x, y, uint8(3*x+2*y))
		}
	}
	gx, gy, err := Sobel(g)
	if err != nil {
		t.Fatal(err)
	}
	for y := 1; y < g.H-1; y++ {
		for x := 1; x < g.W-1; x++ {
			if gx.At(x, y) != 24 || gy.At(x, y) != 16 {
				t.Fatalf("at (%d,%d): gx=%g gy=%g, want 24, 16", x, y, gx.At(x, y), gy.At(x, y))
			}
		}
	}
}

func TestBlurCannyResize(t *testing.T) {
	g := rectImage(64, 48, 16, 12, 48, 36, 10, 240)
	b, err := GaussianBlur(g, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The blur keeps flat regions and softens the step: the boundary pixel lies strictly between.
	if b.At(32, 24) != 240 || b.At(2, 2) != 10 || !(b.At(16, 24) > 10 && b.At(16, 24) < 240) {
		t.Fatalf("blur: centre %d corner %d edge %d", b.At(32, 24), b.At(2, 2), b.At(16, 24))
	}
	if _, err := GaussianBlur(g, 0); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "sigma") {
		t.Fatalf("sigma 0: got %v", err)
	}
	e, err := Canny(g, 50, 150)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range e.Pix {
		if v == 255 {
			n++
		} else if v != 0 {
			t.Fatalf("Canny map holds %d", v)
		}
	}
	// The rectangle's outline is 2·(32+24) = 112 pixels long; Canny draws one 1-px contour.
	if n < 100 || n > 130 {
		t.Fatalf("Canny marked %d pixels, want about 112", n)
	}
	if e.At(32, 24) != 0 {
		t.Fatal("Canny marked the flat interior")
	}
	if _, err := Canny(g, 150, 50); !errs.Is(err, errs.BadArg) {
		t.Fatalf("lo > hi: got %v", err)
	}
	r, err := Resize(g, 32, 24)
	if err != nil {
		t.Fatal(err)
	}
	if r.W != 32 || r.H != 24 || r.At(16, 12) != 240 || r.At(1, 1) != 10 {
		t.Fatalf("resize: %dx%d centre %d corner %d", r.W, r.H, r.At(16, 12), r.At(1, 1))
	}
	if _, err := Resize(g, 0, 10); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "width") {
		t.Fatalf("width 0: got %v", err)
	}
}

func TestDrawSegments(t *testing.T) {
	g := imgbuf.NewGray(20, 10)
	for i := range g.Pix {
		g.Pix[i] = 50
	}
	out, err := DrawSegments(g,
		Layer{Segments: []imgbuf.Segment{{X1: 2, Y1: 3, X2: 17, Y2: 3}}, Color: color.RGBA{G: 255}},
		Layer{Segments: []imgbuf.Segment{{X1: 10, Y1: 0, X2: 10, Y2: 9}}}, // default red, on top
	)
	if err != nil {
		t.Fatal(err)
	}
	check := func(x, y int, want color.RGBA) {
		t.Helper()
		if got := out.RGBAAt(x, y); got != want {
			t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
		}
	}
	check(5, 3, color.RGBA{G: 255, A: 255})
	check(10, 3, color.RGBA{R: 255, A: 255})
	check(10, 8, color.RGBA{R: 255, A: 255})
	check(5, 5, color.RGBA{50, 50, 50, 255})
	if _, err := DrawSegments(g, Layer{Segments: []imgbuf.Segment{{X1: math.NaN()}}}); !errs.Is(err, errs.BadArg) {
		t.Fatalf("NaN segment: got %v", err)
	}
}

// edgeTolerance is how far (pixels) a detected segment may lie from a true
// rectangle edge: detectors place lines on the half-pixel boundary between
// the dark and bright rows, and LSD's refinement moves them by under a pixel.
const edgeTolerance = 1.5

// checkRectEdges asserts that segs contain, for each of the rectangle's four
// edges, a segment lying along it that covers most of its length, and that no
// segment lies away from the edges.
func checkRectEdges(t *testing.T, name string, segs []imgbuf.Segment, x0, y0, x1, y1 float64) {
	t.Helper()
	type edge struct {
		name       string
		horizontal bool
		at         float64 // y for horizontal, x for vertical
		lo, hi     float64
	}
	// The boundary between pixel x0-1 and x0 is at x0-0.5 in centre coordinates.
	edges := []edge{
		{"top", true, y0 - 0.5, x0, x1 - 1},
		{"bottom", true, y1 - 0.5, x0, x1 - 1},
		{"left", false, x0 - 0.5, y0, y1 - 1},
		{"right", false, x1 - 0.5, y0, y1 - 1},
	}
	found := make([]float64, len(edges)) // longest coverage per edge
	for _, s := range segs {
		matched := false
		for i, e := range edges {
			var a1, a2, b1, b2 float64 // a across, b along
			if e.horizontal {
				a1, a2, b1, b2 = s.Y1, s.Y2, s.X1, s.X2
			} else {
				a1, a2, b1, b2 = s.X1, s.X2, s.Y1, s.Y2
			}
			if math.Abs(a1-e.at) <= edgeTolerance && math.Abs(a2-e.at) <= edgeTolerance {
				cover := math.Min(math.Max(b1, b2), e.hi) - math.Max(math.Min(b1, b2), e.lo)
				found[i] = math.Max(found[i], cover)
				matched = true
			}
		}
		if !matched && s.Len() > 3 {
			t.Errorf("%s: segment %v lies on none of the rectangle's edges", name, s)
		}
	}
	for i, e := range edges {
		if want := 0.8 * (e.hi - e.lo); found[i] < want {
			t.Errorf("%s: %s edge covered over %.1f px, want >= %.1f (segments %v)", name, e.name, found[i], want, segs)
		}
	}
}

func TestDetectorsFindRectangle(t *testing.T) {
	const x0, y0, x1, y1 = 40, 30, 120, 90
	g := rectImage(160, 120, x0, y0, x1, y1, 30, 220)
	for _, tc := range []struct {
		name string
		run  func(*imgbuf.Gray) ([]imgbuf.Segment, error)
	}{
		{"LSD", LSD},
		{"FLD", FLD},
		{"Hough", func(g *imgbuf.Gray) ([]imgbuf.Segment, error) { return Hough(g, HoughParams{}) }},
	} {
		segs, err := tc.run(g)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkRectEdges(t, tc.name, segs, x0, y0, x1, y1)
	}
}

func TestDetectorsOnFlatImage(t *testing.T) {
	g := rectImage(50, 40, 0, 0, 0, 0, 128, 128)
	for name, run := range map[string]func(*imgbuf.Gray) ([]imgbuf.Segment, error){"LSD": LSD, "FLD": FLD} {
		segs, err := run(g)
		if err != nil || len(segs) != 0 {
			t.Errorf("%s on a flat image: %d segments, err %v; want none", name, len(segs), err)
		}
	}
}

func TestManySegmentsGrowBuffer(t *testing.T) {
	// 40×30 checkerboard of 8-px cells gives far more than the first buffer's 256 segments.
	g := imgbuf.NewGray(320, 240)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			if (x/8+y/8)%2 == 0 {
				g.Set(x, y, 230)
			} else {
				g.Set(x, y, 20)
			}
		}
	}
	segs, err := LSD(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) <= 256 {
		t.Fatalf("LSD found %d segments on a checkerboard, want > 256 to exercise the retry", len(segs))
	}
	for _, s := range segs {
		if !num.Finite(s.X1, s.Y1, s.X2, s.Y2) || s.X1 < -1 || s.X1 > 321 || s.Y2 < -1 || s.Y2 > 241 {
			t.Fatalf("segment out of the image: %v", s)
		}
	}
}

func TestHoughParamsValidate(t *testing.T) {
	if err := DefaultHoughParams().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod   func(*HoughParams)
		field string
	}{
		{func(p *HoughParams) { p.Rho = 0 }, "Rho"},
		{func(p *HoughParams) { p.Theta = 4 }, "Theta"},
		{func(p *HoughParams) { p.Threshold = 0 }, "Threshold"},
		{func(p *HoughParams) { p.MinLineLength = -1 }, "MinLineLength"},
		{func(p *HoughParams) { p.MaxLineGap = math.NaN() }, "MaxLineGap"},
		{func(p *HoughParams) { p.CannyHigh = 10 }, "high"},
	} {
		p := DefaultHoughParams()
		tc.mod(&p)
		err := p.Validate()
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want bad_arg naming it", tc.field, err)
		}
		if _, err := Hough(rectImage(20, 20, 5, 5, 15, 15, 0, 255), p); !errs.Is(err, errs.BadArg) {
			t.Errorf("Hough with bad %s: got %v", tc.field, err)
		}
	}
}

func TestNumThreads(t *testing.T) {
	old := NumThreads()
	defer SetNumThreads(old)
	SetNumThreads(1)
	if n := NumThreads(); n != 1 {
		t.Fatalf("NumThreads after SetNumThreads(1) = %d", n)
	}
}

func TestGrayFromImage(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 2))
	cols := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	for i, c := range cols {
		rgba.SetRGBA(i, 1, c)
	}
	// OpenCV's fixed-point weights: round(255·0.299) = 76, 150, 29, 255.
	want := []uint8{76, 150, 29, 255}
	sub := rgba.SubImage(image.Rect(0, 1, 4, 2)) // non-zero origin
	g, err := GrayFromImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	if g.W != 4 || g.H != 1 || string(g.Pix) != string(want) {
		t.Fatalf("grey %dx%d %v, want 4x1 %v", g.W, g.H, g.Pix, want)
	}
	gi := image.NewGray(image.Rect(0, 0, 3, 3))
	gi.Pix[4] = 77
	g2, err := GrayFromImage(gi.SubImage(image.Rect(1, 1, 3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if g2.W != 2 || g2.H != 2 || g2.Pix[0] != 77 || g2.Pix[1] != 0 {
		t.Fatalf("grey sub-image %v", g2.Pix)
	}
	if _, err := GrayFromImage(nil); !errs.Is(err, errs.BadArg) {
		t.Fatalf("nil image: got %v", err)
	}
}
