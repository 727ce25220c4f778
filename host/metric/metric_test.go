package metric

import (
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/imgbuf"
)

func seg(x1, y1, x2, y2 float64) imgbuf.Segment {
	return imgbuf.Segment{X1: x1, Y1: y1, X2: x2, Y2: y2}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRadius(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w, h int
		want float64
	}{
		{640, 480, 3}, {800, 600, 4}, {160, 120, 1}, {1280, 960, 6}, {1920, 1080, 8}, {50, 50, 0}, {0, 480, 0},
	} {
		if got := Radius(c.w, c.h); got != c.want {
			t.Errorf("Radius(%d,%d) = %v, want %v", c.w, c.h, got, c.want)
		}
	}
}

// TestHandComputed: 10x10, r = 1.
// GT: row y=5, x=0..9 (10 px). Detection: row y=5, x=0..4 (5 px) plus the
// single pixel (9,0), 5 px away from the GT.
// P = 5/6; R = GT pixels within 1 of a detection = x=0..5 → 6/10;
// F = 2·(5/6)·0.6/(5/6+0.6) = 1/(43/30) = 30/43.
func TestHandComputed(t *testing.T) {
	t.Parallel()
	gt := []imgbuf.Segment{seg(0, 5, 9, 5)}
	det := []imgbuf.Segment{seg(0, 5, 4, 5), seg(9, 0, 9, 0)}
	s := FScore(det, gt, 10, 10, 1)
	const tol = 1e-12
	if !near(s.Precision, 5.0/6, tol) || !near(s.Recall, 0.6, tol) || !near(s.F, 30.0/43, tol) {
		t.Fatalf("got P=%v R=%v F=%v, want 5/6, 0.6, 30/43 (tol %g)", s.Precision, s.Recall, s.F, tol)
	}
	if s.NDetected != 2 || s.NGT != 1 || s.R != 1 {
		t.Fatalf("counts/radius: %+v", s)
	}
	// Diagonal tolerance: (1,1) is sqrt(2) from (0,0).
	gt = []imgbuf.Segment{seg(0, 0, 0, 0)}
	det = []imgbuf.Segment{seg(1, 1, 1, 1)}
	if s := FScore(det, gt, 5, 5, 1.41); s.F != 0 {
		t.Errorf("r=1.41 < sqrt2: F = %v, want 0", s.F)
	}
	if s := FScore(det, gt, 5, 5, math.Sqrt2); s.F != 1 {
		t.Errorf("r=sqrt2: F = %v, want 1", s.F)
	}
}

func TestSelfScoreIsOne(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		w, h := 20+rng.IntN(300), 20+rng.IntN(300)
		gt := randomSegments(rng, 1+rng.IntN(40), w, h, 0)
		s := FScore(gt, gt, w, h, 0)
		if s.F != 1 || s.Precision != 1 || s.Recall != 1 {
			t.Fatalf("trial %d %dx%d: GT vs itself = %+v, want 1", trial, w, h, s)
		}
	}
}

// A detector that floods the image with a dense grid reaches full recall but
// must score low.
func TestFloodingDetectorScoresLow(t *testing.T) {
	t.Parallel()
	const w, h = 640, 480
	gt := []imgbuf.Segment{
		seg(100, 100, 540, 100), seg(100, 100, 100, 380), seg(540, 100, 540, 380), seg(100, 380, 540, 380),
		seg(200, 150, 300, 300), seg(320, 200, 500, 250),
	}
	var grid []imgbuf.Segment
	for y := 0; y < h; y += 4 {
		grid = append(grid, seg(0, float64(y), w-1, float64(y)))
	}
	for x := 0; x < w; x += 4 {
		grid = append(grid, seg(float64(x), 0, float64(x), h-1))
	}
	s := FScore(grid, gt, w, h, 0)
	if s.Recall < 0.99 {
		t.Errorf("grid recall = %v, want >= 0.99", s.Recall)
	}
	if s.F >= 0.3 {
		t.Errorf("grid F = %v (P=%v), want < 0.3", s.F, s.Precision)
	}
	t.Logf("flooding grid: P=%.4f R=%.4f F=%.4f", s.Precision, s.Recall, s.F)
}

