package dataset

import (
	"math"
	"math/rand/v2"

	"bohost/host/imgbuf"
)

// Scene families of SynthOptions.Scene.
const (
	SceneV1   = "v1"   // facades, corridors, boxes (GeneratorVersion)
	SceneWeld = "weld" // welded steel assemblies (WeldGeneratorVersion)
)

// WeldGeneratorVersion names the weld scene generator; it changes whenever
// the same SynthOptions{Scene: "weld"} would produce different pixels or
// ground truth.
const WeldGeneratorVersion = "synth-weld-v1"

// Version is the generator version of the scenes o selects.
func (o SynthOptions) Version() string {
	if o.Scene == SceneWeld {
		return WeldGeneratorVersion
	}
	return GeneratorVersion
}

// Difficulty kinds of weld scenes. Scenes come in blocks of weldBlock
// consecutive indices; each block has one textured and one faint scene at
// positions drawn from (Seed, block), the rest are moderate, so every
// half of a data set of 16 or more scenes holds hard scenes of both kinds.
const (
	weldModerate = "moderate" // some texture, decent light: most of a collection
	weldTextured = "textured" // heavily ground/brushed metal: loose settings see its grain as lines
	weldFaint    = "faint"    // dark, low-contrast, blurred and noisy: tight settings miss the seams
	weldBlock    = 8
)

// weldSpec is everything random about one weld scene; rendering is
// deterministic. Geometry lives in a canonical frame of the image's size;
// the camera view (oblique: a homography) maps it to the image.
type weldSpec struct {
	w, h  int
	kind  string
	scale float64 // diagonal / 800: widths and blurs scale with it

	bgTop, bgBot float64 // background behind the assembly (canonical)
	plates       []poly  // base plate, web plate, collar, beads: drawn in order; their edges are ground truth
	grain        []grain // scratch fields on plates (not ground truth)
	bead         beadGeom
	fineGrain    float64 // std of the isotropic mill-scale grain, grey levels

	// Nuisance levels (tests force them through generator.weldTweak).
	texture float64    // scratch amplitude, grey levels of albedo
	scratch [2]float64 // scratch length range, fraction of the diagonal (log-uniform)
	spatter int        // number of spatter drops
	ripple  float64    // bead ripple amplitude, grey levels
	glare   float64    // peak of specular highlights, grey levels (added after gain)
	oblique float64    // 0 frontal .. 1 strongly oblique view
	view    [4]vec     // canonical quad seen by the image's corners (TL, TR, BR, BL)

	gain, contr    float64 // photometric: v' = gain*(128 + contr*(L*v - 128)): low light, then haze
	ax, ay, vig    float64 // lighting gradient and vignette
	spotX, spotY   float64 // work-lamp centre (fraction of the image)
	spotR, spotAmp float64 // its radius (fraction of the diagonal) and relative gain
	blur           float64 // defocus: Gaussian sigma, px
	motion         float64 // motion blur length, px (0: none)
	motionAng      float64
	noise          float64 // sensor noise: read sigma, grey levels
	shot           float64 // photon noise: sigma at white, grey levels (scales with sqrt(v/255))
}

// grain is a field of parallel scratches clipped to a convex plate.
type grain struct {
	plate   []vec
	angle   float64 // scratch direction, radians
	spread  float64 // angular spread of the scratches, radians
	density float64 // scratches per (100 px at scale 1)^2 of plate area
}

// beadGeom is the fillet weld bead: the segment a-b, width wd (canonical).
type beadGeom struct {
	a, b vec
	wd   float64
}

