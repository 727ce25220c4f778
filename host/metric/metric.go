package metric

import (
	"math"
	"sync"

	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// Score is the per-image result of FScore.
type Score struct {
	F         float64 // F_r = 2PR/(P+R); 0 when no detection or P+R = 0
	Precision float64 // P_r: fraction of detected pixels within r of a GT pixel
	Recall    float64 // R_r = LP_r: fraction of GT pixels within r of a detected pixel
	R         float64 // the tolerance used, in pixels
	NDetected int     // detected segments rasterised (finite endpoints)
	NGT       int     // GT segments rasterised; 0 means "skip this image"
}

// MaxSide is the largest image side FScore accepts; larger sizes (and
// non-positive ones) return the zero Score rather than allocating.
const MaxSide = 1 << 15

// Radius returns the default tolerance in pixels for a w x h image:
// 3 at 640x480, round(0.00375*sqrt(w²+h²)) otherwise (0 for w, h <= 0).
func Radius(w, h int) float64 {
	if w == 640 && h == 480 {
		return 3
	}
	if w <= 0 || h <= 0 {
		return 0
	}
	return math.Round(0.00375 * math.Hypot(float64(w), float64(h)))
}

// FScore scores det against gt on a w x h image at tolerance r (r <= 0 or NaN
// selects Radius(w, h); to ask for exact overlap, LP_0, pass a tiny positive r
// such as 1e-9). See the package documentation for the definition and the
// empty-GT rule (NGT == 0: skip the image).
func FScore(det, gt []imgbuf.Segment, w, h int, r float64) Score {
	if !(r > 0) {
		r = Radius(w, h)
	}
	s := Score{R: r}
	if w <= 0 || h <= 0 || w > MaxSide || h > MaxSide {
		return s
	}
	ws := getWorkspace(w, h)
	defer workspaces.Put(ws)

	clear(ws.maskG)
	clear(ws.maskS)
	s.NGT = Rasterise(ws.maskG, w, h, gt)
	s.NDetected = Rasterise(ws.maskS, w, h, det)
	if s.NGT == 0 || s.NDetected == 0 {
		return s
	}
	r2 := r*r + 1e-9 // squared distances are integers; tolerate r*r rounding

	// Precision: detected pixels near GT.
	ws.edt(ws.maskG, w, h, r)
	var nS, hitS int
	for i, m := range ws.maskS {
		if m != 0 {
			nS++
			if ws.dt[i] <= r2 {
				hitS++
			}
		}
	}
	// Recall: GT pixels near detections.
	ws.edt(ws.maskS, w, h, r)
	var nG, hitG int
	for i, m := range ws.maskG {
		if m != 0 {
			nG++
			if ws.dt[i] <= r2 {
				hitG++
			}
		}
	}
	s.Precision = float64(hitS) / float64(nS)
	s.Recall = float64(hitG) / float64(nG)
	if p := s.Precision + s.Recall; p > 0 {
		s.F = 2 * s.Precision * s.Recall / p
	}
	return s
}

// Mean averages F, Precision and Recall over the scores with NGT > 0 and
// returns that mean (R, NDetected and NGT of the result are the mean R and
// the summed counts) and the number of images averaged.
func Mean(scores []Score) (Score, int) {
	var m Score
	n := 0
	for _, s := range scores {
		if s.NGT == 0 {
			continue
		}
		n++
		m.F += s.F
		m.Precision += s.Precision
		m.Recall += s.Recall
		m.R += s.R
		m.NDetected += s.NDetected
		m.NGT += s.NGT
	}
	if n > 0 {
		k := float64(n)
		m.F /= k
		m.Precision /= k
		m.Recall /= k
		m.R /= k
	}
	return m, n
}

// Rasterise draws segs into mask (len w*h, row-major; pixels set to 1) as
// 8-connected Bresenham lines between the rounded endpoints clamped to the
// image, and returns the number of segments drawn. Segments with a NaN or
// infinite coordinate are skipped. mask is not cleared first.
func Rasterise(mask []uint8, w, h int, segs []imgbuf.Segment) int {
	if w <= 0 || h <= 0 || len(mask) < w*h {
		return 0
	}
	n := 0
	for _, s := range segs {
		if !num.Finite(s.X1) || !num.Finite(s.Y1) || !num.Finite(s.X2) || !num.Finite(s.Y2) {
			continue
		}
		x0, y0 := clampRound(s.X1, w), clampRound(s.Y1, h)
		x1, y1 := clampRound(s.X2, w), clampRound(s.Y2, h)
		bresenham(mask, w, x0, y0, x1, y1)
		n++
	}
	return n
}

func clampRound(v float64, n int) int {
	v = math.Round(v)
	if v < 0 {
		return 0
	}
	if v > float64(n-1) {
		return n - 1
	}
	return int(v)
}

func bresenham(mask []uint8, w, x0, y0, x1, y1 int) {
	dx := x1 - x0
	sx := 1
	if dx < 0 {
		dx, sx = -dx, -1
	}
	dy := y1 - y0
	sy := 1
	if dy < 0 {
		dy, sy = -dy, -1
	}
	dy = -dy
	e := dx + dy
	for {
		mask[y0*w+x0] = 1
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// inf stands for "no feature pixel on this line"; it stays far above any
// squared distance inside a MaxSide x MaxSide image (< 2^31).
const inf = 1e20

// SquaredEDT writes into dst (len w*h) the exact squared Euclidean distance
// from each pixel to the nearest pixel with mask != 0 (Felzenszwalb and
// Huttenlocher's 1-D transform along columns, then rows).
// With an empty mask every value is >= 1e20.
func SquaredEDT(dst []float64, mask []uint8, w, h int) {
	if w <= 0 || h <= 0 || len(dst) < w*h || len(mask) < w*h {
		return
	}
	ws := getWorkspace(w, h)
	defer workspaces.Put(ws)
	ws.edt(mask, w, h, math.Inf(1))
	copy(dst, ws.dt[:w*h])
}

type workspace struct {
	maskG, maskS []uint8
	dt           []float64
	f, d, z      []float64
	v            []int
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace(w, h int) *workspace {
	ws := workspaces.Get().(*workspace)
	n := w * h
	if cap(ws.maskG) < n {
		ws.maskG = make([]uint8, n)
		ws.maskS = make([]uint8, n)
		ws.dt = make([]float64, n)
	}
	ws.maskG, ws.maskS, ws.dt = ws.maskG[:n], ws.maskS[:n], ws.dt[:n]
	m := max(w, h)
	if len(ws.f) < m+1 {
		ws.f = make([]float64, m+1)
		ws.d = make([]float64, m+1)
		ws.z = make([]float64, m+1)
		ws.v = make([]int, 2*m+2) // lower envelope (m+1) + per-column scratch (w)
	}
	return ws
}

// edt fills ws.dt with the squared EDT of mask. Pass 1 is the 1-D transform
// along columns, which for a binary mask is the distance to the nearest mask
// pixel above or below, swept in row-major order; pass 2 is the
// Felzenszwalb–Huttenlocher lower envelope along each row.
//
// Column distances above limit are treated as "no pixel": the result is then
// exact wherever the true distance is <= limit and > limit² elsewhere, which
// is all FScore needs, and rows far from every mask pixel cost almost nothing.
func (ws *workspace) edt(mask []uint8, w, h int, limit float64) {
	dt := ws.dt
	const none = -1 << 40
	last := ws.v[len(ws.v)-w:] // row of "last mask row seen" per column
	for x := range last {
		last[x] = none
	}
	for y := 0; y < h; y++ {
		row, out := mask[y*w:y*w+w], dt[y*w:y*w+w]
		for x, m := range row {
			if m != 0 {
				last[x] = y
			}
			out[x] = float64(y - last[x])
		}
	}
	for x := range last {
		last[x] = 1 << 40
	}
	for y := h - 1; y >= 0; y-- {
		row, out := mask[y*w:y*w+w], dt[y*w:y*w+w]
		for x, m := range row {
			if m != 0 {
				last[x] = y
			}
			if d := float64(last[x] - y); d < out[x] {
				out[x] = d
			}
		}
	}
	f, d := ws.f[:w], ws.d[:w]
	for y := 0; y < h; y++ {
		out := dt[y*w : y*w+w]
		any := false
		for x, g := range out {
			if g <= limit {
				f[x] = g * g
				any = true
			} else {
				f[x] = inf
			}
		}
		if !any {
			for x := range out {
				out[x] = inf
			}
			continue
		}
		edt1d(f, d, ws.v, ws.z)
		copy(out, d)
	}
}

// edt1d is the 1-D squared distance transform of sampled function f
// (Felzenszwalb & Huttenlocher 2012): d[q] = min_p (q-p)² + f[p].
// v and z need len(f)+1 entries; f must hold at least one value below inf.
func edt1d(f, d []float64, v []int, z []float64) {
	n := len(f)
	// Parabolas with f = inf never reach the lower envelope when a finite one
	// exists (callers guarantee one does), so only finite samples enter it.
	q0 := 0
	for q0 < n && f[q0] >= inf {
		q0++
	}
	k := 0
	v[0] = q0
	z[0] = math.Inf(-1)
	z[1] = math.Inf(1)
	for q := q0 + 1; q < n; q++ {
		if f[q] >= inf {
			continue
		}
		fq := f[q] + float64(q*q)
		p := v[k]
		s := (fq - (f[p] + float64(p*p))) / float64(2*(q-p))
		for s <= z[k] { // z[0] = -inf stops the loop at k = 0
			k--
			p = v[k]
			s = (fq - (f[p] + float64(p*p))) / float64(2*(q-p))
		}
		k++
		v[k] = q
		z[k] = s
		z[k+1] = math.Inf(1)
	}
	k = 0
	for q := 0; q < n; q++ {
		for z[k+1] < float64(q) {
			k++
		}
		p := v[k]
		d[q] = float64((q-p)*(q-p)) + f[p]
	}
}