func TestShiftTolerance(t *testing.T) {
	t.Parallel()
	const w, h = 640, 480
	gt := []imgbuf.Segment{seg(50, 100, 600, 100), seg(300, 20, 300, 460), seg(60, 400, 400, 200)}
	for _, c := range []struct {
		shift  float64
		wantHi bool
	}{{0, true}, {1, true}, {2, true}, {3, true}, {4, false}, {5, false}, {8, false}} {
		det := make([]imgbuf.Segment, len(gt))
		for i, g := range gt { // shift perpendicular-ish: diagonal offset along both axes for the third
			det[i] = seg(g.X1+c.shift, g.Y1+c.shift, g.X2+c.shift, g.Y2+c.shift)
		}
		// horizontal line shifted by shift in y, vertical by shift in x;
		// the diagonal one by shift·(1,1), whose perpendicular offset is ≤ shift·√2.
		s := FScore(det[:2], gt[:2], w, h, 3)
		if c.wantHi && s.F < 0.98 {
			t.Errorf("shift %v: F=%v, want >= 0.98", c.shift, s.F)
		}
		if !c.wantHi && s.F > 0.05 {
			t.Errorf("shift %v: F=%v, want <= 0.05", c.shift, s.F)
		}
	}
}

func TestClamping(t *testing.T) {
	t.Parallel()
	const w, h = 100, 80
	// Out-of-image endpoints are clamped: a segment from (-50,10) to (150,10)
	// rasterises like (0,10)-(99,10).
	a := FScore([]imgbuf.Segment{seg(-50, 10, 150, 10)}, []imgbuf.Segment{seg(0, 10, 99, 10)}, w, h, 0.5)
	if a.F != 1 {
		t.Errorf("clamped horizontal: %+v, want F=1", a)
	}
	// York Urban style slight overshoot (-0.4 rounds to 0, 79.7 clamps to 79).
	b := FScore([]imgbuf.Segment{seg(-0.4, -1.7, 99.6, 81.2)}, []imgbuf.Segment{seg(0, 0, 99, 79)}, w, h, 0.5)
	if b.F != 1 {
		t.Errorf("clamped diagonal: %+v, want F=1", b)
	}
	// Entirely outside: clamps onto the border, still counted as drawn.
	c := FScore([]imgbuf.Segment{seg(-10, -10, -5, -20)}, []imgbuf.Segment{seg(0, 0, 0, 0)}, w, h, 0.5)
	if c.NDetected != 1 || c.F != 1 {
		t.Errorf("outside segment clamps to (0,0): %+v", c)
	}
	// Huge and non-finite values never panic; non-finite segments are skipped.
	d := FScore([]imgbuf.Segment{seg(1e300, -1e300, math.NaN(), 3), seg(-1e308, 5, 1e308, 5)},
		[]imgbuf.Segment{seg(0, 5, 99, 5), seg(math.Inf(1), 0, 0, 0)}, w, h, 0.5)
	if d.NDetected != 1 || d.NGT != 1 || d.F != 1 {
		t.Errorf("huge/non-finite: %+v, want NDetected=1 NGT=1 F=1", d)
	}
}

func TestEmptyInputs(t *testing.T) {
	t.Parallel()
	gt := []imgbuf.Segment{seg(1, 1, 8, 8)}
	if s := FScore(nil, gt, 10, 10, 1); s.F != 0 || s.Precision != 0 || s.Recall != 0 || s.NGT != 1 || s.NDetected != 0 {
		t.Errorf("no detections: %+v", s)
	}
	if s := FScore(gt, nil, 10, 10, 1); s.NGT != 0 || s.F != 0 {
		t.Errorf("empty GT must report NGT=0 (skip): %+v", s)
	}
	for _, wh := range [][2]int{{0, 10}, {10, -1}, {MaxSide + 1, 2}} {
		if s := FScore(gt, gt, wh[0], wh[1], 1); s.NGT != 0 || s.F != 0 {
			t.Errorf("size %v: %+v, want zero score", wh, s)
		}
	}
	if s := FScore(gt, gt, 10, 10, math.NaN()); s.R != Radius(10, 10) {
		t.Errorf("NaN radius: R=%v, want Radius=%v", s.R, Radius(10, 10))
	}
}

func TestMean(t *testing.T) {
	t.Parallel()
	m, n := Mean([]Score{{F: 1, Precision: 1, Recall: 1, R: 3, NGT: 2}, {NGT: 0, F: 0.123}, {F: 0.5, Precision: 0.25, Recall: 1, R: 3, NGT: 1}})
	if n != 2 || m.F != 0.75 || m.Precision != 0.625 || m.Recall != 1 || m.NGT != 3 {
		t.Errorf("Mean = %+v, %d", m, n)
	}
}

