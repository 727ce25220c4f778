package airline

import (
	"math"
	"math/rand/v2"
	"slices"

	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// Source bits of a rasterised pixel in the fusion weight map.
const (
	srcQ     = 1
	srcQG    = 2
	srcOther = 4
)

// FusionWeights returns the weight of a pixel produced by the given sources
// (bits: 1 = Q, 2 = QG, 4 = another detector), the replication table of the
// original weighted RANSAC (notes §7) with real-valued weights, or floored
// (the exact replication counts) when integer is true:
//
//	other only 1 · Q only 0.6·wq · QG only 0.6·wqg · Q+other wq · QG+other wqg · Q+QG wq+wqg
func FusionWeights(bits uint8, wq, wqg float64, integer bool) float64 {
	f := func(v float64) float64 {
		if integer {
			return math.Floor(v)
		}
		return v
	}
	switch {
	case bits&srcQ != 0 && bits&srcQG != 0:
		return f(wq + wqg)
	case bits&srcQ != 0 && bits&srcOther != 0:
		return f(wq)
	case bits&srcQG != 0 && bits&srcOther != 0:
		return f(wqg)
	case bits&srcQ != 0:
		return f(0.6 * wq)
	case bits&srcQG != 0:
		return f(0.6 * wqg)
	case bits&srcOther != 0:
		return 1
	}
	return 0
}

// fuser holds the fusion scratch buffers.
type fuser struct {
	bits  []uint8
	wt    []float32
	stamp []uint32
	gen   uint32
	px    []fpix
	cum   []float64
	cands []fcand
}

type fpix struct {
	x, y float64
	i    int32
	w    float64
}

type fcand struct {
	seg     imgbuf.Segment
	support float64
	idx     int
}

// fusionParams are the fusion knobs resolved from Options and x.
type fusionParams struct {
	wq, wqg   float64
	integer   bool
	tol       float64 // RANSAC inlier distance, px
	trials    int
	minWeight float64 // keep a fitted line when its mean weight per raster pixel >= minWeight
	minLen    float64
	seed      uint64
}

// rasterSeg visits the Bresenham pixels of s clipped to the w x h image
// (endpoints rounded), as metric.Rasterise draws them.
func rasterSeg(s imgbuf.Segment, w, h int, visit func(i int)) {
	if !finiteSeg(s) {
		return
	}
	cl := func(v float64, n int) int {
		r := math.Round(v)
		if r < 0 {
			return 0
		}
		if r > float64(n-1) {
			return n - 1
		}
		return int(r)
	}
	x0, y0, x1, y1 := cl(s.X1, w), cl(s.Y1, h), cl(s.X2, w), cl(s.Y2, h)
	dx, dy := x1-x0, y1-y0
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	err := dx - dy
	for {
		visit(y0*w + x0)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 > -dy {
			err -= dy
			x0 += sx
		}
		if e2 < dx {
			err += dx
			y0 += sy
		}
	}
}

func finiteSeg(s imgbuf.Segment) bool { return num.Finite(s.X1, s.Y1, s.X2, s.Y2) }

// fuseLines is bohost's multi-line weighted RANSAC fusion for whole images
// (the original fitted one seam line per ROI; see doc.go). Segments of each
// source are rasterised into a weight map (FusionWeights). Candidates (all
// input segments, strongest support first) each gather the unconsumed
// weighted pixels within tol of their extent, fit a line by weighted RANSAC
// (minimal samples drawn with probability ∝ weight, hypotheses scored by
// Σ weight of inliers, refit by weighted total least squares), and are kept
// when the mean inlier weight per raster pixel of the fitted extent is at
// least minWeight. Inliers are consumed. Deterministic for a seed.
func (f *fuser) fuseLines(sets [3][]imgbuf.Segment, w, h int, p fusionParams) []imgbuf.Segment {
	n := w * h
	f.grow(n)
	bits, wt, stamp := f.bits[:n], f.wt[:n], f.stamp[:n]
	clear(bits)
	for k, set := range sets {
		bit := uint8(1) << k
		for _, s := range set {
			rasterSeg(s, w, h, func(i int) { bits[i] |= bit })
		}
	}
	for i, b := range bits {
		wt[i] = 0
		if b != 0 {
			wt[i] = float32(FusionWeights(b, p.wq, p.wqg, p.integer))
		}
	}
	cands := f.cands[:0]
	for _, set := range sets {
		for _, s := range set {
			if !finiteSeg(s) {
				continue
			}
			var sup float64
			rasterSeg(s, w, h, func(i int) { sup += float64(wt[i]) })
			cands = append(cands, fcand{seg: s, support: sup, idx: len(cands)})
		}
	}
	slices.SortStableFunc(cands, func(a, b fcand) int {
		switch {
		case a.support > b.support:
			return -1
		case a.support < b.support:
			return 1
		}
		return a.idx - b.idx
	})
	f.cands = cands

	var out []imgbuf.Segment
	pcg := rand.NewPCG(p.seed, 0)
	crng := rand.New(pcg)
	tol := p.tol
	r := int(math.Ceil(tol))
	for ci, c := range cands {
		// Skip candidates whose pixels were mostly consumed already.
		var tot, left int
		rasterSeg(c.seg, w, h, func(i int) {
			tot++
			if wt[i] > 0 {
				left++
			}
		})
		if tot == 0 || 2*left < tot {
			continue
		}
		f.gen++
		if f.gen == 0 {
			clear(stamp)
			f.gen = 1
		}
		g := f.gen
		px := f.px[:0]
		ex, ey := c.seg.X2-c.seg.X1, c.seg.Y2-c.seg.Y1
		L := math.Hypot(ex, ey)
		if L < 1e-9 {
			continue
		}
		ux, uy := ex/L, ey/L
		for t := -tol; t <= L+tol; t += 0.5 {
			bx, by := c.seg.X1+ux*t, c.seg.Y1+uy*t
			for o := -r; o <= r; o++ {
				xx := int(math.Round(bx - uy*float64(o)))
				yy := int(math.Round(by + ux*float64(o)))
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				i := yy*w + xx
				if stamp[i] == g || wt[i] <= 0 {
					continue
				}
				stamp[i] = g
				px = append(px, fpix{x: float64(xx), y: float64(yy), i: int32(i), w: float64(wt[i])})
			}
		}
		f.px = px
		if len(px) < 2 {
			continue
		}
		pcg.Seed(p.seed, 0x6169726c696e65^uint64(ci)) // per-candidate stream: independent of the others' draws
		seg, inl, ok := f.ransac(px, tol, p.trials, crng)
		if !ok {
			continue
		}
		// Mean weight per raster pixel of the fitted extent.
		steps := math.Max(math.Abs(seg.X2-seg.X1), math.Abs(seg.Y2-seg.Y1)) + 1
		if inl/steps < p.minWeight || seg.Len() < p.minLen {
			continue
		}
		for _, q := range px {
			if distLine(q.x, q.y, seg) <= tol {
				wt[q.i] = 0
			}
		}
		out = append(out, seg)
	}
	return out
}

// ransac fits a line to the weighted pixels; it returns the inlier segment
// (extent of the inliers' projections) and the inlier weight.
func (f *fuser) ransac(px []fpix, tol float64, trials int, rng *rand.Rand) (imgbuf.Segment, float64, bool) {
	cum := f.cum[:0]
	var tot float64
	for _, q := range px {
		tot += q.w
		cum = append(cum, tot)
	}
	f.cum = cum
	if !(tot > 0) {
		return imgbuf.Segment{}, 0, false
	}
	pick := func() int {
		u := rng.Float64() * tot
		i, _ := slices.BinarySearch(cum, u)
		if i >= len(cum) {
			i = len(cum) - 1
		}
		return i
	}
	best, bestScore := -1.0, -1.0
	var bx, by, bnx, bny float64 // best line: point and unit normal
	for tr := 0; tr < trials; tr++ {
		a, b := px[pick()], px[pick()]
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		if l < 1 {
			continue
		}
		nx, ny := -dy/l, dx/l
		var s float64
		for _, q := range px {
			if math.Abs((q.x-a.x)*nx+(q.y-a.y)*ny) <= tol {
				s += q.w
			}
		}
		if s > bestScore {
			bestScore, best = s, 1
			bx, by, bnx, bny = a.x, a.y, nx, ny
		}
	}
	if best < 0 {
		return imgbuf.Segment{}, 0, false
	}
	// Weighted total least squares on the inliers, then re-select inliers.
	for iter := 0; iter < 2; iter++ {
		var sw, mx, my float64
		for _, q := range px {
			if math.Abs((q.x-bx)*bnx+(q.y-by)*bny) <= tol {
				sw += q.w
				mx += q.w * q.x
				my += q.w * q.y
			}
		}
		if !(sw > 0) {
			break
		}
		mx /= sw
		my /= sw
		var cxx, cxy, cyy float64
		for _, q := range px {
			if math.Abs((q.x-bx)*bnx+(q.y-by)*bny) <= tol {
				dx, dy := q.x-mx, q.y-my
				cxx += q.w * dx * dx
				cxy += q.w * dx * dy
				cyy += q.w * dy * dy
			}
		}
		th := 0.5 * math.Atan2(2*cxy, cxx-cyy) // principal direction
		bx, by = mx, my
		bnx, bny = -math.Sin(th), math.Cos(th)
	}
	ux, uy := bny, -bnx
	tmin, tmax := math.Inf(1), math.Inf(-1)
	var sw float64
	for _, q := range px {
		if math.Abs((q.x-bx)*bnx+(q.y-by)*bny) <= tol {
			t := (q.x-bx)*ux + (q.y-by)*uy
			tmin = math.Min(tmin, t)
			tmax = math.Max(tmax, t)
			sw += q.w
		}
	}
	if !(tmax > tmin) {
		return imgbuf.Segment{}, 0, false
	}
	return imgbuf.Segment{X1: bx + ux*tmin, Y1: by + uy*tmin, X2: bx + ux*tmax, Y2: by + uy*tmax}, sw, true
}

// distLine is the distance from (x, y) to the infinite line through s.
func distLine(x, y float64, s imgbuf.Segment) float64 {
	dx, dy := s.X2-s.X1, s.Y2-s.Y1
	l := math.Hypot(dx, dy)
	if l == 0 {
		return math.Hypot(x-s.X1, y-s.Y1)
	}
	return math.Abs((x-s.X1)*dy-(y-s.Y1)*dx) / l
}

// grow makes the per-pixel maps hold at least n pixels (new maps restart
// the stamp generation).
func (f *fuser) grow(n int) {
	if cap(f.bits) < n {
		f.bits = make([]uint8, n)
		f.wt = make([]float32, n)
		f.stamp = make([]uint32, n)
		f.gen = 0
	}
}

// fuseSeam is the original's per-ROI fusion: one weighted-RANSAC line over all
// weighted pixels of the ROI, extended to the ROI border. It returns false
// when nothing could be fitted.
func (f *fuser) fuseSeam(sets [3][]imgbuf.Segment, w, h int, p fusionParams) (imgbuf.Segment, bool) {
	n := w * h
	f.grow(n)
	bits := f.bits[:n]
	clear(bits)
	for k, set := range sets {
		bit := uint8(1) << k
		for _, s := range set {
			rasterSeg(s, w, h, func(i int) { bits[i] |= bit })
		}
	}
	px := f.px[:0]
	for i, b := range bits {
		if b != 0 {
			px = append(px, fpix{x: float64(i % w), y: float64(i / w), i: int32(i), w: FusionWeights(b, p.wq, p.wqg, p.integer)})
		}
	}
	f.px = px
	if len(px) < 2 {
		return imgbuf.Segment{}, false
	}
	rng := rand.New(rand.NewPCG(p.seed, 0x7365616d)) // "seam"
	seg, _, ok := f.ransac(px, p.tol, p.trials, rng)
	if !ok {
		return imgbuf.Segment{}, false
	}
	return extendToBox(seg, float64(w-1), float64(h-1))
}

// extendToBox extends the line through s to the box [0, xm] x [0, ym].
func extendToBox(s imgbuf.Segment, xm, ym float64) (imgbuf.Segment, bool) {
	dx, dy := s.X2-s.X1, s.Y2-s.Y1
	t0, t1 := math.Inf(-1), math.Inf(1)
	clip := func(p, d, lo, hi float64) bool {
		if math.Abs(d) < 1e-12 {
			return p >= lo && p <= hi
		}
		a, b := (lo-p)/d, (hi-p)/d
		if a > b {
			a, b = b, a
		}
		t0, t1 = math.Max(t0, a), math.Min(t1, b)
		return true
	}
	if !clip(s.X1, dx, 0, xm) || !clip(s.Y1, dy, 0, ym) || !(t1 > t0) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return imgbuf.Segment{}, false
	}
	return imgbuf.Segment{X1: s.X1 + dx*t0, Y1: s.Y1 + dy*t0, X2: s.X1 + dx*t1, Y2: s.Y1 + dy*t1}, true
}
