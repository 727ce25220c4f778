package report

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// Default figure sizes: one thesis text width (6 in) by 4 in.
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 4 * vg.Inch
)

// PNGDPI is the resolution of PNG output (6 in × 4 in → 1800 × 1200 pixels).
// Figures holding an image use ImageDPI: the photographs behind overlays
// are coarser than that already, and drawing them at 300 dpi costs twice
// the time for nothing.
const (
	PNGDPI   = 300
	ImageDPI = 200
)

// palette is the Okabe–Ito colour-blind-safe palette without its yellow,
// which is unreadable on white. Colours repeat with dashes after 7 series.
var palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
}

// Gray is the colour the report uses for context marks (worker deaths,
// evaluated points). Pass it to SetColor.
var Gray color.Color = color.RGBA{0x80, 0x80, 0x80, 0xff}

// Figure is one panel: a titled pair of axes holding lines, bands, box plots,
// scatter points, vertical markers and text labels, or an image with line
// segments drawn over it. Series are named; a name keeps its colour across
// calls (so Band("a", …) and Line("a", …) match) and appears once in the
// legend, which is drawn below the axes where it never covers data.
//
// The drawing methods never panic on bad input: the first error (mismatched
// lengths, no values) is kept and returned by Err and by Save. Non-finite
// points (NaN, ±Inf) are dropped; a Line or Band is broken at them.
type Figure struct {
	title, xlabel, ylabel string

	items      []item
	legend     []legendEntry
	colors     map[string]color.Color
	dashes     map[string][]vg.Length
	widths     map[string]vg.Length
	next       int
	boxNames   []string
	categories []string // Categories: x-axis labels at 0, 1, …

	xmin, xmax, ymin, ymax float64 // fixed ranges; NaN = from the data

	img     image.Image     // what is drawn: the image, reduced when it is large (MaxImageSide)
	imgB    image.Rectangle // the image's bounds as given: segments are in its pixels
	imgSegs []segSet

	err error
}

type item struct {
	layer int // 0 behind (bands), 1 data, 2 on top (labels)
	p     plot.Plotter
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

type segSet struct {
	name string
	segs []imgbuf.Segment
}

// NewFigure returns an empty figure with the given title and axis labels
// (any may be empty). Put units in the labels, e.g. "memory (GiB)".
func NewFigure(title, xlabel, ylabel string) *Figure {
	nan := math.NaN()
	return &Figure{
		title: title, xlabel: xlabel, ylabel: ylabel,
		colors: map[string]color.Color{}, dashes: map[string][]vg.Length{}, widths: map[string]vg.Length{},
		xmin: nan, xmax: nan, ymin: nan, ymax: nan,
	}
}

// MaxImageSide bounds the image an image figure draws: a larger one (the
// welding study's 3264 × 2448 photographs) is reduced by an integer factor
// to at most this many pixels a side (the mean of each block, grey) before
// it is drawn. A 6 in wide figure at 300 dpi has 1800 pixels; drawing more
// only makes files larger (an SVG embeds the image). Segments keep the
// coordinates of the image as given.
const MaxImageSide = 2048

// NewImageFigure returns a figure that shows img (pixel coordinates, origin
// top-left, y down) with its aspect ratio kept; add line sets with Segments.
func NewImageFigure(title string, img image.Image) *Figure {
	f := NewFigure(title, "", "")
	if img == nil {
		f.fail("report.figure: nil image")
		return f
	}
	f.img, f.imgB = shrink(img, MaxImageSide), img.Bounds()
	return f
}

// shrink reduces img by the smallest integer factor that brings both sides
// to at most side pixels (block means, grey); a small image is returned as
// is.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	k := max((b.Dx()+side-1)/side, (b.Dy()+side-1)/side)
	if k <= 1 {
		return img
	}
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	out := image.NewGray(image.Rect(0, 0, w, h))
	g, isGray := img.(*image.Gray)
	sum := make([]uint32, w)
	cnt := make([]uint32, w)
	for oy := 0; oy < h; oy++ {
		clear(sum)
		clear(cnt)
		for y := oy * k; y < min(b.Dy(), oy*k+k); y++ {
			for x := 0; x < b.Dx(); x++ {
				var v uint8
				if isGray {
					v = g.Pix[y*g.Stride+x]
				} else {
					v = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
				}
				sum[x/k] += uint32(v)
				cnt[x/k]++
			}
		}
		for x := range sum {
			out.Pix[oy*out.Stride+x] = uint8((sum[x] + cnt[x]/2) / cnt[x])
		}
	}
	return out
}

