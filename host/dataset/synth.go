package dataset

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// GeneratorVersion names the synthetic scene generator of the v1 scenes (Scene
// "" or "v1"); it changes whenever the same SynthOptions would produce
// different pixels or ground truth. The weld scenes have their own
// (WeldGeneratorVersion); SynthOptions.Version gives the one in use.
const GeneratorVersion = "synth-v1"

// SynthOptions configures Synthetic. Zero fields take the defaults.
type SynthOptions struct {
	N      int    `json:"n"`      // number of images, default 24, in [1, 100000]
	Width  int    `json:"width"`  // default 640, in [32, 4096]
	Height int    `json:"height"` // default 480, in [32, 4096]
	Seed   uint64 `json:"seed"`   // scene i is a pure function of (Seed, i, Width, Height)
	Split  string `json:"split"`  // "" or "all", "train" (first ceil(N/2) scenes), "test" (the rest)
	// Scene selects the scene family: "" or "v1" (facades, corridors,
	// boxes; GeneratorVersion) or "weld" (welded steel assemblies with
	// texture, glare and faint seams; WeldGeneratorVersion, weld.go). The
	// zero value stays v1 so recorded runs keep their data.
	Scene       string `json:"scene,omitempty"`
	CacheImages int    `json:"-"` // LRU size as in Options (0: the default byte budget, < 0: none)
}

// Defaults of SynthOptions.
const (
	DefaultSynthN      = 24
	DefaultSynthWidth  = 640
	DefaultSynthHeight = 480
)

func (o SynthOptions) withDefaults() SynthOptions {
	if o.N == 0 {
		o.N = DefaultSynthN
	}
	if o.Width == 0 {
		o.Width = DefaultSynthWidth
	}
	if o.Height == 0 {
		o.Height = DefaultSynthHeight
	}
	if o.Split == "" {
		o.Split = "all"
	}
	return o
}

// Validate reports a bad option, naming the field, its range and the value.
func (o SynthOptions) Validate() error {
	const op = "dataset.synthetic"
	o = o.withDefaults()
	switch {
	case o.N < 1 || o.N > 100000:
		return errs.New(errs.BadArg, op, "N must be in [1, 100000], got %d", o.N)
	case o.Width < 32 || o.Width > 4096:
		return errs.New(errs.BadArg, op, "Width must be in [32, 4096], got %d", o.Width)
	case o.Height < 32 || o.Height > 4096:
		return errs.New(errs.BadArg, op, "Height must be in [32, 4096], got %d", o.Height)
	case o.Split != "all" && o.Split != "train" && o.Split != "test":
		return errs.New(errs.BadArg, op, `Split must be "", "all", "train" or "test", got %q`, o.Split)
	case o.Scene != "" && o.Scene != SceneV1 && o.Scene != SceneWeld:
		return errs.New(errs.BadArg, op, `Scene must be "", %q or %q, got %q`, SceneV1, SceneWeld, o.Scene)
	case o.Split == "test" && o.N < 2:
		return errs.New(errs.BadArg, op, `Split "test" is empty for N=%d (the test half is scenes ceil(N/2)..N-1); use N >= 2`, o.N)
	}
	return nil
}

// Synthetic returns the built-in data set: deterministic synthetic scenes
// with exact ground-truth segments (see the package documentation). The
// ground truth of every scene is computed now (a noise-free render per
// scene, then discarded); the images themselves are rendered lazily by Image
// and cached like decoded files.
func Synthetic(opts SynthOptions) (*Dataset, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	g := &generator{opts: o}
	half := (o.N + 1) / 2
	lo, hi := 0, o.N
	switch o.Split {
	case "train":
		hi = half
	case "test":
		lo = half
	}
	d := &Dataset{split: o.Split, synth: &o, gen: g, cache: Options{CacheImages: o.CacheImages}.cache()}
	d.splits = map[string][]string{}
	for i := 0; i < o.N; i++ {
		name := "train"
		if i >= half {
			name = "test"
		}
		d.splits[name] = append(d.splits[name], synthID(i))
	}
	for i := lo; i < hi; i++ {
		sc := g.scene(i)
		d.items = append(d.items, Item{
			Index: i - lo, ID: synthID(i), Width: o.Width, Height: o.Height,
			Lines: sc.lines, Boxes: sc.boxes,
		})
	}
	return d, nil
}

func synthID(i int) string { return fmt.Sprintf("synth-%04d", i) }

// globalIndex is the generator index of a synthetic item.
func (d *Dataset) globalIndex(it Item) int {
	var k int
	fmt.Sscanf(it.ID, "synth-%d", &k)
	return k
}