func (g *generator) weldSpec(i int) *weldSpec {
	kind := weldKind(g.opts.Seed, i)
	r := g.rng(i, 11)
	w, h := g.opts.Width, g.opts.Height
	W, H := float64(w), float64(h)
	sc := math.Hypot(W, H) / 800
	s := &weldSpec{w: w, h: h, kind: kind, scale: sc}

	// Geometry (canonical frame). The fillet line joins the longitudinals'
	// lower points PL, PR; the verticals rise from them at 88-93 degrees.
	deg := math.Pi / 180
	fillAng := max(-23*deg, min(14*deg, r.NormFloat64()*5*deg))
	fillLen := uni(r, 0.4, 0.72) * W
	cx, cy := uni(r, 0.4, 0.6)*W, uni(r, 0.62, 0.8)*H
	dx, dy := math.Cos(fillAng)*fillLen/2, -math.Sin(fillAng)*fillLen/2 // image y points down
	PL, PR := vec{cx - dx, cy - dy}, vec{cx + dx, cy + dy}
	up := func(a float64) vec { return vec{math.Cos(a * deg), -math.Sin(a * deg)} }
	lenV := func() float64 { return H * math.Exp(uni(r, math.Log(0.16), math.Log(0.42))) }
	uL, uR := up(uni(r, 88, 93)), up(uni(r, 88, 93))
	lL, lR := lenV(), lenV()
	TL, TR := vec{PL.X + uL.X*lL, PL.Y + uL.Y*lL}, vec{PR.X + uR.X*lR, PR.Y + uR.Y*lR}

	s.bgTop, s.bgBot = uni(r, 20, 110), uni(r, 40, 140)
	base := uni(r, 90, 190)
	web := contrasting(r, base, 25, 70)
	collar := contrasting(r, web, 15, 60)
	// Weld metal is darker or brighter than both plates around it.
	beadV := math.Min(base, web) - uni(r, 25, 60)
	if hi := math.Max(base, web) + uni(r, 25, 60); beadV < 10 || (hi <= 245 && r.IntN(2) == 0) {
		beadV = math.Min(245, hi)
	}
	// Base plate: from its far edge (above the web's top, sometimes out of
	// the frame) to the bottom of the image.
	far := math.Min(TL.Y, TR.Y) - uni(r, 0.03, 0.3)*H
	fa := uni(r, -3, 3) * deg
	s.plates = append(s.plates, poly{[]vec{{-W, far - math.Tan(fa)*W}, {2 * W, far + math.Tan(fa)*W}, {2 * W, 2 * H}, {-W, 2 * H}}, base})
	webQ := []vec{TL, TR, PR, PL}
	s.plates = append(s.plates, poly{webQ, web})
	// Collar: rises from a point on the fillet line between the longitudinals.
	t := uni(r, 0.25, 0.65)
	PC := vec{PL.X + t*(PR.X-PL.X), PL.Y + t*(PR.Y-PL.Y)}
	cw := uni(r, 0.08, 0.2) * fillLen
	uC := up(uni(r, 88, 93))
	lC := math.Min(lL, lR) * uni(r, 0.5, 0.95)
	PC2 := vec{PC.X + cw*math.Cos(fillAng), PC.Y - cw*math.Sin(fillAng)}
	colQ := []vec{{PC.X + uC.X*lC, PC.Y + uC.Y*lC}, {PC2.X + uC.X*lC, PC2.Y + uC.Y*lC}, PC2, PC}
	s.plates = append(s.plates, poly{colQ, collar})
	// Beads: the fillet bead always, the longitudinals' vertical beads often.
	bw := uni(r, 0.012, 0.026) * H
	s.bead = beadGeom{a: PL, b: PR, wd: bw}
	s.plates = append(s.plates, poly{band(PL, PR, bw, bw/2), beadV})
	if r.Float64() < 0.6 {
		v := contrasting(r, web, 30, 60)
		s.plates = append(s.plates, poly{band(PL, TL, bw*0.8, 0), v}, poly{band(PR, TR, bw*0.8, 0), v})
	}

	// Grain: base and web always carry scratches, the collar often.
	for k, p := range s.plates[:3] {
		a := []float64{uni(r, -20, 20), 90 + uni(r, -10, 10), 90 + uni(r, -10, 10)}[k] * deg
		if r.Float64() < 0.3 {
			a = uni(r, 0, 180) * deg
		}
		pts := p.pts
		if k == 0 {
			pts = []vec{{0, math.Max(0, far)}, {W, math.Max(0, far)}, {W, H}, {0, H}}
		}
		s.grain = append(s.grain, grain{plate: pts, angle: a, spread: uni(r, 0.5, 4) * deg, density: uni(r, 0.8, 1.6)})
	}

	// Nuisance levels by kind.
	s.spatter = r.IntN(60)
	s.ripple = uni(r, 3, 14)
	s.oblique = uni(r, 0, 1) * uni(r, 0, 1)
	s.ax, s.ay, s.vig = uni(r, -0.4, 0.4), uni(r, -0.4, 0.4), uni(r, 0, 0.5)
	s.spotX, s.spotY, s.spotR, s.spotAmp = uni(r, 0.1, 0.9), uni(r, 0.1, 0.9), uni(r, 0.15, 0.4), uni(r, 0, 0.6)
	s.fineGrain = uni(r, 1, 4)
	if r.Float64() < 0.3 {
		s.glare = uni(r, 60, 160)
	}
	s.scratch = [2]float64{0.015, 0.08}
	switch kind {
	case weldTextured:
		s.texture = uni(r, 9, 15)
		s.scratch = [2]float64{0.04, 0.15}
		s.gain, s.contr = uni(r, 0.85, 1.15), uni(r, 0.8, 1.0)
		s.noise, s.shot = uni(r, 0.5, 2), uni(r, 0, 2)
		if r.Float64() < 0.5 {
			s.blur = uni(r, 0.3, 0.7) * sc
		}
		for k := range s.grain {
			s.grain[k].density *= 1.6
		}
	case weldFaint:
		s.texture = uni(r, 1, 4)
		s.gain, s.contr = uni(r, 0.5, 0.7), uni(r, 0.6, 0.85)
		s.noise, s.shot = uni(r, 1, 2.5), uni(r, 1, 2.5)
		s.blur = uni(r, 0.8, 1.5) * sc
		if r.Float64() < 0.3 {
			s.motion, s.motionAng = uni(r, 3, 7)*sc, uni(r, 0, math.Pi)
		}
	default:
		s.texture = uni(r, 2, 7)
		s.gain, s.contr = math.Exp(uni(r, math.Log(0.35), math.Log(1.05))), uni(r, 0.45, 1.0)
		s.noise, s.shot = uni(r, 0.5, 4), uni(r, 0, 4)
		if r.Float64() < 0.6 {
			s.blur = uni(r, 0.3, 1.3) * sc
		}
		if r.Float64() < 0.1 {
			s.motion, s.motionAng = uni(r, 2, 5)*sc, uni(r, 0, math.Pi)
		}
	}
	// The view: the image's corners see a quad inside the canonical frame.
	in := func() float64 { return s.oblique * uni(r, 0, 0.12) }
	X, Y := W-1, H-1
	s.view = [4]vec{{in() * X, in() * Y}, {X - in()*X, in() * Y}, {X - in()*X, Y - in()*Y}, {in() * X, Y - in()*Y}}
	if g.weldTweak != nil {
		g.weldTweak(s)
	}
	return s
}

