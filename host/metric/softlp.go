package metric

import (
	"math"
	"sync"

	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// SoftSamples is the number of points each segment is sampled at by SoftLP:
// t = 0, 1/99, …, 1, both ends included.
const SoftSamples = 100

// SoftScore is the per-image result of SoftLP.
type SoftScore struct {
	// LP is soft LP_r (a recall): the mean over the GT sample points of
	// clip(1 − d/r, 0, 1), d the distance to the nearest detected sample
	// point; 0 when nothing is detected.
	LP float64
	// Precision is the same with the roles swapped: the mean over the
	// detected sample points of clip(1 − d/r, 0, 1), d the distance to the
	// nearest GT sample point. A flood of false lines lowers it.
	Precision float64
	// F is the harmonic mean 2·LP·Precision/(LP + Precision) (0 when both
	// are 0): a soft F-score.
	F         float64
	R         float64 // the tolerance used, in pixels
	NDetected int     // detected segments sampled (finite coordinates)
	NGT       int     // GT segments sampled; 0 means "skip this image"
}

// SoftRadius is the default tolerance of SoftLP for a w x h image: the
// study's r = 20 px at its 3264 x 2448 photographs (diagonal 4080 px),
// scaled with the diagonal, r = 20·sqrt(w² + h²)/4080 (0 for w, h <= 0).
func SoftRadius(w, h int) float64 {
	if w <= 0 || h <= 0 {
		return 0
	}
	return 20 * math.Hypot(float64(w), float64(h)) / 4080
}

// SoftLP scores det against gt with the welding study's soft LP_r and its
// precision counterpart (see the package documentation for the exact
// definition). r <= 0 or NaN selects SoftRadius(w, h); w and h are used for
// nothing else (coordinates are not clamped to the image). An empty gt gives
// NGT == 0 (skip the image); an empty det gives LP = Precision = F = 0.
// Segments with a non-finite coordinate are ignored and not counted.
//
// The nearest sample point is found in a uniform grid of cells at least r
// wide, so only points within r are compared (farther ones score 0
// whatever their distance); the result equals the brute-force definition.
// Working buffers come from a sync.Pool: steady-state calls allocate
// nothing, and SoftLP is safe for concurrent use.
func SoftLP(det, gt []imgbuf.Segment, w, h int, r float64) SoftScore {
	if !(r > 0) || math.IsInf(r, 1) {
		r = SoftRadius(w, h)
	}
	s := SoftScore{R: r}
	ws := softPool.Get().(*softWS)
	defer softPool.Put(ws)
	ws.gt, s.NGT = samplePoints(ws.gt[:0], gt)
	ws.det, s.NDetected = samplePoints(ws.det[:0], det)
	if s.NGT == 0 || s.NDetected == 0 || !(r > 0) {
		return s
	}
	s.LP = ws.grid.build(ws.det, r).meanCloseness(ws.gt)
	s.Precision = ws.grid.build(ws.gt, r).meanCloseness(ws.det)
	if p := s.LP + s.Precision; p > 0 {
		s.F = 2 * s.LP * s.Precision / p
	}
	return s
}

// MeanSoft averages LP, Precision, F and R over the scores with NGT > 0 (the
// counts are summed) and returns that mean and the number of images
// averaged.
func MeanSoft(scores []SoftScore) (SoftScore, int) {
	var m SoftScore
	n := 0
	for _, s := range scores {
		if s.NGT == 0 {
			continue
		}
		n++
		m.LP += s.LP
		m.Precision += s.Precision
		m.F += s.F
		m.R += s.R
		m.NDetected += s.NDetected
		m.NGT += s.NGT
	}
	if n > 0 {
		k := float64(n)
		m.LP /= k
		m.Precision /= k
		m.F /= k
		m.R /= k
	}
	return m, n
}

// point is one sample point.
type point struct{ x, y float64 }

// samplePoints appends the SoftSamples points of every finite segment of
// segs to dst and returns it with the number of segments sampled. A
// segment whose difference of end points overflows is skipped too.
func samplePoints(dst []point, segs []imgbuf.Segment) ([]point, int) {
	n := 0
	for _, g := range segs {
		dx, dy := g.X2-g.X1, g.Y2-g.Y1
		if !num.Finite(g.X1, g.Y1, g.X2, g.Y2, dx, dy) {
			continue
		}
		for k := range SoftSamples {
			t := float64(k) / (SoftSamples - 1)
			dst = append(dst, point{g.X1 + t*dx, g.Y1 + t*dy})
		}
		n++
	}
	return dst, n
}

type softWS struct {
	gt, det []point
	grid    grid
}

var softPool = sync.Pool{New: func() any { return new(softWS) }}

// grid buckets points into square cells of side cell >= r (row-major,
// compressed: pts sorted by cell, start[c]..start[c+1] the points of cell c).
type grid struct {
	r, cell float64
	x0, y0  float64
	nx, ny  int
	start   []int
	pts     []point
	cellOf  []int
}

// maxCells bounds the grid: cells grow beyond r when the points' bounding
// box would need more.
func maxCells(n int) int { return max(1024, 2*n) }

// build buckets pts (which it does not keep) for queries at tolerance r.
func (g *grid) build(pts []point, r float64) *grid {
	x0, y0, x1, y1 := pts[0].x, pts[0].y, pts[0].x, pts[0].y
	for _, p := range pts[1:] {
		x0, x1 = min(x0, p.x), max(x1, p.x)
		y0, y1 = min(y0, p.y), max(y1, p.y)
	}
	// A hair over r, so that two points less than r apart always fall in
	// the same or adjacent cells despite the rounding of (x − x0)/cell.
	cell := r * (1 + 1e-6)
	wx, wy := x1-x0, y1-y0
	lim := float64(maxCells(len(pts)))
	if (wx/cell+1)*(wy/cell+1) > lim {
		// The smallest cell that keeps the grid within about 3·lim cells.
		cell = max(cell, math.Sqrt(wx/lim)*math.Sqrt(wy), wx/lim, wy/lim)
	}
	g.r, g.cell, g.x0, g.y0 = r, cell, x0, y0
	g.nx, g.ny = 1, 1
	if cx, cy := wx/cell, wy/cell; num.Finite(cx, cy) && (cx+1)*(cy+1) <= 4*lim {
		g.nx, g.ny = int(cx)+1, int(cy)+1
	} else {
		// The extent overflows: one cell holding every point.
		g.cell = math.Inf(1)
	}
	nc := g.nx * g.ny
	if cap(g.start) < nc+1 {
		g.start = make([]int, nc+1)
	}
	g.start = g.start[:nc+1]
	clear(g.start)
	if cap(g.cellOf) < len(pts) {
		g.cellOf = make([]int, len(pts))
		g.pts = make([]point, len(pts))
	}
	g.cellOf, g.pts = g.cellOf[:len(pts)], g.pts[:len(pts)]
	for i, p := range pts {
		c := g.index(p)
		g.cellOf[i] = c
		g.start[c+1]++
	}
	for c := range nc {
		g.start[c+1] += g.start[c]
	}
	// Counting sort, stable: within a cell the points keep their order.
	next := g.start[:nc] // advanced in place, then restored below
	for i, p := range pts {
		c := g.cellOf[i]
		g.pts[next[c]] = p
		next[c]++
	}
	// next[c] is now the old start[c+1]: shift back.
	copy(g.start[1:], g.start[:nc])
	g.start[0] = 0
	return g
}

// coord is the cell coordinate of v along an axis starting at o with n
// cells; it may lie outside [0, n) for query points.
func (g *grid) coord(v, o float64, n int) int {
	c := (v - o) / g.cell
	switch {
	case !(c > -2): // also NaN (an infinite cell: c = 0 unless v is far)
		if c != c {
			return 0
		}
		return -2
	case c >= float64(n+1):
		return n + 1
	}
	return int(math.Floor(c))
}

func (g *grid) index(p point) int {
	cx := min(max(g.coord(p.x, g.x0, g.nx), 0), g.nx-1)
	cy := min(max(g.coord(p.y, g.y0, g.ny), 0), g.ny-1)
	return cy*g.nx + cx
}

// meanCloseness is the mean over q of clip(1 − d/r, 0, 1), d the distance
// from each query point to the nearest bucketed point.
func (g *grid) meanCloseness(q []point) float64 {
	var sum float64
	for _, p := range q {
		cx, cy := g.coord(p.x, g.x0, g.nx), g.coord(p.y, g.y0, g.ny)
		best := math.Inf(1)
		for y := max(cy-1, 0); y <= min(cy+1, g.ny-1); y++ {
			row := y * g.nx
			for x := max(cx-1, 0); x <= min(cx+1, g.nx-1); x++ {
				for _, b := range g.pts[g.start[row+x]:g.start[row+x+1]] {
					dx, dy := p.x-b.x, p.y-b.y
					if d2 := dx*dx + dy*dy; d2 < best {
						best = d2
					}
				}
			}
		}
		sum += max(0, min(1, 1-math.Sqrt(best)/g.r))
	}
	return sum / float64(len(q))
}