// The EDT is exact: compare with brute force on random sparse masks.
func TestSquaredEDTExact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 60; trial++ {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		mask := make([]uint8, w*h)
		var pts [][2]int
		density := rng.Float64() * 0.1
		for i := range mask {
			if rng.Float64() < density {
				mask[i] = 1
				pts = append(pts, [2]int{i % w, i / w})
			}
		}
		if len(pts) == 0 {
			i := rng.IntN(w * h)
			mask[i] = 1
			pts = append(pts, [2]int{i % w, i / w})
		}
		dt := make([]float64, w*h)
		SquaredEDT(dt, mask, w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				best := math.MaxInt
				for _, p := range pts {
					dx, dy := x-p[0], y-p[1]
					best = min(best, dx*dx+dy*dy)
				}
				if dt[y*w+x] != float64(best) {
					t.Fatalf("trial %d %dx%d (%d,%d): EDT %v, brute force %d", trial, w, h, x, y, dt[y*w+x], best)
				}
			}
		}
	}
}

// Bresenham lines are 8-connected with the right pixel count.
func TestRasteriseConnected(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 64, 48
	for trial := 0; trial < 200; trial++ {
		s := randomSegments(rng, 1, w, h, 0)[0]
		mask := make([]uint8, w*h)
		Rasterise(mask, w, h, []imgbuf.Segment{s})
		x0, y0 := clampRound(s.X1, w), clampRound(s.Y1, h)
		x1, y1 := clampRound(s.X2, w), clampRound(s.Y2, h)
		want := max(abs(x1-x0), abs(y1-y0)) + 1
		got := 0
		for _, m := range mask {
			got += int(m)
		}
		if got != want || mask[y0*w+x0] != 1 || mask[y1*w+x1] != 1 {
			t.Fatalf("segment %+v: %d pixels, want %d, endpoints set %v %v", s, got, want, mask[y0*w+x0], mask[y1*w+x1])
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Fuzz-ish: random sizes, coordinates (including wild ones) and radii never
// panic and always give scores in [0,1].
func TestRandomInputsNeverPanic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	wild := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e18, 1e18, -0.5, 0.5, -1, 0}
	for trial := 0; trial < 300; trial++ {
		w, h := rng.IntN(120)-5, rng.IntN(120)-5
		det := randomSegments(rng, rng.IntN(30), max(w, 1), max(h, 1), 0.2)
		gt := randomSegments(rng, rng.IntN(30), max(w, 1), max(h, 1), 0.2)
		for i := range det {
			if rng.IntN(10) == 0 {
				det[i].X1 = wild[rng.IntN(len(wild))]
			}
		}
		r := rng.Float64()*10 - 2
		if rng.IntN(10) == 0 {
			r = wild[rng.IntN(len(wild))]
		}
		s := FScore(det, gt, w, h, r)
		for _, v := range []float64{s.F, s.Precision, s.Recall} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("trial %d: score out of [0,1]: %+v", trial, s)
			}
		}
		if s.F > 0 && (s.F > math.Max(s.Precision, s.Recall)+1e-12 || s.F < math.Min(s.Precision, s.Recall)-1e-12) {
			t.Fatalf("trial %d: F outside [min(P,R), max(P,R)]: %+v", trial, s)
		}
	}
}

func randomSegments(rng *rand.Rand, n, w, h int, outside float64) []imgbuf.Segment {
	segs := make([]imgbuf.Segment, n)
	for i := range segs {
		pad := outside * float64(max(w, h))
		c := func(n int) float64 { return rng.Float64()*(float64(n-1)+2*pad) - pad }
		segs[i] = seg(c(w), c(h), c(w), c(h))
	}
	return segs
}

func BenchmarkFScore640x480(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	gt := randomSegments(rng, 120, 640, 480, 0)
	det := randomSegments(rng, 300, 640, 480, 0)
	b.ReportAllocs()
	for b.Loop() {
		FScore(det, gt, 640, 480, 0)
	}
}

// Short segments, as a line detector returns them.
func BenchmarkFScore640x480Short(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	short := func(n int) []imgbuf.Segment {
		s := make([]imgbuf.Segment, n)
		for i := range s {
			x, y := rng.Float64()*639, rng.Float64()*479
			a, l := rng.Float64()*math.Pi, 10+rng.Float64()*70
			s[i] = seg(x, y, x+l*math.Cos(a), y+l*math.Sin(a))
		}
		return s
	}
	gt, det := short(120), short(300)
	b.ReportAllocs()
	for b.Loop() {
		FScore(det, gt, 640, 480, 0)
	}
}