// weldKind is scene i's difficulty: one textured and one faint scene in
// every block of weldBlock indices, at positions drawn from (seed, block).
func weldKind(seed uint64, i int) string {
	b := i / weldBlock
	r := rand.New(rand.NewPCG(seed^0x5851f42d4c957f2d, uint64(b)*0x9e3779b97f4a7c15+13))
	p := r.Perm(weldBlock)
	switch i % weldBlock {
	case p[0]:
		return weldTextured
	case p[1]:
		return weldFaint
	}
	return weldModerate
}

// band is the rectangle of width wd around a-b, extended by ext at both ends.
func band(a, b vec, wd, ext float64) []vec {
	L := math.Hypot(b.X-a.X, b.Y-a.Y)
	ux, uy := (b.X-a.X)/L, (b.Y-a.Y)/L
	nx, ny := -uy*wd/2, ux*wd/2
	a = vec{a.X - ux*ext, a.Y - uy*ext}
	b = vec{b.X + ux*ext, b.Y + uy*ext}
	return []vec{{a.X + nx, a.Y + ny}, {b.X + nx, b.Y + ny}, {b.X - nx, b.Y - ny}, {a.X - nx, a.Y - ny}}
}

// canonical draws the clean albedo of the scene: background and plates.
func (s *weldSpec) canonical() []float32 {
	w, h := s.w, s.h
	buf := make([]float32, w*h)
	for y := 0; y < h; y++ {
		v := float32(s.bgTop + (s.bgBot-s.bgTop)*float64(y)/float64(max(1, h-1)))
		row := buf[y*w : y*w+w]
		for x := range row {
			row[x] = v
		}
	}
	cov := make([]float32, w)
	for _, p := range s.plates {
		fillConvex(buf, w, h, p.pts, float32(p.val), cov)
	}
	return buf
}