// WriteDir writes the data set to dir in York Urban's layout: <ID>.png (8-bit
// gray), <ID>.json ({"width","height","lines"[,"boxes"]}, coordinates to 3
// decimals) and split.json with the split lists restricted to the written
// items. dir is created if needed; existing files of the same names are
// replaced. Open(dir) reads the result back.
func (d *Dataset) WriteDir(dir string) error {
	const op = "dataset.write_dir"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errs.Wrap(errs.IO, op, err)
	}
	written := map[string]bool{}
	for i, it := range d.items {
		g, err := d.Image(i)
		if err != nil {
			return err
		}
		if err := writePNG(filepath.Join(dir, it.ID+".png"), g); err != nil {
			return errs.New(errs.IO, op, "%s: %v", filepath.Join(dir, it.ID+".png"), err)
		}
		b, _ := json.Marshal(annotationOf(it))
		if err := os.WriteFile(filepath.Join(dir, it.ID+".json"), b, 0o644); err != nil {
			return errs.Wrap(errs.IO, op, err)
		}
		written[it.ID] = true
	}
	if d.splits != nil {
		out := map[string][]string{}
		for name, ids := range d.splits {
			for _, id := range ids {
				if written[id] {
					out[name] = append(out[name], id)
				}
			}
		}
		b, _ := json.MarshalIndent(out, "", " ")
		if err := os.WriteFile(filepath.Join(dir, "split.json"), b, 0o644); err != nil {
			return errs.Wrap(errs.IO, op, err)
		}
	}
	return nil
}

type annotationOut struct {
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Lines  [][4]float64 `json:"lines"`
	Boxes  [][4]int     `json:"boxes,omitempty"`
}

func annotationOf(it Item) annotationOut {
	a := annotationOut{Width: it.Width, Height: it.Height, Lines: make([][4]float64, len(it.Lines))}
	r := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	for k, s := range it.Lines {
		a.Lines[k] = [4]float64{r(s.X1), r(s.Y1), r(s.X2), r(s.Y2)}
	}
	for _, b := range it.Boxes {
		a.Boxes = append(a.Boxes, [4]int{b.X0, b.Y0, b.X1, b.Y1})
	}
	return a
}

func writePNG(path string, g *imgbuf.Gray) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	m := &image.Gray{Pix: g.Pix, Stride: g.W, Rect: image.Rect(0, 0, g.W, g.H)}
	if err := png.Encode(f, m); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ---- the generator ----

type vec struct{ X, Y float64 }

type poly struct {
	pts []vec
	val float64 // flat intensity before lighting
}

// blob is a soft elliptical region covered by texture (foliage, gravel):
// inside it the scene is replaced by the blob's mean plus band-limited noise,
// so edges under it vanish and its own speckle edges are not ground truth.
type blob struct {
	cx, cy, rx, ry  float64
	mean, amp, grit float64
}

// spec is everything random about one scene; rendering is deterministic.
type spec struct {
	w, h         int
	index        int
	bgTop, bgBot float64
	polys        []poly
	blobs        []blob
	ax, ay, vig  float64 // lighting: linear gradients and vignette
	gain, contr  float64 // photometric: v' = 128 + contr*(gain*v - 128)
	blur, noise  float64 // Gaussian blur sigma and sensor noise sigma (gray levels)
	boxes        []imgbuf.Box
	minContrast  float64
	minLen       float64
	kind         string
}

type scene struct {
	img   *imgbuf.Gray
	lines []imgbuf.Segment
	boxes []imgbuf.Box
}

type generator struct {
	opts SynthOptions
	// weldTweak, when set (tests only), edits every weld scene's spec after
	// it is drawn: it forces a nuisance level up or down.
	weldTweak func(*weldSpec)
}

func (g *generator) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed^0x9e3779b97f4a7c15, uint64(i)*0x100000001b3+stream))
}

// scene computes the ground truth of scene i (no image).
func (g *generator) scene(i int) scene {
	if g.opts.Scene == SceneWeld {
		return g.weldScene(i)
	}
	sp := g.spec(i)
	base := sp.renderBase()
	return scene{lines: sp.groundTruth(base), boxes: sp.boxes}
}

// render computes the image of scene i.
func (g *generator) render(i int) scene {
	if g.opts.Scene == SceneWeld {
		return g.weldRender(i)
	}
	sp := g.spec(i)
	base := sp.renderBase()
	return scene{img: sp.finish(base, g.rng(i, 2)), boxes: sp.boxes}
}