// Err returns the first error recorded by a drawing method, or nil.
func (f *Figure) Err() error { return f.err }

func (f *Figure) fail(format string, args ...any) {
	if f.err == nil {
		f.err = errs.New(errs.BadArg, "report.figure", format, args...)
	}
}

// SetColor fixes the colour of the series called name. Call it before the
// series is drawn; otherwise colours are taken in turn from a colour-blind-safe
// palette.
func (f *Figure) SetColor(name string, c color.Color) { f.colors[name] = c }

// SetDashes makes the series called name dashed (e.g. {4, 2} points).
func (f *Figure) SetDashes(name string, dashes []vg.Length) { f.dashes[name] = dashes }

// SetLineWidth sets the line width of the series called name, in points
// (default 1.5).
func (f *Figure) SetLineWidth(name string, points float64) {
	if !(points > 0 && points <= 20) {
		f.fail("SetLineWidth %q: width must be in (0, 20] points, got %g", name, points)
		return
	}
	f.widths[name] = vg.Points(points)
}

// SetXRange fixes the x axis range; NaN for either bound means "from the data".
func (f *Figure) SetXRange(min, max float64) { f.xmin, f.xmax = min, max }

// Categories labels the x axis with names at x = 0, 1, …: a categorical axis
// for points drawn at those x (boxes label it themselves).
func (f *Figure) Categories(names ...string) { f.categories = append([]string(nil), names...) }

// SetYRange fixes the y axis range; NaN for either bound means "from the data".
func (f *Figure) SetYRange(min, max float64) { f.ymin, f.ymax = min, max }

func (f *Figure) color(name string) color.Color {
	if c, ok := f.colors[name]; ok {
		return c
	}
	c := palette[f.next%len(palette)]
	if f.next >= len(palette) {
		if _, ok := f.dashes[name]; !ok {
			f.dashes[name] = []vg.Length{vg.Points(5), vg.Points(2)}
		}
	}
	f.next++
	f.colors[name] = c
	return c
}

func (f *Figure) addLegend(name string, t plot.Thumbnailer) {
	if name == "" || t == nil {
		return
	}
	for i := range f.legend {
		if f.legend[i].name == name {
			f.legend[i].thumbs = append(f.legend[i].thumbs, t)
			return
		}
	}
	f.legend = append(f.legend, legendEntry{name: name, thumbs: []plot.Thumbnailer{t}})
}

