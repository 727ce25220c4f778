package report

import (
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/testsupport"
)

func TestQuantileDescribe(t *testing.T) {
	const tol = 1e-12
	// Reference values from numpy.quantile(x, p) (linear interpolation).
	cases := []struct {
		x    []float64
		p    float64
		want float64
	}{
		{[]float64{0.2, 0.4, 0.6, 0.8, 1.0}, 0.1, 0.28},
		{[]float64{0.7, 0.3, 0.5}, 0.1, 0.34},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 1, 4},
		{[]float64{5}, 0.1, 5},
		{[]float64{3, math.NaN(), 1}, 0.25, 1.5}, // NaN ignored
	}
	for _, c := range cases {
		if got := Quantile(c.x, c.p); math.Abs(got-c.want) > tol {
			t.Errorf("Quantile(%v, %g) = %.15g, want %.15g", c.x, c.p, got, c.want)
		}
	}
	for _, bad := range []struct {
		x []float64
		p float64
	}{{nil, 0.1}, {[]float64{1}, -0.1}, {[]float64{1}, 1.5}, {[]float64{math.NaN()}, 0.5}} {
		if got := Quantile(bad.x, bad.p); !math.IsNaN(got) {
			t.Errorf("Quantile(%v, %g) = %g, want NaN", bad.x, bad.p, got)
		}
	}
	// Sample std (n − 1): {2, 4, 4, 4, 5, 5, 7, 9} has mean 5, Σd² = 32, std √(32/7).
	s := Describe([]float64{2, 4, 4, 4, 5, 5, 7, 9, math.Inf(1)})
	if s.N != 8 || math.Abs(s.Mean-5) > tol || math.Abs(s.Std-math.Sqrt(32.0/7)) > tol || s.Min != 2 || s.Max != 9 {
		t.Errorf("Describe = %+v, want N 8, mean 5, std %.15g, min 2, max 9", s, math.Sqrt(32.0/7))
	}
	if s := Describe([]float64{3}); s.N != 1 || s.Mean != 3 || !math.IsNaN(s.Std) {
		t.Errorf("Describe one value = %+v, want mean 3, std NaN", s)
	}
	if s := Describe(nil); s.N != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("Describe(nil) = %+v, want NaN mean", s)
	}
}

func TestAggregateCurves(t *testing.T) {
	// Two step curves on different grids; the second stops early.
	a := stepCurve{x: []float64{1, 3, 5}, y: []float64{1, 3, 5}}
	b := stepCurve{x: []float64{2, 3}, y: []float64{10, 20}}
	got := aggregateCurves([]stepCurve{a, b}, "minmax")
	// grid 1,2,3,5: at 1 only a (1); at 2 a=1,b=10; at 3 a=3,b=20; at 5 only a=5.
	want := []struct{ x, mean, lo, hi float64 }{{1, 1, 1, 1}, {2, 5.5, 1, 10}, {3, 11.5, 3, 20}, {5, 5, 5, 5}}
	if len(got.x) != len(want) {
		t.Fatalf("grid = %v, want 4 points", got.x)
	}
	for i, w := range want {
		if got.x[i] != w.x || got.mean[i] != w.mean || got.lo[i] != w.lo || got.hi[i] != w.hi {
			t.Errorf("point %d = (%g, %g, [%g, %g]), want %+v", i, got.x[i], got.mean[i], got.lo[i], got.hi[i], w)
		}
	}
	std := aggregateCurves([]stepCurve{a, b}, "std")
	if d := std.hi[1] - std.mean[1]; math.Abs(d-9/math.Sqrt2) > 1e-12 {
		t.Errorf("std band half-width at x=2 = %g, want %g", d, 9/math.Sqrt2)
	}
}