func uni(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

func (g *generator) spec(i int) *spec {
	r := g.rng(i, 1)
	w, h := g.opts.Width, g.opts.Height
	s := &spec{w: w, h: h, index: i}
	diag := math.Hypot(float64(w), float64(h))
	s.minContrast = 10
	s.minLen = math.Max(5, 8*diag/800)

	// Photometric environment: varies strongly between images.
	s.gain = math.Exp(uni(r, math.Log(0.55), math.Log(1.45)))
	s.contr = uni(r, 0.35, 1.15)
	s.ax, s.ay = uni(r, -0.6, 0.6), uni(r, -0.6, 0.6)
	s.vig = uni(r, 0, 0.8)
	if r.Float64() < 0.3 {
		s.blur = 0
	} else {
		s.blur = uni(r, 0.4, 2.2) * diag / 800
	}
	s.noise = uni(r, 0, 1) * uni(r, 0, 14)

	switch k := r.IntN(10); {
	case k < 4:
		s.kind = "facade"
		s.facade(r)
	case k < 7:
		s.kind = "corridor"
		s.corridor(r)
	default:
		s.kind = "boxes"
		s.boxScene(r)
	}
	// Clutter: signs and posters at arbitrary angles.
	for n := r.IntN(3); n > 0; n-- {
		cx, cy := uni(r, 0.1, 0.9)*float64(w), uni(r, 0.1, 0.9)*float64(h)
		a := uni(r, 0, math.Pi)
		l1, l2 := uni(r, 0.03, 0.12)*diag, uni(r, 0.02, 0.06)*diag
		ca, sa := math.Cos(a), math.Sin(a)
		p := poly{val: uni(r, 20, 235)}
		for _, c := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
			p.pts = append(p.pts, vec{cx + c[0]*l1*ca - c[1]*l2*sa, cy + c[0]*l1*sa + c[1]*l2*ca})
		}
		s.polys = append(s.polys, p)
	}
	// Textured regions.
	for n := r.IntN(4); n > 0; n-- {
		rad := uni(r, 0.05, 0.16) * diag
		s.blobs = append(s.blobs, blob{
			cx: uni(r, 0, 1) * float64(w), cy: uni(r, 0.2, 1) * float64(h),
			rx: rad * uni(r, 0.7, 1.4), ry: rad * uni(r, 0.6, 1.2),
			mean: uni(r, 40, 160), amp: uni(r, 15, 45), grit: uni(r, 0.6, 2.0),
		})
	}
	return s
}

// homography maps the unit square onto quad q (0,0)->q0, (1,0)->q1,
// (1,1)->q2, (0,1)->q3 (Heckbert's closed form).
type homography struct{ a, b, c, d, e, f, g, h float64 }

func squareToQuad(q [4]vec) homography {
	dx1, dx2 := q[1].X-q[2].X, q[3].X-q[2].X
	dy1, dy2 := q[1].Y-q[2].Y, q[3].Y-q[2].Y
	sx := q[0].X - q[1].X + q[2].X - q[3].X
	sy := q[0].Y - q[1].Y + q[2].Y - q[3].Y
	det := dx1*dy2 - dx2*dy1
	var H homography
	H.g = (sx*dy2 - dx2*sy) / det
	H.h = (dx1*sy - sx*dy1) / det
	H.a = q[1].X - q[0].X + H.g*q[1].X
	H.b = q[3].X - q[0].X + H.h*q[3].X
	H.c = q[0].X
	H.d = q[1].Y - q[0].Y + H.g*q[1].Y
	H.e = q[3].Y - q[0].Y + H.h*q[3].Y
	H.f = q[0].Y
	return H
}

func (H homography) at(u, v float64) vec {
	z := H.g*u + H.h*v + 1
	return vec{(H.a*u + H.b*v + H.c) / z, (H.d*u + H.e*v + H.f) / z}
}

// rect returns the image of the unit-square rectangle [u0,u1]x[v0,v1].
func (H homography) rect(u0, v0, u1, v1 float64) []vec {
	return []vec{H.at(u0, v0), H.at(u1, v0), H.at(u1, v1), H.at(u0, v1)}
}

func contrasting(r *rand.Rand, base, lo, hi float64) float64 {
	d := uni(r, lo, hi)
	if (r.IntN(2) == 0 && base-d >= 10) || base+d > 245 {
		return math.Max(5, base-d)
	}
	return math.Min(250, base+d)
}

func (s *spec) addBox(pts []vec) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	b := imgbuf.Box{
		X0: max(0, int(math.Floor(x0))), Y0: max(0, int(math.Floor(y0))),
		X1: min(s.w, int(math.Ceil(x1))+1), Y1: min(s.h, int(math.Ceil(y1))+1),
	}
	if b.X1-b.X0 >= 4 && b.Y1-b.Y0 >= 4 {
		s.boxes = append(s.boxes, b)
	}
}