// fromImage maps the image's unit square (x/(w-1), y/(h-1)) onto the
// canonical quad it sees; imageOf inverts it.
func (s *weldSpec) fromImage() homography { return squareToQuad(s.view) }

// imageOf maps canonical point p to image pixel coordinates.
func (s *weldSpec) imageOf(Hm homography, p vec) vec {
	// Invert H(u, v) = p for the unit square, then scale to pixels.
	a, b, c := Hm.a-Hm.g*p.X, Hm.b-Hm.h*p.X, p.X-Hm.c
	d, e, f := Hm.d-Hm.g*p.Y, Hm.e-Hm.h*p.Y, p.Y-Hm.f
	det := a*e - b*d
	u, v := (c*e-b*f)/det, (a*f-c*d)/det
	return vec{u * float64(s.w-1), v * float64(s.h-1)}
}

// warp resamples the canonical buffer into the image through the view
// (bilinear); dst and src are w*h.
func (s *weldSpec) warp(dst, src []float32) {
	w, h := s.w, s.h
	Hm := s.fromImage()
	for y := 0; y < h; y++ {
		v := float64(y) / float64(h-1)
		for x := 0; x < w; x++ {
			p := Hm.at(float64(x)/float64(w-1), v)
			dst[y*w+x] = bilinear(src, w, h, p.X, p.Y)
		}
	}
}