// runs splits the index range into maximal runs where ok(i) holds.
func runs(n int, ok func(i int) bool) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= n; i++ {
		if i < n && ok(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

func (f *Figure) checkLen(op, name string, n int, others ...[]float64) bool {
	for _, o := range others {
		if len(o) != n {
			f.fail("%s %q: x has %d values but another argument has %d", op, name, n, len(o))
			return false
		}
	}
	return true
}

func (f *Figure) lineStyle(name string, width vg.Length) draw.LineStyle {
	if w, ok := f.widths[name]; ok {
		width = w
	}
	return draw.LineStyle{Color: f.color(name), Width: width, Dashes: f.dashes[name]}
}

// Line draws y against x as a line called name.
func (f *Figure) Line(name string, x, y []float64) { f.line(name, x, y, false) }

// LinePoints draws y against x as a line with a marker at every point.
func (f *Figure) LinePoints(name string, x, y []float64) { f.line(name, x, y, true) }

func (f *Figure) line(name string, x, y []float64, points bool) {
	if !f.checkLen("Line", name, len(x), y) {
		return
	}
	sty := f.lineStyle(name, vg.Points(1.5))
	var thumb plot.Thumbnailer
	for _, r := range runs(len(x), func(i int) bool { return num.Finite(x[i]) && num.Finite(y[i]) }) {
		xys := make(plotter.XYs, 0, r[1]-r[0])
		for i := r[0]; i < r[1]; i++ {
			xys = append(xys, plotter.XY{X: x[i], Y: y[i]})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			f.fail("Line %q: %v", name, err)
			return
		}
		l.LineStyle = sty
		f.items = append(f.items, item{1, l})
		if thumb == nil {
			thumb = l
		}
		if points {
			s, _ := plotter.NewScatter(xys)
			s.GlyphStyle = draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			f.items = append(f.items, item{1, s})
			thumb = thumbs{l, s}
		}
	}
	f.addLegend(name, thumb)
}

type thumbs []plot.Thumbnailer

func (ts thumbs) Thumbnail(c *draw.Canvas) {
	for _, t := range ts {
		t.Thumbnail(c)
	}
}

// Band shades the region between lo and hi over x, in the colour of name
// with transparency, behind the lines.
func (f *Figure) Band(name string, x, lo, hi []float64) {
	if !f.checkLen("Band", name, len(x), lo, hi) {
		return
	}
	c := color.RGBAModel.Convert(f.color(name)).(color.RGBA)
	fill := color.NRGBA{c.R, c.G, c.B, 0x40}
	var thumb plot.Thumbnailer
	for _, r := range runs(len(x), func(i int) bool { return num.Finite(x[i]) && num.Finite(lo[i]) && num.Finite(hi[i]) }) {
		if r[1]-r[0] < 2 {
			continue
		}
		xys := make(plotter.XYs, 0, 2*(r[1]-r[0]))
		for i := r[0]; i < r[1]; i++ {
			xys = append(xys, plotter.XY{X: x[i], Y: hi[i]})
		}
		for i := r[1] - 1; i >= r[0]; i-- {
			xys = append(xys, plotter.XY{X: x[i], Y: lo[i]})
		}
		p, err := plotter.NewPolygon(xys)
		if err != nil {
			f.fail("Band %q: %v", name, err)
			return
		}
		p.Color = fill
		p.LineStyle.Width = 0
		f.items = append(f.items, item{0, p})
		thumb = p
	}
	// The band's thumbnail goes under the line's: insert it first.
	if thumb != nil {
		found := false
		for i := range f.legend {
			if f.legend[i].name == name {
				f.legend[i].thumbs = append([]plot.Thumbnailer{thumb}, f.legend[i].thumbs...)
				found = true
			}
		}
		if !found {
			f.addLegend(name, thumb)
		}
	}
}

// Scatter draws the points (x[i], y[i]) as markers called name.
func (f *Figure) Scatter(name string, x, y []float64) {
	f.scatter(name, x, y, draw.CircleGlyph{}, vg.Points(2.5))
}

// Markers is Scatter with a chosen glyph: "circle", "ring", "square",
// "triangle", "diamond", "plus" or "cross", and radius in points.
func (f *Figure) Markers(name string, x, y []float64, shape string, radius float64) {
	g, ok := glyphs[shape]
	if !ok {
		f.fail("Markers %q: shape must be one of circle, ring, square, triangle, diamond, plus, cross; got %q", name, shape)
		return
	}
	if !(radius > 0 && radius < 100) {
		f.fail("Markers %q: radius must be in (0, 100) points, got %g", name, radius)
		return
	}
	f.scatter(name, x, y, g, vg.Points(radius))
}

var glyphs = map[string]draw.GlyphDrawer{
	"circle": draw.CircleGlyph{}, "ring": draw.RingGlyph{}, "square": draw.SquareGlyph{},
	"triangle": draw.PyramidGlyph{}, "diamond": diamondGlyph{}, "plus": draw.PlusGlyph{},
	"cross": draw.CrossGlyph{},
}

type diamondGlyph struct{}

func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.5)})
	r := sty.Radius * 1.2
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.Fill(p)
}