// facadeWindows draws a window grid on the facade with homography H.
func (s *spec) facadeWindows(r *rand.Rand, H homography, wall float64) {
	// Cornice.
	if r.IntN(2) == 0 {
		s.polys = append(s.polys, poly{H.rect(0, 0, 1, uni(r, 0.02, 0.05)), contrasting(r, wall, 15, 60)})
	}
	rows, cols := 2+r.IntN(5), 2+r.IntN(6)
	mu, mv := uni(r, 0.05, 0.12), uni(r, 0.08, 0.15)
	fu, fv := uni(r, 0.35, 0.7), uni(r, 0.35, 0.65)
	glass := contrasting(r, wall, 25, 100)
	if r.Float64() < 0.15 {
		glass = contrasting(r, wall, 1, 5) // barely visible windows: not ground truth
	}
	frame := r.Float64() < 0.4
	frameVal := contrasting(r, wall, 20, 70)
	cu, cv := (1-2*mu)/float64(cols), (1-2*mv-0.12)/float64(rows)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			u0 := mu + cu*(float64(j)+(1-fu)/2)
			v0 := mv + cv*(float64(i)+(1-fv)/2)
			u1, v1 := u0+cu*fu, v0+cv*fv
			if frame {
				e := 0.12 * cu * fu
				s.polys = append(s.polys, poly{H.rect(u0-e, v0-e, u1+e, v1+e), frameVal})
			}
			s.polys = append(s.polys, poly{H.rect(u0, v0, u1, v1), glass})
		}
	}
	// Door at the bottom.
	if r.IntN(2) == 0 {
		u := uni(r, 0.2, 0.7)
		s.polys = append(s.polys, poly{H.rect(u, 0.8, u+uni(r, 0.08, 0.15), 1), contrasting(r, wall, 30, 90)})
	}
}

func (s *spec) facade(r *rand.Rand) {
	w, h := float64(s.w), float64(s.h)
	s.bgTop, s.bgBot = uni(r, 150, 240), uni(r, 120, 230)
	horizon := uni(r, 0.35, 0.55) * h
	ground := uni(r, 0.75, 0.95) * h
	s.polys = append(s.polys, poly{[]vec{{-10, ground + uni(r, -8, 8)}, {w + 10, ground + uni(r, -8, 8)}, {w + 10, h + 10}, {-10, h + 10}}, uni(r, 50, 140)})
	// Facade lines converge at a VP on the horizon: the bottom edge lies on
	// the ground, so vertical edges of one building share the same VP.
	wallQuad := func(xl, xr, top, vpx float64) [4]vec {
		onLine := func(x0, y0, x float64) float64 { return horizon + (y0-horizon)*(x-vpx)/(x0-vpx) }
		// top and bottom at xl, then follow the lines to the VP.
		return [4]vec{{xl, top}, {xr, onLine(xl, top, xr)}, {xr, onLine(xl, ground, xr)}, {xl, ground}}
	}
	nb := 1 + r.IntN(3)
	x := uni(r, -0.1, 0.2) * w
	for b := 0; b < nb && x < w; b++ {
		width := uni(r, 0.3, 0.8) * w / float64(nb) * 1.6
		top := uni(r, 0.05, 0.4) * h
		wall := uni(r, 60, 210)
		if r.IntN(2) == 0 { // corner building: two faces meeting at a vertical edge
			xc := x + width*uni(r, 0.3, 0.7)
			left := wallQuad(xc, x, top, x-uni(r, 1.5, 5)*w)
			right := wallQuad(xc, x+width, top, x+width+uni(r, 1.5, 5)*w)
			left = [4]vec{left[1], left[0], left[3], left[2]}
			wl, wr := wall, contrasting(r, wall, 20, 70)
			for _, f := range []struct {
				q [4]vec
				v float64
			}{{left, wl}, {right, wr}} {
				s.polys = append(s.polys, poly{f.q[:], f.v})
				s.addBox(f.q[:])
				s.facadeWindows(r, squareToQuad(f.q), f.v)
			}
		} else {
			vpx := x + width/2 + uni(r, 1.5, 6)*w*float64(1-2*r.IntN(2))
			q := wallQuad(x, x+width, top, vpx)
			s.polys = append(s.polys, poly{q[:], wall})
			s.addBox(q[:])
			s.facadeWindows(r, squareToQuad(q), wall)
		}
		x += width * uni(r, 0.9, 1.3)
	}
}