func bilinear(src []float32, w, h int, x, y float64) float32 {
	x = math.Min(math.Max(x, 0), float64(w-1))
	y = math.Min(math.Max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	a := src[y0*w+x0]*(1-fx) + src[y0*w+x1]*fx
	b := src[y1*w+x0]*(1-fx) + src[y1*w+x1]*fx
	return a*(1-fy) + b*fy
}

// groundTruth is v1's rule on the clean canonical render (every drawn plate
// and bead edge with at least 12 grey levels of albedo contrast, in runs of
// at least 8 px at 640x480), mapped into the image by the view and clipped.
func (s *weldSpec) groundTruth(clean []float32) []imgbuf.Segment {
	minLen := math.Max(5, 8*s.scale)
	v1 := &spec{w: s.w, h: s.h, polys: s.plates, minContrast: 12, minLen: minLen}
	Hm := s.fromImage()
	const m = 1.5
	var out []imgbuf.Segment
	for _, g := range v1.groundTruth(clean) {
		a, b := s.imageOf(Hm, vec{g.X1, g.Y1}), s.imageOf(Hm, vec{g.X2, g.Y2})
		a, b, ok := clipSegment(a, b, m, m, float64(s.w-1)-m, float64(s.h-1)-m)
		if ok && math.Hypot(b.X-a.X, b.Y-a.Y) >= minLen {
			out = append(out, imgbuf.Segment{X1: a.X, Y1: a.Y, X2: b.X, Y2: b.Y})
		}
	}
	return out
}

// weldScene computes the ground truth of weld scene i (no image).
func (g *generator) weldScene(i int) scene {
	s := g.weldSpec(i)
	return scene{lines: s.groundTruth(s.canonical())}
}

// weldRender computes the image of weld scene i.
func (g *generator) weldRender(i int) scene {
	s := g.weldSpec(i)
	return scene{img: s.render(g.rng(i, 12), false)}
}

// render draws the scene: clean albedo, grain, spatter and bead ripples in
// the canonical frame; the view; lighting, gain and contrast; glare; blur;
// noise; quantisation. clean skips every nuisance (the overlay test's image).
func (s *weldSpec) render(r *rand.Rand, clean bool) *imgbuf.Gray {
	w, h := s.w, s.h
	can := s.canonical()
	if !clean {
		s.addGrain(can, r)
		s.addRipples(can)
		s.addSpatter(can, r)
	}
	img := make([]float32, w*h)
	s.warp(img, can)
	can = nil
	if !clean {
		s.light(img)
		s.addGlare(img, r)
		if s.blur > 0 {
			gaussBlur(img, w, h, s.blur)
		}
		if s.motion > 0 {
			motionBlur(img, w, h, s.motion, s.motionAng)
		}
	}
	out := imgbuf.NewGray(w, h)
	for i, v := range img {
		if !clean && (s.noise > 0 || s.shot > 0) {
			sd := s.noise + s.shot*math.Sqrt(math.Max(0, float64(v))/255)
			v += float32(r.NormFloat64() * sd)
		}
		out.Pix[i] = uint8(min(255, max(0, math.Round(float64(v)))))
	}
	return out
}

// addGrain adds the scratch fields (thin anti-aliased streaks of random
// sign and strength along each plate's grain) and the isotropic mill-scale
// grain.
func (s *weldSpec) addGrain(buf []float32, r *rand.Rand) {
	w, h := s.w, s.h
	cov := make([]float32, w)
	diag := math.Hypot(float64(w), float64(h))
	for k, gr := range s.grain {
		area := polyArea(gr.plate) / (s.scale * s.scale)
		n := int(gr.density * area / 150)
		x0, y0, x1, y1 := bounds(gr.plate)
		for ; n > 0; n-- {
			p := vec{uni(r, x0, x1), uni(r, y0, y1)}
			a := gr.angle + r.NormFloat64()*gr.spread
			L := diag * math.Exp(uni(r, math.Log(s.scratch[0]), math.Log(s.scratch[1])))
			amp := s.texture * uni(r, 0.3, 1)
			if r.IntN(2) == 0 {
				amp = -amp
			}
			wd := s.scale * uni(r, 0.7, 1.6)
			if !insideConvexPoly(gr.plate, p) || (k == 0 && (insideConvexPoly(s.plates[1].pts, p) || insideConvexPoly(s.plates[2].pts, p))) {
				continue
			}
			d := vec{math.Cos(a) * L / 2, math.Sin(a) * L / 2}
			a0, b0, ok := clipToConvex(vec{p.X - d.X, p.Y - d.Y}, vec{p.X + d.X, p.Y + d.Y}, gr.plate)
			if !ok {
				continue
			}
			fillConvexAdd(buf, w, h, band(a0, b0, wd, 0), float32(amp), cov)
		}
	}
	if s.fineGrain > 0 {
		t := make([]float32, w*h)
		for i := range t {
			t[i] = float32(r.NormFloat64())
		}
		sig := 0.8 * s.scale
		gaussBlur(t, w, h, sig)
		k := float32(s.fineGrain * 2 * sig * math.Sqrt(math.Pi))
		for i, v := range t {
			buf[i] += k * v
		}
	}
}

// addRipples modulates the fillet bead with crescent ripples across it.
func (s *weldSpec) addRipples(buf []float32) {
	if s.ripple == 0 {
		return
	}
	w, h := s.w, s.h
	b := s.bead
	L := math.Hypot(b.b.X-b.a.X, b.b.Y-b.a.Y)
	ux, uy := (b.b.X-b.a.X)/L, (b.b.Y-b.a.Y)/L
	hw := b.wd / 2
	period := b.wd * 0.45
	pts := band(b.a, b.b, b.wd, hw)
	x0, y0, x1, y1 := bounds(pts)
	for y := max(0, int(y0)); y <= min(h-1, int(y1)+1); y++ {
		for x := max(0, int(x0)); x <= min(w-1, int(x1)+1); x++ {
			px, py := float64(x)-b.a.X, float64(y)-b.a.Y
			sAlong, t := px*ux+py*uy, -px*uy+py*ux
			at := math.Abs(t) / hw
			if at >= 1 || sAlong < -hw || sAlong > L+hw {
				continue
			}
			m := 1 - at*at
			buf[y*w+x] += float32(s.ripple * m * math.Cos(2*math.Pi*(sAlong-0.6*b.wd*at*at)/period))
		}
	}
}

// addSpatter drops small dark or bright beads of weld spatter around the seam.
func (s *weldSpec) addSpatter(buf []float32, r *rand.Rand) {
	w, h := s.w, s.h
	b := s.bead
	for k := 0; k < s.spatter; k++ {
		t := r.Float64()
		off := r.NormFloat64() * 0.06 * float64(h)
		L := math.Hypot(b.b.X-b.a.X, b.b.Y-b.a.Y)
		cx := b.a.X + t*(b.b.X-b.a.X) - off*(b.b.Y-b.a.Y)/L
		cy := b.a.Y + t*(b.b.Y-b.a.Y) + off*(b.b.X-b.a.X)/L
		rad := s.scale * uni(r, 0.8, 3)
		v := float32(uni(r, 10, 60))
		if r.IntN(3) == 0 {
			v = float32(uni(r, 190, 250))
		}
		for y := max(0, int(cy-rad-1)); y <= min(h-1, int(cy+rad+1)); y++ {
			for x := max(0, int(cx-rad-1)); x <= min(w-1, int(cx+rad+1)); x++ {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				c := float32(min(1, max(0, rad+0.5-d)))
				buf[y*w+x] += c * (v - buf[y*w+x])
			}
		}
	}
}

// light applies uneven light (gradient, vignette, a work lamp) and the
// photometric transform.
func (s *weldSpec) light(buf []float32) {
	w, h := s.w, s.h
	diag := math.Hypot(float64(w), float64(h))
	sr := s.spotR * diag
	for y := 0; y < h; y++ {
		fy := float64(y)/float64(h) - 0.5
		dy := float64(y) - s.spotY*float64(h)
		for x := 0; x < w; x++ {
			fx := float64(x)/float64(w) - 0.5
			dx := float64(x) - s.spotX*float64(w)
			L := 1 + s.ax*fx + s.ay*fy - s.vig*2*(fx*fx+fy*fy) + s.spotAmp*math.Exp(-(dx*dx+dy*dy)/(2*sr*sr))
			L = math.Max(0.15, L)
			i := y*w + x
			buf[i] = float32(s.gain * (128 + s.contr*(L*float64(buf[i])-128)))
		}
	}
}

// addGlare adds specular highlights: a streak along the bead's crest and a
// few elongated hot spots, each with a wide bloom (added light, so it
// saturates and survives low gain).
func (s *weldSpec) addGlare(buf []float32, r *rand.Rand) {
	if s.glare == 0 {
		return
	}
	w, h := s.w, s.h
	Hm := s.fromImage()
	a, b := s.imageOf(Hm, s.bead.a), s.imageOf(Hm, s.bead.b)
	n := 1 + r.IntN(3)
	type spot struct{ cx, cy, ux, uy, l, wd, amp float64 }
	var spots []spot
	L := math.Hypot(b.X-a.X, b.Y-a.Y)
	ux, uy := (b.X-a.X)/L, (b.Y-a.Y)/L
	// The crest streak: along the bead, a third of its length.
	t := uni(r, 0.2, 0.8)
	spots = append(spots, spot{a.X + t*(b.X-a.X), a.Y + t*(b.Y-a.Y), ux, uy, L * uni(r, 0.1, 0.3), s.bead.wd * 0.15, s.glare})
	for ; n > 0; n-- {
		an := uni(r, 0, math.Pi)
		spots = append(spots, spot{uni(r, 0.1, 0.9) * float64(w), uni(r, 0.1, 0.9) * float64(h), math.Cos(an), math.Sin(an),
			uni(r, 0.02, 0.08) * math.Hypot(float64(w), float64(h)), uni(r, 0.005, 0.02) * float64(h), s.glare * uni(r, 0.5, 1)})
	}
	for _, sp := range spots {
		bloom := 4 * sp.wd
		ext := sp.l/2 + 3*bloom
		x0, x1 := max(0, int(sp.cx-ext)), min(w-1, int(sp.cx+ext))
		y0, y1 := max(0, int(sp.cy-ext)), min(h-1, int(sp.cy+ext))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				px, py := float64(x)-sp.cx, float64(y)-sp.cy
				along, across := math.Abs(px*sp.ux+py*sp.uy), px*-sp.uy+py*sp.ux
				da := math.Max(0, along-sp.l/2)
				core := math.Exp(-(across*across + da*da) / (2 * sp.wd * sp.wd))
				halo := 0.25 * math.Exp(-(across*across+da*da)/(2*bloom*bloom))
				buf[y*w+x] += float32(sp.amp * (core + halo))
			}
		}
	}
}