func TestFigureBadInputIsAnError(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		draw func(f *Figure)
		msg  string
	}{
		{"line lengths", func(f *Figure) { f.Line("a", []float64{1, 2}, []float64{1}) }, `Line "a": x has 2 values`},
		{"band lengths", func(f *Figure) { f.Band("b", []float64{1, 2}, []float64{1, 2}, nil) }, `Band "b"`},
		{"empty box", func(f *Figure) { f.Box("c", []float64{math.NaN()}) }, `Box "c": no finite values`},
		{"vline NaN", func(f *Figure) { f.VLine("d", math.NaN()) }, `VLine "d"`},
		{"marker shape", func(f *Figure) { f.Markers("e", []float64{1}, []float64{1}, "star", 3) }, `got "star"`},
		{"segments without image", func(f *Figure) { f.Segments("s", nil) }, "NewImageFigure"},
		{"width", func(f *Figure) { f.SetLineWidth("w", -1) }, "got -1"},
	}
	for _, c := range cases {
		f := NewFigure("t", "x", "y")
		c.draw(f)
		f.Line("ok", []float64{0, 1}, []float64{0, 1}) // later calls keep the first error
		err := f.Save(filepath.Join(dir, "x.png"), DefaultWidth, DefaultHeight)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.msg) || f.Err() != err {
			t.Errorf("%s: Save err = %v, want bad_arg containing %q", c.name, err, c.msg)
		}
	}
	f := NewFigure("t", "x", "y")
	f.Line("a", []float64{0, 1}, []float64{0, 1})
	for _, c := range []struct {
		path string
		w, h vg.Length
		msg  string
	}{
		{filepath.Join(dir, "x.gif"), DefaultWidth, DefaultHeight, "must be .png, .svg or .pdf"},
		{filepath.Join(dir, "x.png"), 0, DefaultHeight, "size must be"},
		{filepath.Join(dir, "no", "such", "x.png"), DefaultWidth, DefaultHeight, "no such"},
	} {
		if err := f.Save(c.path, c.w, c.h); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Save(%s, %v, %v) = %v, want error containing %q", c.path, c.w, c.h, err, c.msg)
		}
	}
	if err := SaveGrid(filepath.Join(dir, "g.png"), DefaultWidth, DefaultHeight, "", 0, f); !errs.Is(err, errs.BadArg) {
		t.Errorf("SaveGrid cols 0 = %v, want bad_arg", err)
	}
}

// TestFigureAllFormats draws every building block, with NaN gaps and
// vertical-only content, in each format, and checks the PNG's size.
func TestFigureAllFormats(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("BOHOST_REPORT_KEEP"); d != "" { // for looking at the figures
		dir = d
	}
	x := []float64{0, 1, 2, 3, 4, 5}
	y := []float64{0.1, 0.3, math.NaN(), 0.5, 0.55, 0.6}
	f := NewFigure("all blocks α = 0.1 − ±", "evaluations", "CVaR of score")
	f.Band("run", x, []float64{0, 0.2, 0.3, 0.4, 0.5, 0.5}, []float64{0.2, 0.4, 0.5, 0.6, 0.6, 0.7})
	f.Line("run", x, y)
	f.LinePoints("points", x, []float64{0.2, 0.2, 0.3, 0.3, 0.4, 0.4})
	f.ErrorBars("points", x, []float64{0.1, 0.1, 0.2, 0.2, 0.3, 0.3}, []float64{0.3, 0.3, 0.4, 0.4, 0.5, 0.5})
	f.Scatter("dots", x, y)
	f.VLine("event", 2.5)
	f.Label(4, 0.55, "here")
	boxes := NewFigure("boxes", "", "score")
	boxes.Box("a", []float64{0.1, 0.2, 0.3, 0.9})
	boxes.Box("b", []float64{0.5, 0.6})
	boxes.Markers("q10", []float64{0, 1}, []float64{0.13, 0.51}, "diamond", 4)
	only := NewFigure("only events", "t", "")
	only.VLine("death", 3)
	for _, ext := range []string{"png", "svg", "pdf"} {
		p := filepath.Join(dir, "f."+ext)
		if err := f.SaveInches(p, 6, 4); err != nil {
			t.Fatalf("Save %s: %v", ext, err)
		}
		nonEmpty(t, p)
		g := filepath.Join(dir, "grid."+ext)
		if err := SaveGrid(g, DefaultWidth, 5*vg.Inch, "grid", 2, f, boxes, only); err != nil {
			t.Fatalf("SaveGrid %s: %v", ext, err)
		}
		nonEmpty(t, g)
	}
	fh, err := os.Open(filepath.Join(dir, "f.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	cfg, err := png.DecodeConfig(fh)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 6*PNGDPI || cfg.Height != 4*PNGDPI {
		t.Errorf("6 × 4 in PNG is %d × %d px, want %d × %d", cfg.Width, cfg.Height, 6*PNGDPI, 4*PNGDPI)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "f.svg"))
	if !strings.Contains(string(svg), "α = 0.1") {
		t.Errorf("SVG lost the title text")
	}
}