func (s *spec) corridor(r *rand.Rand) {
	w, h := float64(s.w), float64(s.h)
	vp := vec{uni(r, 0.35, 0.65) * w, uni(r, 0.35, 0.6) * h}
	k, sc := 1.35, uni(r, 0.12, 0.3)
	corners := [4]vec{{0, 0}, {w - 1, 0}, {w - 1, h - 1}, {0, h - 1}}
	var O, B [4]vec
	for i, c := range corners {
		O[i] = vec{vp.X + k*(c.X-vp.X), vp.Y + k*(c.Y-vp.Y)}
		B[i] = vec{vp.X + sc*(O[i].X-vp.X), vp.Y + sc*(O[i].Y-vp.Y)}
	}
	wallV := uni(r, 80, 200)
	s.bgTop, s.bgBot = wallV, wallV
	floor := [4]vec{O[3], O[2], B[2], B[3]} // u across, v into depth
	ceil := [4]vec{O[0], O[1], B[1], B[0]}
	left := [4]vec{O[0], B[0], B[3], O[3]} // u into depth, v down
	right := [4]vec{B[1], O[1], O[2], B[2]}
	vals := []float64{contrasting(r, wallV, 15, 60), contrasting(r, wallV, 15, 50), wallV, contrasting(r, wallV, 10, 40), contrasting(r, wallV, 15, 70)}
	for i, q := range [][4]vec{floor, ceil, left, right} {
		s.polys = append(s.polys, poly{q[:], vals[i]})
	}
	s.polys = append(s.polys, poly{B[:], vals[4]})
	s.addBox(B[:])
	// Runner on the floor, lights on the ceiling, doors and skirting on the walls.
	Hf, Hc, Hl := squareToQuad(floor), squareToQuad(ceil), squareToQuad(left)
	Hr := squareToQuad([4]vec{O[1], B[1], B[2], O[2]}) // right wall, u into depth
	if r.IntN(2) == 0 {
		a := uni(r, 0.3, 0.42)
		s.polys = append(s.polys, poly{Hf.rect(a, 0, 1-a, 1), contrasting(r, vals[0], 20, 60)})
	}
	for n := r.IntN(4); n > 0; n-- {
		v := uni(r, 0.1, 0.8)
		s.polys = append(s.polys, poly{Hc.rect(0.4, v, 0.6, v+0.08), uni(r, 225, 250)})
	}
	for _, H := range []homography{Hl, Hr} {
		wv := vals[2]
		if H == Hr {
			wv = vals[3]
		}
		if r.IntN(2) == 0 {
			s.polys = append(s.polys, poly{H.rect(0, uni(r, 0.9, 0.95), 1, 1), contrasting(r, wv, 20, 60)})
		}
		u := uni(r, 0.05, 0.25)
		for n := 1 + r.IntN(3); n > 0 && u < 0.85; n-- {
			du := uni(r, 0.08, 0.18)
			door := H.rect(u, uni(r, 0.25, 0.4), u+du, 1)
			s.polys = append(s.polys, poly{door, contrasting(r, wv, 25, 90)})
			s.addBox(door)
			u += du + uni(r, 0.05, 0.2)
		}
	}
}