func (f *Figure) scatter(name string, x, y []float64, g draw.GlyphDrawer, r vg.Length) {
	if !f.checkLen("Scatter", name, len(x), y) {
		return
	}
	var xys plotter.XYs
	for i := range x {
		if num.Finite(x[i]) && num.Finite(y[i]) {
			xys = append(xys, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	if len(xys) == 0 {
		return
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		f.fail("Scatter %q: %v", name, err)
		return
	}
	s.GlyphStyle = draw.GlyphStyle{Color: f.color(name), Radius: r, Shape: g}
	f.items = append(f.items, item{1, s})
	f.addLegend(name, s)
}

// Box adds a box plot of values (median, quartiles, whiskers at 1.5 IQR,
// outliers as points) called name. The i-th box (0-based) sits at x = i and
// its name labels the x axis there.
func (f *Figure) Box(name string, values []float64) {
	var vs plotter.Values
	for _, v := range values {
		if num.Finite(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		f.fail("Box %q: no finite values", name)
		return
	}
	b, err := plotter.NewBoxPlot(vg.Points(28), float64(len(f.boxNames)), vs)
	if err != nil {
		f.fail("Box %q: %v", name, err)
		return
	}
	c := color.RGBAModel.Convert(f.color(name)).(color.RGBA)
	b.FillColor = color.NRGBA{c.R, c.G, c.B, 0x50}
	b.BoxStyle.Color = c
	b.MedianStyle.Color = c
	b.MedianStyle.Width = vg.Points(2)
	b.WhiskerStyle.Color = c
	b.GlyphStyle.Color = c
	b.GlyphStyle.Radius = vg.Points(2)
	f.items = append(f.items, item{1, b})
	f.boxNames = append(f.boxNames, name)
}

// ErrorBars draws vertical error bars from lo[i] to hi[i] at x[i] in the
// colour of name (no legend entry of their own: pair them with a Line).
func (f *Figure) ErrorBars(name string, x, lo, hi []float64) {
	if !f.checkLen("ErrorBars", name, len(x), lo, hi) {
		return
	}
	var e errBars
	for i := range x {
		if num.Finite(x[i]) && num.Finite(lo[i]) && num.Finite(hi[i]) && hi[i] > lo[i] {
			e = append(e, [3]float64{x[i], lo[i], hi[i]})
		}
	}
	if len(e) == 0 {
		return
	}
	xys := make(plotter.XYs, len(e))
	ye := make(plotter.YErrors, len(e))
	for i, b := range e {
		mid := (b[1] + b[2]) / 2
		xys[i] = plotter.XY{X: b[0], Y: mid}
		ye[i] = struct{ Low, High float64 }{mid - b[1], b[2] - mid}
	}
	yb, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{xys, ye})
	if err != nil {
		f.fail("ErrorBars %q: %v", name, err)
		return
	}
	yb.LineStyle = f.lineStyle(name, vg.Points(1))
	yb.LineStyle.Dashes = nil
	yb.CapWidth = vg.Points(6)
	f.items = append(f.items, item{1, yb})
}

type errBars [][3]float64

// VLine draws a vertical line at x across the whole y range (events such as
// worker deaths), called name.
func (f *Figure) VLine(name string, x float64) {
	if !num.Finite(x) {
		f.fail("VLine %q: x must be finite, got %g", name, x)
		return
	}
	v := &vline{x: x, sty: f.lineStyle(name, vg.Points(1))}
	if v.sty.Dashes == nil {
		v.sty.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
	}
	f.items = append(f.items, item{1, v})
	f.addLegend(name, v)
}

type vline struct {
	x   float64
	sty draw.LineStyle
}

func (v *vline) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	x := tx(v.x)
	c.StrokeLine2(v.sty, x, c.Min.Y, x, c.Max.Y)
}

func (v *vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.x, v.x, math.Inf(1), math.Inf(-1)
}

func (v *vline) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(v.sty, x, c.Min.Y, x, c.Max.Y)
}

// Label writes text at the data point (x, y), slightly above and right of it.
func (f *Figure) Label(x, y float64, text string) {
	if !num.Finite(x) || !num.Finite(y) {
		return
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{text}})
	if err != nil {
		f.fail("Label %q: %v", text, err)
		return
	}
	l.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(3)}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(8)
	}
	f.items = append(f.items, item{2, l})
}

// Segments draws line segments (pixel coordinates of the image) over an
// image figure, called name.
func (f *Figure) Segments(name string, segs []imgbuf.Segment) {
	if f.img == nil {
		f.fail("Segments %q: the figure has no image (use NewImageFigure)", name)
		return
	}
	f.color(name)
	f.imgSegs = append(f.imgSegs, segSet{name, segs})
	f.addLegend(name, &segThumb{f.lineStyle(name, vg.Points(1.5))})
}

type segThumb struct{ sty draw.LineStyle }

func (s *segThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(s.sty, c.Min.X, y, c.Max.X, y)
}