// motionBlur averages along direction ang over length px (bilinear taps).
func motionBlur(buf []float32, w, h int, length, ang float64) {
	n := max(2, int(math.Ceil(length)))
	dx, dy := math.Cos(ang)*length/float64(n-1), math.Sin(ang)*length/float64(n-1)
	src := make([]float32, len(buf))
	copy(src, buf)
	k := 1 / float32(n)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var a float32
			for j := 0; j < n; j++ {
				f := float64(j) - float64(n-1)/2
				a += bilinear(src, w, h, float64(x)+f*dx, float64(y)+f*dy)
			}
			buf[y*w+x] = a * k
		}
	}
}

// fillConvexAdd adds delta times the anti-aliased coverage of a convex
// polygon to buf (fillConvex's scan, additive).
func fillConvexAdd(buf []float32, w, h int, pts []vec, delta float32, cov []float32) {
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
				if o := math.Min(xr, float64(x)+0.5) - math.Max(xl, float64(x)-0.5); o > 0 {
					cov[x] += float32(0.25 * o)
				}
			}
			xmin, xmax = min(xmin, a), max(xmax, b)
		}
		row := buf[y*w : y*w+w]
		for x := xmin; x <= xmax; x++ {
			if c := cov[x]; c > 0 {
				row[x] += min(c, 1) * delta
				cov[x] = 0
			}
		}
	}
}