func (s *spec) boxScene(r *rand.Rand) {
	w, h := float64(s.w), float64(s.h)
	F := w * uni(r, 0.7, 1.1)
	cx, cy := w/2, h/2
	hc := uni(r, 1.2, 2.2)
	phi := uni(r, 0.12, 0.35)
	sp, cp := math.Sin(phi), math.Cos(phi)
	project := func(X, Y, Z float64) (vec, float64) {
		dy := Y - hc
		zc := -dy*sp + Z*cp
		yd := -(dy*cp + Z*sp)
		return vec{cx + F*X/zc, cy + F*yd/zc}, zc
	}
	horizon := cy - F*math.Tan(phi)
	s.bgTop, s.bgBot = uni(r, 140, 230), uni(r, 120, 220)
	s.polys = append(s.polys, poly{[]vec{{-10, horizon}, {w + 10, horizon}, {w + 10, h + 10}, {-10, h + 10}}, uni(r, 40, 150)})
	light := [3]float64{uni(r, -0.6, 0.6), 0.7, uni(r, -0.8, -0.2)}
	ln := math.Sqrt(light[0]*light[0] + light[1]*light[1] + light[2]*light[2])
	type box struct {
		faces []poly
		dist  float64
	}
	var boxes []box
	for n := 3 + r.IntN(5); n > 0; n-- {
		X, Z := uni(r, -3, 3), uni(r, 3.5, 9)
		sx, sy, sz := uni(r, 0.7, 2.5), uni(r, 0.5, 2.2), uni(r, 0.7, 2.5)
		yaw := uni(r, 0, math.Pi/2)
		cyaw, syaw := math.Cos(yaw), math.Sin(yaw)
		albedo := uni(r, 70, 230)
		// Corner (i,j,k) in {-1,1}^3 around the box centre (X, sy/2, Z).
		corner := func(i, j, k float64) [3]float64 {
			lx, lz := i*sx/2, k*sz/2
			return [3]float64{X + lx*cyaw - lz*syaw, sy/2 + j*sy/2, Z + lx*syaw + lz*cyaw}
		}
		faces := []struct {
			n  [3]float64 // local normal
			cs [4][3]float64
		}{
			{[3]float64{1, 0, 0}, [4][3]float64{{1, -1, -1}, {1, -1, 1}, {1, 1, 1}, {1, 1, -1}}},
			{[3]float64{-1, 0, 0}, [4][3]float64{{-1, -1, -1}, {-1, -1, 1}, {-1, 1, 1}, {-1, 1, -1}}},
			{[3]float64{0, 1, 0}, [4][3]float64{{-1, 1, -1}, {1, 1, -1}, {1, 1, 1}, {-1, 1, 1}}},
			{[3]float64{0, 0, 1}, [4][3]float64{{-1, -1, 1}, {1, -1, 1}, {1, 1, 1}, {-1, 1, 1}}},
			{[3]float64{0, 0, -1}, [4][3]float64{{-1, -1, -1}, {1, -1, -1}, {1, 1, -1}, {-1, 1, -1}}},
		}
		var bx box
		ok := true
		var all []vec
		for _, f := range faces {
			nw := [3]float64{f.n[0]*cyaw - f.n[2]*syaw, f.n[1], f.n[0]*syaw + f.n[2]*cyaw}
			fc := [3]float64{X + (f.n[0]*sx/2)*cyaw - (f.n[2]*sz/2)*syaw, sy/2 + f.n[1]*sy/2, Z + (f.n[0]*sx/2)*syaw + (f.n[2]*sz/2)*cyaw}
			toCam := [3]float64{-fc[0], hc - fc[1], -fc[2]}
			if nw[0]*toCam[0]+nw[1]*toCam[1]+nw[2]*toCam[2] <= 0 {
				continue
			}
			shade := math.Max(0, (nw[0]*light[0]+nw[1]*light[1]+nw[2]*light[2])/ln)
			p := poly{val: albedo * (0.4 + 0.6*shade)}
			for _, cc := range f.cs {
				P := corner(cc[0], cc[1], cc[2])
				q, zc := project(P[0], P[1], P[2])
				if zc < 0.5 {
					ok = false
				}
				p.pts = append(p.pts, q)
			}
			all = append(all, p.pts...)
			bx.faces = append(bx.faces, p)
		}
		if !ok {
			continue
		}
		bx.dist = X*X + Z*Z
		s.addBox(all)
		boxes = append(boxes, bx)
	}
	sort.SliceStable(boxes, func(i, j int) bool { return boxes[i].dist > boxes[j].dist })
	for _, b := range boxes {
		s.polys = append(s.polys, b.faces...)
	}
}

// renderBase draws the noise-free scene: background gradient, polygons
// (anti-aliased by exact horizontal coverage on 4 sub-scanlines), texture
// means, lighting and the photometric transform, clamped to [0,255].
func (s *spec) renderBase() []float32 {
	w, h := s.w, s.h
	buf := make([]float32, w*h)
	for y := 0; y < h; y++ {
		t := float64(y) / float64(h-1)
		v := float32(s.bgTop + (s.bgBot-s.bgTop)*t)
		row := buf[y*w : y*w+w]
		for x := range row {
			row[x] = v
		}
	}
	cov := make([]float32, w)
	for _, p := range s.polys {
		fillConvex(buf, w, h, p.pts, float32(p.val), cov)
	}
	for _, b := range s.blobs {
		b.each(w, h, func(i int, m float64) { buf[i] += float32(m) * (float32(b.mean) - buf[i]) })
	}
	for y := 0; y < h; y++ {
		fy := float64(y)/float64(h) - 0.5
		for x := 0; x < w; x++ {
			fx := float64(x)/float64(w) - 0.5
			L := math.Max(0.2, 1+s.ax*fx+s.ay*fy-s.vig*2*(fx*fx+fy*fy))
			v := 128 + s.contr*(s.gain*L*float64(buf[y*w+x])-128)
			buf[y*w+x] = float32(min(255, max(0, v)))
		}
	}
	return buf
}

// each calls fn(pixel index, coverage m in (0,1]) over the blob: m = 1 inside
// 0.6 of the radius, falling smoothly (smoothstep) to 0 at the radius.
func (b blob) each(w, h int, fn func(i int, m float64)) {
	y0, y1 := max(0, int(b.cy-b.ry)), min(h-1, int(b.cy+b.ry)+1)
	x0, x1 := max(0, int(b.cx-b.rx)), min(w-1, int(b.cx+b.rx)+1)
	for y := y0; y <= y1; y++ {
		dy := (float64(y) - b.cy) / b.ry
		for x := x0; x <= x1; x++ {
			dx := (float64(x) - b.cx) / b.rx
			d := math.Sqrt(dx*dx + dy*dy)
			if d >= 1 {
				continue
			}
			t := min(1, (1-d)/0.4)
			fn(y*w+x, t*t*(3-2*t))
		}
	}
}