// fontSizes are the point sizes of title, axis labels and tick labels.
type fontSizes struct{ title, label, tick, legend vg.Length }

var (
	singleFonts = fontSizes{vg.Points(12), vg.Points(11), vg.Points(10), vg.Points(10)}
	panelFonts  = fontSizes{vg.Points(10), vg.Points(9), vg.Points(8), vg.Points(9)}
)

// build makes a fresh plot of the figure's items (Save may run several times).
func (f *Figure) build(fs fontSizes) *plot.Plot {
	p := plot.New()
	p.Title.Text = f.title
	p.Title.TextStyle.Font.Size = fs.title
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = f.xlabel
	p.Y.Label.Text = f.ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = fs.label
		a.Tick.Label.Font.Size = fs.tick
		a.Label.Padding = vg.Points(2)
		a.Padding = 0 // axes meet at the corner
	}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xe0}
	g.Horizontal.Color = color.Gray{0xe0}
	p.Add(g)
	sorted := append([]item(nil), f.items...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].layer < sorted[j].layer })
	for _, it := range sorted {
		p.Add(it.p)
	}
	if p.Y.Min > p.Y.Max { // only vertical lines or nothing
		p.Y.Min, p.Y.Max = 0, 1
	}
	if p.X.Min > p.X.Max {
		p.X.Min, p.X.Max = 0, 1
	}
	if len(f.boxNames) > 0 {
		p.NominalX(f.boxNames...)
		p.X.Min, p.X.Max = -0.6, float64(len(f.boxNames))-0.4
	} else if len(f.categories) > 0 {
		p.NominalX(f.categories...)
		p.X.Min, p.X.Max = -0.6, float64(len(f.categories))-0.4
	}
	// A little headroom so lines do not run along the frame.
	if d := p.Y.Max - p.Y.Min; d > 0 {
		p.Y.Min -= 0.04 * d
		p.Y.Max += 0.04 * d
	}
	if num.Finite(f.xmin) {
		p.X.Min = f.xmin
	}
	if num.Finite(f.xmax) {
		p.X.Max = f.xmax
	}
	if num.Finite(f.ymin) {
		p.Y.Min = f.ymin
	}
	if num.Finite(f.ymax) {
		p.Y.Max = f.ymax
	}
	return p
}

// Save writes the figure to path, w × h, choosing the format from the
// extension: .png (300 dpi; 200 dpi with an image), .svg or .pdf.
func (f *Figure) Save(path string, w, h vg.Length) error {
	return SaveGrid(path, w, h, "", 1, f)
}

// SaveInches is Save with the size in inches (for bindings that do not
// import vg).
func (f *Figure) SaveInches(path string, w, h float64) error {
	return SaveGrid(path, vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch, "", 1, f)
}