func polyArea(p []vec) float64 {
	var a float64
	for i := range p {
		q, r := p[i], p[(i+1)%len(p)]
		a += q.X*r.Y - r.X*q.Y
	}
	return math.Abs(a) / 2
}

func bounds(p []vec) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		x0, y0 = math.Min(x0, v.X), math.Min(y0, v.Y)
		x1, y1 = math.Max(x1, v.X), math.Max(y1, v.Y)
	}
	return
}

// insideConvexPoly reports whether p is inside the convex polygon (either
// orientation).
func insideConvexPoly(pts []vec, p vec) bool {
	sign := 0.0
	for i := range pts {
		a, b := pts[i], pts[(i+1)%len(pts)]
		c := (b.X-a.X)*(p.Y-a.Y) - (b.Y-a.Y)*(p.X-a.X)
		if c != 0 {
			if sign != 0 && (c > 0) != (sign > 0) {
				return false
			}
			sign = c
		}
	}
	return true
}

// clipToConvex clips a-b to a convex polygon (Cyrus–Beck).
func clipToConvex(a, b vec, pts []vec) (vec, vec, bool) {
	// Orientation of the polygon: inward normals point to its centroid.
	var c vec
	for _, p := range pts {
		c.X += p.X / float64(len(pts))
		c.Y += p.Y / float64(len(pts))
	}
	t0, t1 := 0.0, 1.0
	d := vec{b.X - a.X, b.Y - a.Y}
	for i := range pts {
		p, q := pts[i], pts[(i+1)%len(pts)]
		n := vec{-(q.Y - p.Y), q.X - p.X}
		if n.X*(c.X-p.X)+n.Y*(c.Y-p.Y) < 0 {
			n = vec{-n.X, -n.Y}
		}
		num := n.X*(a.X-p.X) + n.Y*(a.Y-p.Y) // >= 0 inside
		den := n.X*d.X + n.Y*d.Y
		if den == 0 {
			if num < 0 {
				return a, b, false
			}
			continue
		}
		t := -num / den
		if den > 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
	}
	if t0 >= t1 {
		return a, b, false
	}
	return vec{a.X + t0*d.X, a.Y + t0*d.Y}, vec{a.X + t1*d.X, a.Y + t1*d.Y}, true
}