// fillConvex composites a convex polygon of value val over buf with
// anti-aliasing: per pixel row, 4 sub-scanlines, exact coverage in x.
func fillConvex(buf []float32, w, h int, pts []vec, val float32, cov []float32) {
	miny, maxy := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		miny, maxy = math.Min(miny, p.Y), math.Max(maxy, p.Y)
	}
	y0 := max(0, int(math.Floor(miny+0.5)))
	y1 := min(h-1, int(math.Floor(maxy+0.5)))
	for y := y0; y <= y1; y++ {
		xmin, xmax := w, -1
		for k := 0; k < 4; k++ {
			ys := float64(y) - 0.5 + (float64(k)+0.5)/4
			xl, xr := math.Inf(1), math.Inf(-1)
			for i := range pts {
				p, q := pts[i], pts[(i+1)%len(pts)]
				if (p.Y <= ys) != (q.Y <= ys) {
					x := p.X + (ys-p.Y)*(q.X-p.X)/(q.Y-p.Y)
					xl, xr = math.Min(xl, x), math.Max(xr, x)
				}
			}
			xl, xr = math.Max(xl, -0.5), math.Min(xr, float64(w)-0.5)
			if !(xr > xl) {
				continue
			}
			a, b := int(math.Floor(xl+0.5)), min(w-1, int(math.Floor(xr+0.5)))
			for x := a; x <= b; x++ {
				o := math.Min(xr, float64(x)+0.5) - math.Max(xl, float64(x)-0.5)
				if o > 0 {
					cov[x] += float32(0.25 * o)
				}
			}
			xmin, xmax = min(xmin, a), max(xmax, b)
		}
		row := buf[y*w : y*w+w]
		for x := xmin; x <= xmax; x++ {
			if c := cov[x]; c > 0 {
				row[x] += min(c, 1) * (val - row[x])
				cov[x] = 0
			}
		}
	}
}

// finish adds texture, blur and sensor noise to the base render and
// quantises it.
func (s *spec) finish(base []float32, r *rand.Rand) *imgbuf.Gray {
	w, h := s.w, s.h
	img := slices.Clone(base)
	for _, b := range s.blobs {
		tex := bandNoise(w, h, b, r)
		amp := b.amp * s.contr * s.gain
		b.each(w, h, func(i int, m float64) { img[i] += float32(m * amp * tex[i]) })
	}
	if s.blur > 0 {
		gaussBlur(img, w, h, s.blur)
	}
	out := imgbuf.NewGray(w, h)
	for i, v := range img {
		if s.noise > 0 {
			v += float32(r.NormFloat64() * s.noise)
		}
		out.Pix[i] = uint8(min(255, max(0, math.Round(float64(v)))))
	}
	return out
}

// bandNoise is unit-variance noise smoothed at the blob's grain size, defined
// over the blob's bounding box (zero elsewhere).
func bandNoise(w, h int, b blob, r *rand.Rand) []float64 {
	t := make([]float64, w*h)
	y0, y1 := max(0, int(b.cy-b.ry)), min(h-1, int(b.cy+b.ry)+1)
	x0, x1 := max(0, int(b.cx-b.rx)), min(w-1, int(b.cx+b.rx)+1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			t[y*w+x] = r.NormFloat64()
		}
	}
	f := make([]float32, len(t))
	for i, v := range t {
		f[i] = float32(v)
	}
	gaussBlur(f, w, h, b.grit)
	// A Gaussian of sigma s reduces white-noise std by 1/(2 s sqrt(pi)).
	k := 2 * b.grit * math.Sqrt(math.Pi)
	for i, v := range f {
		t[i] = float64(v) * k
	}
	return t
}

// gaussBlur blurs buf in place with a separable Gaussian (radius ceil(3σ),
// borders replicated).
func gaussBlur(buf []float32, w, h int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	if rad < 1 {
		return
	}
	k := make([]float32, 2*rad+1)
	var sum float32
	for i := range k {
		d := float64(i - rad)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, max(w, h))
	for y := 0; y < h; y++ {
		row := buf[y*w : y*w+w]
		for x := 0; x < w; x++ {
			var a float32
			for j, kv := range k {
				a += kv * row[min(w-1, max(0, x+j-rad))]
			}
			tmp[x] = a
		}
		copy(row, tmp[:w])
	}
	col := make([]float32, h)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			col[y] = buf[y*w+x]
		}
		for y := 0; y < h; y++ {
			var a float32
			for j, kv := range k {
				a += kv * col[min(h-1, max(0, y+j-rad))]
			}
			buf[y*w+x] = a
		}
	}
}