func TestLegendRowsFit(t *testing.T) {
	var entries []legendEntry
	for _, n := range []string{"α = 0.05 (n=3)", "α = 0.1 (n=3)", "α = 0.2 (n=3)", "α = 0.3 (n=3)", "α = 0.5 (n=3)", "α = 0.7 (n=3)", "a very long legend entry name indeed"} {
		entries = append(entries, legendEntry{name: n})
	}
	sty := NewFigure("", "", "").build(singleFonts).Legend.TextStyle
	sty.Font.Size = singleFonts.legend
	width := 4 * vg.Inch
	rows := legendRows(entries, width, sty)
	n := 0
	for _, row := range rows {
		var w vg.Length
		for i, e := range row {
			if i > 0 {
				w += vg.Points(legendSep)
			}
			w += entryWidth(e, sty)
		}
		if w > width && len(row) > 1 {
			t.Errorf("legend row %v is %.1f pt wide, more than %.1f", row, w.Points(), width.Points())
		}
		n += len(row)
	}
	if n != len(entries) || len(rows) < 2 {
		t.Errorf("legendRows placed %d of %d entries in %d rows", n, len(entries), len(rows))
	}
}

func TestToCP1252(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "plain",
		"α = 0.1":     "alpha = 0.1",
		"±1 std – ok": "\xb11 std \x96 ok",
		"risk−return": "risk-return",
		"P10 ◆ ∑":     "P10 * ?",
		"café, 5 µm²": "caf\xe9, 5 \xb5m\xb2",
	} {
		if got := toCP1252(in); got != want {
			t.Errorf("toCP1252(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "in.png")
	writeFakeImage(t, img, 64, 48, 3)
	sets := map[string][]imgbuf.Segment{
		"detected":     {{X1: 0, Y1: 0, X2: 63, Y2: 47}, {X1: math.NaN(), Y1: 0, X2: 1, Y2: 1}},
		"ground truth": {{X1: 0, Y1: 47, X2: 63, Y2: 0}, {X1: -50, Y1: 10, X2: 500, Y2: 10}}, // clipped
	}
	for _, ext := range []string{"png", "svg", "pdf"} {
		out := filepath.Join(dir, "o."+ext)
		if err := Overlay(img, sets, out); err != nil {
			t.Fatalf("Overlay %s: %v", ext, err)
		}
		nonEmpty(t, out)
	}
	// The PNG keeps the image's aspect ratio inside its frame: the output is
	// 6 in wide and about 0.75 × as tall plus title and legend room.
	fh, _ := os.Open(filepath.Join(dir, "o.png"))
	defer fh.Close()
	m, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 6*ImageDPI || b.Dy() < int(0.7*float64(b.Dx())) || b.Dy() > int(0.9*float64(b.Dx())) {
		t.Errorf("overlay PNG is %v, want 1200 px wide and about 0.75 × as tall", b)
	}
	if err := Overlay(filepath.Join(dir, "missing.png"), sets, filepath.Join(dir, "x.png")); !errs.Is(err, errs.IO) {
		t.Errorf("Overlay of a missing image = %v, want io", err)
	}
	writeText(t, filepath.Join(dir, "junk.png"), "junk")
	if err := Overlay(filepath.Join(dir, "junk.png"), sets, filepath.Join(dir, "x.png")); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "junk.png") {
		t.Errorf("Overlay of a junk image = %v, want io naming the file", err)
	}
}

// TestOverlayYorkUrban draws a real image with its hand-labelled segments
// when the shared data set is present.
func TestOverlayYorkUrban(t *testing.T) {
	dir, ok := testsupport.YorkUrban()
	if !ok {
		t.Skip("York Urban not found under $BOHOST_SHARED/data/lines/yorkurban; skipping the real-image overlay")
	}
	b, err := os.ReadFile(filepath.Join(dir, "P1020171.json"))
	if err != nil {
		t.Skipf("York Urban image P1020171 not readable (%v); skipping", err)
	}
	var gt struct {
		Lines [][]float64 `json:"lines"`
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	segs, bad := segments(gt.Lines)
	if bad > 0 || len(segs) == 0 {
		t.Fatalf("P1020171.json: %d segments, %d bad", len(segs), bad)
	}
	out := filepath.Join(t.TempDir(), "yu.png")
	if d := os.Getenv("BOHOST_REPORT_KEEP"); d != "" {
		out = filepath.Join(d, "yorkurban_overlay.png")
	}
	if err := OverlayTitled(filepath.Join(dir, "P1020171.jpg"), "P1020171: ground truth", map[string][]imgbuf.Segment{"ground truth": segs}, out); err != nil {
		t.Fatal(err)
	}
	fh, _ := os.Open(out)
	defer fh.Close()
	if _, _, err := image.DecodeConfig(fh); err != nil {
		t.Errorf("overlay output does not decode: %v", err)
	}
}
