package airline

import (
	"context"
	"math"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// CRGParams are the knobs of conditional region growing and local edge voting
// (CRGandLP.cpp: DesGrow1). The zero value of each field selects AirLine's
// default (shown in brackets).
type CRGParams struct {
	SimThresh      float64 // accept a neighbour when cos(avg, D) > SimThresh [0.8]; must be finite
	PixelNumThresh int     // accept a region when count > PixelNumThresh [10]; negative means 0
	MaxRegionPx    int     // regions that store this many pixels are dropped [5000]
	SeedStride     int     // seed grid stride, rows and columns [2]
	SeedMargin     int     // seeds at y = m, m+s, ... while y < H-1-m (and x likewise) [2]
	Border         int     // candidates expand only when Border < y < H-Border and Border < x < W-Border [1]; >= 1
	MaxSegments    int     // stop (Stats.Truncated) after this many accepted regions [30000]
	StraightStride int     // straightness uses every n-th region pixel [3]
	FixEndpoints   bool    // false: AirLine's endpoints (Euclidean radii, sides swapped by the sign flip); true: projections on v
}

func (p CRGParams) withDefaults() CRGParams {
	if p.SimThresh == 0 {
		p.SimThresh = 0.8
	}
	if p.PixelNumThresh == 0 {
		p.PixelNumThresh = 10
	} else if p.PixelNumThresh < 0 {
		p.PixelNumThresh = 0
	}
	if p.MaxRegionPx <= 0 {
		p.MaxRegionPx = 5000
	}
	if p.SeedStride <= 0 {
		p.SeedStride = 2
	}
	if p.SeedMargin <= 0 {
		p.SeedMargin = 2
	}
	if p.Border <= 0 {
		p.Border = 1
	}
	if p.MaxSegments <= 0 {
		p.MaxSegments = 30000
	}
	if p.StraightStride <= 0 {
		p.StraightStride = 3
	}
	return p
}

// Line is one CRG output: the segment, its straightness (0..100, AirLine's
// score) and the number of stored region pixels.
type Line struct {
	imgbuf.Segment
	Straightness float64
	Pixels       int
}

// CRGStats counts what happened in one CRG run; limits are reported here
// instead of being overrun.
type CRGStats struct {
	Seeds        int  // regions started
	Accepted     int  // regions turned into lines
	DroppedSmall int  // count <= PixelNumThresh
	DroppedLarge int  // reached MaxRegionPx
	Degenerate   int  // accepted size but no direction (all pixels on the centroid)
	Truncated    bool // MaxSegments was reached; later seeds were not grown
}

func (s *CRGStats) add(o CRGStats) {
	s.Seeds += o.Seeds
	s.Accepted += o.Accepted
	s.DroppedSmall += o.DroppedSmall
	s.DroppedLarge += o.DroppedLarge
	s.Degenerate += o.Degenerate
	s.Truncated = s.Truncated || o.Truncated
}

// CRG runs conditional region growing and local edge voting on a w x h mask
// (non-zero = edge pixel) with a pixel-major descriptor desc of len w*h*t
// (as Orientation returns). It validates its inputs and never writes out of
// bounds; it returns at most p.MaxSegments lines.
func CRG(mask []uint8, desc []float32, w, h, t int, p CRGParams) ([]Line, CRGStats, error) {
	const op = "airline.crg"
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide {
		return nil, CRGStats{}, errs.New(errs.BadArg, op, "image size must be in [1, %d] per side, got %dx%d", maxSide, w, h)
	}
	if t < 1 || t > maxT {
		return nil, CRGStats{}, errs.New(errs.BadArg, op, "descriptor length t must be in [1, %d], got %d", maxT, t)
	}
	if len(mask) != w*h {
		return nil, CRGStats{}, errs.New(errs.BadArg, op, "mask has %d pixels, want w*h = %d", len(mask), w*h)
	}
	if len(desc) != w*h*t {
		return nil, CRGStats{}, errs.New(errs.BadArg, op, "desc has %d values, want w*h*t = %d", len(desc), w*h*t)
	}
	if err := p.validate(op); err != nil {
		return nil, CRGStats{}, err
	}
	g := &grower{}
	used := make([]uint8, w*h)
	for i, m := range mask {
		if m != 0 {
			used[i] = 255
		}
	}
	lines, st, err := g.run(context.Background(), used, desc, nil, w, h, t, p.withDefaults(), nil)
	return lines, st, err
}

func (p CRGParams) validate(op string) error {
	if math.IsNaN(p.SimThresh) || math.IsInf(p.SimThresh, 0) {
		return errs.New(errs.BadArg, op, "SimThresh must be finite, got %g", p.SimThresh)
	}
	if p.Border < 0 || p.SeedStride < 0 || p.SeedMargin < 0 || p.MaxRegionPx < 0 || p.MaxSegments < 0 || p.StraightStride < 0 {
		return errs.New(errs.BadArg, op, "CRG integer limits must be >= 0 (0 = default): Border %d, SeedStride %d, SeedMargin %d, MaxRegionPx %d, MaxSegments %d, StraightStride %d",
			p.Border, p.SeedStride, p.SeedMargin, p.MaxRegionPx, p.MaxSegments, p.StraightStride)
	}
	if p.MaxRegionPx > maxRegionLimit {
		return errs.New(errs.BadArg, op, "MaxRegionPx must be in [1, %d], got %d", maxRegionLimit, p.MaxRegionPx)
	}
	return nil
}

const (
	maxSide        = 1 << 15
	maxRegionLimit = 1 << 22
)

// grower holds CRG's scratch buffers (reused through the evaluator's pool).
type grower struct {
	list   [2][]int32 // ping-pong candidate lists (pixel indices)
	region []int32    // stored region pixels, in growth order, at most MaxRegionPx
	avg    []float32
}

// run grows regions over used (255 = unused edge pixel, modified in place).
// The descriptor of pixel i is desc[s*t : s*t+t] with s = i, or s = slot[i]
// when slot is non-nil. Lines are appended to dst.
func (g *grower) run(ctx context.Context, used []uint8, desc []float32, slot []int32, w, h, t int, p CRGParams, dst []Line) ([]Line, CRGStats, error) {
	var st CRGStats
	if cap(g.avg) < t {
		g.avg = make([]float32, t)
	}
	avg := g.avg[:t]
	if cap(g.region) < p.MaxRegionPx {
		g.region = make([]int32, 0, p.MaxRegionPx)
	}
	region := g.region[:0:p.MaxRegionPx]
	d := func(i int) []float32 {
		s := i
		if slot != nil {
			s = int(slot[i])
		}
		return desc[s*t : s*t+t]
	}
	sim := float32(p.SimThresh)
	b := p.Border
	var off [9]int
	for k := 0; k < 9; k++ {
		off[k] = (k/3-1)*w + (k%3 - 1)
	}
	m := p.SeedMargin
	for y := m; y < h-1-m; y += p.SeedStride {
		if err := ctx.Err(); err != nil {
			return dst, st, errs.Wrap(errs.Canceled, "airline.crg", err)
		}
		for x := m; x < w-1-m; x += p.SeedStride {
			seed := y*w + x
			if used[seed] == 0 {
				continue
			}
			if st.Accepted >= p.MaxSegments {
				st.Truncated = true
				return dst, st, nil
			}
			st.Seeds++
			used[seed]-- // AirLine's quirk: still > 0, so the seed is re-accepted once
			copy(avg, d(seed))
			cur := append(g.list[0][:0], int32(seed))
			nxt := g.list[1][:0]
			region = append(region[:0], int32(seed))
			count := 1
			end := false
			for !end {
				for _, c := range cur {
					ci := int(c)
					cy, cx := ci/w, ci%w
					if cy <= b || cy >= h-b || cx <= b || cx >= w-b {
						continue
					}
					for k := 0; k < 9; k++ { // dy, dx = -1..1 row-major, centre included (as upstream)
						n := ci + off[k]
						if used[n] == 0 {
							continue
						}
						dn := d(n)
						var cos float32
						for j := 0; j < t; j++ {
							cos += avg[j] * dn[j]
						}
						if !(cos > sim) {
							continue
						}
						used[n] = 0
						nxt = append(nxt, int32(n))
						fc := float32(count)
						var l2 float32
						for j := 0; j < t; j++ {
							avg[j] = (avg[j]*fc + dn[j]) / (fc + 1)
							l2 += avg[j] * avg[j]
						}
						l := float32(math.Sqrt(float64(l2)))
						for j := 0; j < t; j++ {
							avg[j] /= l // l > 0: cos > sim needs a non-zero avg
						}
						if count < p.MaxRegionPx {
							region = append(region, int32(n))
							count++
						} else {
							end = true
						}
					}
				}
				cur, nxt = nxt, cur[:0]
				if len(cur) == 0 {
					end = true
				}
			}
			g.list[0], g.list[1] = cur[:0], nxt[:0]
			switch {
			case count >= p.MaxRegionPx:
				st.DroppedLarge++
			case count <= p.PixelNumThresh:
				st.DroppedSmall++
			default:
				ln, ok := vote(region, w, p)
				if !ok {
					st.Degenerate++
					continue
				}
				st.Accepted++
				dst = append(dst, ln)
			}
		}
	}
	g.region = region[:0]
	return dst, st, nil
}

// vote is AirLine's local edge voting (float32 as upstream).
func vote(region []int32, w int, p CRGParams) (Line, bool) {
	n := len(region)
	var sy, sx float32
	for _, r := range region {
		sy += float32(int(r) / w)
		sx += float32(int(r) % w)
	}
	cy, cx := sy/float32(n), sx/float32(n)
	var vy, vx, pmax, nmax float32
	for _, r := range region {
		dy := cy - float32(int(r)/w)
		dx := cx - float32(int(r)%w)
		l := float32(math.Sqrt(float64(dy*dy + dx*dx)))
		if vy*dy+vx*dx < 0 {
			dy, dx = -dy, -dx
			if l > nmax {
				nmax = l
			}
		} else if l > pmax {
			pmax = l
		}
		vy += dy
		vx += dx
	}
	l2 := float32(math.Sqrt(float64(vy*vy + vx*vx)))
	if !(l2 > 0) {
		return Line{}, false
	}
	vy /= l2
	vx /= l2
	if vy < 0 {
		vy, vx = -vy, -vx
	}
	// Straightness: mean |cos(c - p, v)| over every StraightStride-th pixel,
	// computed by value (upstream returns a dangling stack pointer here); a
	// pixel on the centroid contributes 0 (upstream: NaN).
	var s, cnt float32
	for i := 0; i < n; i += p.StraightStride {
		cnt++
		dy := cy - float32(int(region[i])/w)
		dx := cx - float32(int(region[i])%w)
		l := float32(math.Sqrt(float64(dy*dy + dx*dx)))
		if l > 0 {
			c := (dy*vy + dx*vx) / l
			if c < 0 {
				c = -c
			}
			s += c
		}
	}
	ln := Line{Straightness: float64(s * 100 / cnt), Pixels: n}
	if !p.FixEndpoints {
		ln.Y1, ln.X1 = float64(cy-vy*pmax), float64(cx-vx*pmax)
		ln.Y2, ln.X2 = float64(cy+vy*nmax), float64(cx+vx*nmax)
		return ln, true
	}
	tmin, tmax := float32(0), float32(0)
	for _, r := range region {
		tp := (float32(int(r)/w)-cy)*vy + (float32(int(r)%w)-cx)*vx
		if tp < tmin {
			tmin = tp
		}
		if tp > tmax {
			tmax = tp
		}
	}
	ln.Y1, ln.X1 = float64(cy+vy*tmin), float64(cx+vx*tmin)
	ln.Y2, ln.X2 = float64(cy+vy*tmax), float64(cx+vx*tmax)
	return ln, true
}