// SaveGrid writes panels as small multiples, cols per row, under an optional
// overall title, with one legend for all panels (entries merged by name, so
// give a name the same colour in every panel) below them. Axes of plot panels are aligned across rows and columns.
func SaveGrid(path string, w, h vg.Length, title string, cols int, panels ...*Figure) error {
	const op = "report.save"
	if len(panels) == 0 {
		return errs.New(errs.BadArg, op, "no panels to save to %s", path)
	}
	for i, p := range panels {
		if p == nil {
			return errs.New(errs.BadArg, op, "panel %d is nil", i+1)
		}
		if p.err != nil {
			return p.err
		}
	}
	if cols < 1 {
		return errs.New(errs.BadArg, op, "cols must be >= 1, got %d", cols)
	}
	if !(w > vg.Inch/2 && w < 100*vg.Inch && h > vg.Inch/2 && h < 100*vg.Inch) {
		return errs.New(errs.BadArg, op, "size must be between 0.5 and 100 in per side, got %.2f × %.2f in", w/vg.Inch, h/vg.Inch)
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	var cw vg.CanvasWriterTo
	switch format {
	case "png":
		dpi := PNGDPI
		for _, p := range panels {
			if p.img != nil {
				dpi = ImageDPI
			}
		}
		cw = pngCanvas{vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	case "svg":
		cw = vgsvg.New(w, h)
	case "pdf":
		cw = pdfText{vgpdf.New(w, h)}
	default:
		return errs.New(errs.BadArg, op, "file extension of %s must be .png, .svg or .pdf, got %q", path, filepath.Ext(path))
	}
	if cols > len(panels) {
		cols = len(panels)
	}
	if err := layout(draw.New(cw), title, cols, panels); err != nil {
		return err
	}
	return writeAtomic(path, func(fh *os.File) error {
		_, err := cw.WriteTo(fh)
		return err
	})
}

// layout draws the title, the shared legend and the panels on c.
func layout(c draw.Canvas, title string, cols int, panels []*Figure) (err error) {
	defer func() {
		// gonum/plot panics on a few degenerate inputs (e.g. an axis range it
		// cannot tick); never let that escape to the caller.
		if r := recover(); r != nil {
			err = errs.New(errs.Internal, "report.save", "drawing failed: %v", r)
		}
	}()
	fs := singleFonts
	if len(panels) > 1 {
		fs = panelFonts
	}
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	m := vg.Points(6)
	c = draw.Crop(c, m, -m, m, -m)

	if title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = singleFonts.title
		h := sty.Rectangle(title).Size().Y
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y + sty.FontExtents().Descent}, title)
		c.Max.Y -= h + vg.Points(6)
	}

	var entries []legendEntry
	for _, p := range panels {
		for _, e := range p.legend {
			dup := false
			for _, have := range entries {
				if have.name == e.name {
					dup = true
					break
				}
			}
			if !dup {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) > 0 {
		lsty := plot.NewLegend().TextStyle
		lsty.Font.Size = fs.legend
		lh := legendHeight(entries, c.Max.X-c.Min.X, lsty)
		lc := c
		lc.Max.Y = lc.Min.Y + lh
		drawLegend(lc, entries, lsty)
		c.Min.Y += lh + vg.Points(6)
	}

	rows := (len(panels) + cols - 1) / cols
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(8)}
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for i, p := range panels {
		if p.img == nil {
			plots[i/cols][i%cols] = p.build(fs)
		}
	}
	canvases := plot.Align(plots, tiles, c)
	for i, p := range panels {
		r, col := i/cols, i%cols
		if p.img != nil {
			p.drawImage(tiles.At(c, col, r), fs)
			continue
		}
		plots[r][col].Draw(canvases[r][col])
	}
	return nil
}

const (
	legendThumb = 18 // points
	legendGap   = 4  // between thumbnail and text
	legendSep   = 14 // between entries
)

func entryWidth(e legendEntry, sty draw.TextStyle) vg.Length {
	return vg.Points(legendThumb+legendGap) + sty.Width(e.name)
}

// legendRows flows entries into rows no wider than width.
func legendRows(entries []legendEntry, width vg.Length, sty draw.TextStyle) [][]legendEntry {
	var rows [][]legendEntry
	var cur []legendEntry
	var used vg.Length
	for _, e := range entries {
		ew := entryWidth(e, sty)
		if len(cur) > 0 && used+vg.Points(legendSep)+ew > width {
			rows = append(rows, cur)
			cur, used = nil, 0
		}
		if len(cur) > 0 {
			used += vg.Points(legendSep)
		}
		cur = append(cur, e)
		used += ew
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

func legendRowHeight(sty draw.TextStyle) vg.Length { return sty.Height("Mg") * 1.35 }

func legendHeight(entries []legendEntry, width vg.Length, sty draw.TextStyle) vg.Length {
	return vg.Length(len(legendRows(entries, width, sty))) * legendRowHeight(sty)
}

// drawLegend draws the entries in centred rows filling c from the top.
func drawLegend(c draw.Canvas, entries []legendEntry, sty draw.TextStyle) {
	rh := legendRowHeight(sty)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	y := c.Max.Y
	for _, row := range legendRows(entries, c.Max.X-c.Min.X, sty) {
		var total vg.Length
		for i, e := range row {
			if i > 0 {
				total += vg.Points(legendSep)
			}
			total += entryWidth(e, sty)
		}
		x := c.Min.X + (c.Max.X-c.Min.X-total)/2
		mid := y - rh/2
		for _, e := range row {
			th := sty.Height("M") * 0.9
			icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: mid - th/2},
				Max: vg.Point{X: x + vg.Points(legendThumb), Y: mid + th/2},
			}}
			for _, t := range e.thumbs {
				t.Thumbnail(&icon)
			}
			c.FillText(sty, vg.Point{X: x + vg.Points(legendThumb+legendGap), Y: mid}, e.name)
			x += entryWidth(e, sty) + vg.Points(legendSep)
		}
		y -= rh
	}
}