// groundTruth returns the visible polygon edges with real contrast: each
// edge is sampled every 0.5 px; a sample counts when the base render differs
// by at least minContrast between the points 1.5 px to either side of the
// edge (so occluded parts, edges between equal shades and edges under
// texture drop out); runs at least minLen long become segments, and
// collinear overlapping pieces (shared edges) are merged.
func (s *spec) groundTruth(base []float32) []imgbuf.Segment {
	w, h := s.w, s.h
	at := func(x, y float64) float64 {
		x0, y0 := int(math.Floor(x)), int(math.Floor(y))
		fx, fy := x-float64(x0), y-float64(y0)
		x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
		a := float64(base[y0*w+x0])*(1-fx) + float64(base[y0*w+x1])*fx
		b := float64(base[y1*w+x0])*(1-fx) + float64(base[y1*w+x1])*fx
		return a*(1-fy) + b*fy
	}
	const delta, step = 1.5, 0.5
	var segs []imgbuf.Segment
	for _, p := range s.polys {
		for i := range p.pts {
			a, b := p.pts[i], p.pts[(i+1)%len(p.pts)]
			a, b, ok := clipSegment(a, b, delta, delta, float64(w-1)-delta, float64(h-1)-delta)
			if !ok {
				continue
			}
			L := math.Hypot(b.X-a.X, b.Y-a.Y)
			if L < s.minLen {
				continue
			}
			ux, uy := (b.X-a.X)/L, (b.Y-a.Y)/L
			nx, ny := -uy, ux
			n := int(L/step) + 1
			runStart, last, gap := -1.0, -1.0, 0
			flush := func() {
				if runStart >= 0 && last-runStart >= s.minLen {
					segs = append(segs, imgbuf.Segment{X1: a.X + ux*runStart, Y1: a.Y + uy*runStart, X2: a.X + ux*last, Y2: a.Y + uy*last})
				}
				runStart, last = -1, -1
			}
			for k := 0; k <= n; k++ {
				t := math.Min(L, float64(k)*step)
				px, py := a.X+ux*t, a.Y+uy*t
				c := math.Abs(at(px+nx*delta, py+ny*delta) - at(px-nx*delta, py-ny*delta))
				if c >= s.minContrast {
					if runStart < 0 {
						runStart = t
					}
					last, gap = t, 0
				} else if runStart >= 0 {
					if gap++; gap > 2 {
						flush()
					}
				}
			}
			flush()
		}
	}
	return mergeCollinear(segs)
}

// clipSegment clips a-b to the rectangle [x0,x1]x[y0,y1] (Liang–Barsky).
func clipSegment(a, b vec, x0, y0, x1, y1 float64) (vec, vec, bool) {
	t0, t1 := 0.0, 1.0
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, c := range [4][2]float64{{-dx, a.X - x0}, {dx, x1 - a.X}, {-dy, a.Y - y0}, {dy, y1 - a.Y}} {
		p, q := c[0], c[1]
		if p == 0 {
			if q < 0 {
				return a, b, false
			}
			continue
		}
		t := q / p
		if p < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
	}
	if t0 >= t1 {
		return a, b, false
	}
	return vec{a.X + t0*dx, a.Y + t0*dy}, vec{a.X + t1*dx, a.Y + t1*dy}, true
}

// mergeCollinear unions segments that lie on the same line (angle < 1°,
// endpoints within 0.75 px of the other line) and overlap or touch (gap <= 1 px).
func mergeCollinear(in []imgbuf.Segment) []imgbuf.Segment {
	out := make([]imgbuf.Segment, 0, len(in))
	for _, s := range in {
		merged := false
		for i := range out {
			if m, ok := tryMerge(out[i], s); ok {
				out[i] = m
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, s)
		}
	}
	return out
}

func tryMerge(a, b imgbuf.Segment) (imgbuf.Segment, bool) {
	la, lb := a.Len(), b.Len()
	if la == 0 || lb == 0 {
		return a, false
	}
	ux, uy := (a.X2-a.X1)/la, (a.Y2-a.Y1)/la
	vx, vy := (b.X2-b.X1)/lb, (b.Y2-b.Y1)/lb
	if math.Abs(ux*vy-uy*vx) > math.Sin(math.Pi/180) {
		return a, false
	}
	perp := func(x, y float64) float64 { return math.Abs(-(x-a.X1)*uy + (y-a.Y1)*ux) }
	if perp(b.X1, b.Y1) > 0.75 || perp(b.X2, b.Y2) > 0.75 {
		return a, false
	}
	proj := func(x, y float64) float64 { return (x-a.X1)*ux + (y-a.Y1)*uy }
	t1, t2 := proj(b.X1, b.Y1), proj(b.X2, b.Y2)
	lo, hi := math.Min(t1, t2), math.Max(t1, t2)
	if lo > la+1 || hi < -1 {
		return a, false
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, la)
	return imgbuf.Segment{X1: a.X1 + ux*lo, Y1: a.Y1 + uy*lo, X2: a.X1 + ux*hi, Y2: a.Y1 + uy*hi}, true
}