// drawImage draws an image figure into c: title on top, the image centred
// with its aspect ratio kept, segments over it.
func (f *Figure) drawImage(c draw.Canvas, fs fontSizes) {
	if f.title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = fs.title
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y + sty.FontExtents().Descent}, f.title)
		c.Max.Y -= sty.Rectangle(f.title).Size().Y + vg.Points(4)
	}
	b := f.imgB
	iw, ih := float64(b.Dx()), float64(b.Dy())
	if iw <= 0 || ih <= 0 {
		return
	}
	cw, ch := float64(c.Max.X-c.Min.X), float64(c.Max.Y-c.Min.Y)
	scale := math.Min(cw/iw, ch/ih)
	dw, dh := vg.Length(iw*scale), vg.Length(ih*scale)
	r := vg.Rectangle{Min: vg.Point{X: c.Min.X + (vg.Length(cw)-dw)/2, Y: c.Min.Y + (vg.Length(ch)-dh)/2}}
	r.Max = vg.Point{X: r.Min.X + dw, Y: r.Min.Y + dh}
	c.DrawImage(r, f.img)
	c.SetLineStyle(draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)})
	c.Stroke(r.Path())
	ic := draw.Canvas{Canvas: c.Canvas, Rectangle: r}
	for _, s := range f.imgSegs {
		sty := f.lineStyle(s.name, vg.Points(1.5))
		for _, sg := range s.segs {
			if !num.Finite(sg.X1) || !num.Finite(sg.Y1) || !num.Finite(sg.X2) || !num.Finite(sg.Y2) {
				continue
			}
			// Pixel centres at integers: pixel i spans [i-0.5, i+0.5].
			pt := func(x, y float64) vg.Point {
				return vg.Point{
					X: r.Min.X + vg.Length((x+0.5)*scale),
					Y: r.Max.Y - vg.Length((y+0.5)*scale),
				}
			}
			lines := ic.ClipLinesXY([]vg.Point{pt(sg.X1, sg.Y1), pt(sg.X2, sg.Y2)})
			ic.StrokeLines(sty, lines...)
		}
	}
}

// writeAtomic writes path through a temporary file in the same folder.
func writeAtomic(path string, write func(*os.File) error) error {
	const op = "report.write"
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errs.Wrap(errs.IO, op, err)
	}
	name := tmp.Name()
	if err := write(tmp); err != nil {
		tmp.Close()
		os.Remove(name)
		return errs.Wrap(errs.IO, op, fmt.Errorf("writing %s: %w", path, err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return errs.Wrap(errs.IO, op, err)
	}
	if err := os.Chmod(name, 0o644); err != nil { // CreateTemp makes 0600
		os.Remove(name)
		return errs.Wrap(errs.IO, op, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return errs.Wrap(errs.IO, op, err)
	}
	return nil
}

// pngCanvas writes PNG with fast compression: figures are mostly flat
// colour, so the files stay small and encoding takes a third of the time.
type pngCanvas struct{ *vgimg.Canvas }

func (c pngCanvas) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(cw, c.Image())
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pdfText makes text safe for gonum/plot's PDF back-end, which embeds fonts
// with the Windows-1252 code page and writes string bytes as they are: it
// re-encodes text to that code page and spells out what it lacks (α → alpha).
type pdfText struct{ *vgpdf.Canvas }

func (c pdfText) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toCP1252(s))
}

// cp1252 holds the code points of bytes 0x80–0x9F of Windows-1252.
var cp1252 = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88,
	'‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93,
	'”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B,
	'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

var cp1252Spell = map[rune]string{
	'α': "alpha", 'β': "beta", 'ρ': "rho", 'σ': "sigma", 'μ': "mu", '−': "-", '◆': "*", '≤': "<=", '≥': ">=",
}

func toCP1252(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xA0 && r <= 0xFF):
			b = append(b, byte(r))
		case cp1252[r] != 0:
			b = append(b, cp1252[r])
		case cp1252Spell[r] != "":
			b = append(b, cp1252Spell[r]...)
		default:
			b = append(b, '?')
		}
	}
	return string(b)
}
