package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"bohost/host/imgbuf"
)

// softRef is soft LP_r and its precision counterpart computed literally as
// ../shared/notes/welding.md defines them, by brute force: every segment
// sampled at (x1 + t(x2 − x1), y1 + t(y2 − y1)), t = 0, 1/99, …, 1; for each
// point of one side, d = the Euclidean distance to the nearest sample point
// of the other side; the mean of clip(1 − d/r, 0, 1).
func softRef(det, gt []imgbuf.Segment, r float64) (lp, prec float64) {
	sample := func(segs []imgbuf.Segment) [][2]float64 {
		var out [][2]float64
		for _, s := range segs {
			for k := 0; k < 100; k++ {
				t := float64(k) / 99
				out = append(out, [2]float64{s.X1 + t*(s.X2-s.X1), s.Y1 + t*(s.Y2-s.Y1)})
			}
		}
		return out
	}
	mean := func(from, to [][2]float64) float64 {
		if len(to) == 0 {
			return 0
		}
		sum := 0.0
		for _, p := range from {
			best := math.Inf(1)
			for _, q := range to {
				dx, dy := p[0]-q[0], p[1]-q[1]
				best = math.Min(best, dx*dx+dy*dy)
			}
			d := math.Sqrt(best)
			sum += math.Max(0, math.Min(1, 1-d/r))
		}
		return sum / float64(len(from))
	}
	g, d := sample(gt), sample(det)
	return mean(g, d), mean(d, g)
}

// TestSoftLPHandComputed: r = 10.
// GT: (0,0)→(99,0), sampled at x = 0, 1, …, 99 (t = k/99), y = 0.
// Detection: (0,4)→(49.5,4), sampled at x = 0, 0.5, …, 49.5, y = 4.
//
// LP (GT → detections): GT points k = 0…49 have a detected point straight
// above at d = 4: 50 × (1 − 4/10) = 50 × 0.6 = 30. For k >= 50 the nearest is
// (49.5, 4), d = sqrt((k − 49.5)² + 16):
//
//	k=50 sqrt(16.25)=4.0311288741 → 0.5968871126
//	k=51 sqrt(18.25)=4.2720018727 → 0.5727998127
//	k=52 sqrt(22.25)=4.7169905660 → 0.5283009434
//	k=53 sqrt(28.25)=5.3150729064 → 0.4684927094
//	k=54 sqrt(36.25)=6.0207972894 → 0.3979202711
//	k=55 sqrt(46.25)=6.8007352544 → 0.3199264746
//	k=56 sqrt(58.25)=7.6321687612 → 0.2367831239
//	k=57 sqrt(72.25)=8.5          → 0.15
//	k=58 sqrt(88.25)=9.3941471140 → 0.0605852886
//	k=59 sqrt(106.25)=10.31 > r   → 0 (and 0 for k = 60…99)
//
// sum = 30 + 3.3316957362 = 33.3316957362, LP = 0.333316957362 (100 points).
//
// Precision (detections → GT): the 50 detected points at integer x lie 4
// above a GT point: 0.6 each; the 50 at x = m + 0.5 are sqrt(0.25 + 16) =
// 4.0311288741 from the nearest: 0.5968871126 each. Precision = (30 +
// 29.8443556293)/100 = 0.598443556293. Soft F = 2·LP·P/(LP + P) =
// 2 × 0.333316957362 × 0.598443556293 / 0.931760513655 = 0.428161...
func TestSoftLPHandComputed(t *testing.T) {
	t.Parallel()
	gt := []imgbuf.Segment{seg(0, 0, 99, 0)}
	det := []imgbuf.Segment{seg(0, 4, 49.5, 4)}
	s := SoftLP(det, gt, 100, 100, 10)
	tail := 0.0
	for _, v := range []float64{0.5968871125850725, 0.5727998127341235, 0.5283009433971698, 0.4684927093632675,
		0.3979202710603852, 0.31992647456322776, 0.23678312387631262, 0.15, 0.060585288597203246} {
		tail += v
	}
	wantLP := (30 + tail) / 100
	wantP := (30 + 50*(1-math.Sqrt(16.25)/10)) / 100
	wantF := 2 * wantLP * wantP / (wantLP + wantP)
	const tol = 1e-9
	if !near(wantLP, 0.333316957362, 1e-12) || !near(wantP, 0.598443556293, 1e-12) {
		t.Fatalf("the comment's arithmetic: LP %v, P %v", wantLP, wantP)
	}
	if !near(s.LP, wantLP, tol) || !near(s.Precision, wantP, tol) || !near(s.F, wantF, tol) {
		t.Fatalf("got LP=%.12f P=%.12f F=%.12f, want %.12f %.12f %.12f (tol %g)", s.LP, s.Precision, s.F, wantLP, wantP, wantF, tol)
	}
	if s.NGT != 1 || s.NDetected != 1 || s.R != 10 {
		t.Fatalf("counts/radius: %+v", s)
	}
	// A point exactly r away scores 0; just inside, a little.
	gt = []imgbuf.Segment{seg(0, 0, 0, 0)}
	if s := SoftLP([]imgbuf.Segment{seg(3, 4, 3, 4)}, gt, 10, 10, 5); s.LP != 0 || s.Precision != 0 || s.F != 0 {
		t.Errorf("d = r: %+v, want 0", s)
	}
	if s := SoftLP([]imgbuf.Segment{seg(3, 4, 3, 4)}, gt, 10, 10, 10); s.LP != 0.5 || s.Precision != 0.5 || s.F != 0.5 {
		t.Errorf("d = r/2: %+v, want 0.5", s)
	}
}

func TestSoftRadius(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w, h int
		want float64
	}{
		{3264, 2448, 20}, {2448, 3264, 20}, {1632, 1224, 10}, {640, 480, 20 * 800.0 / 4080}, {0, 10, 0}, {10, -1, 0},
	} {
		if got := SoftRadius(c.w, c.h); !near(got, c.want, 1e-12) {
			t.Errorf("SoftRadius(%d,%d) = %v, want %v", c.w, c.h, got, c.want)
		}
	}
	// r <= 0, NaN or +Inf select it.
	gt := []imgbuf.Segment{seg(0, 0, 100, 0)}
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if s := SoftLP(gt, gt, 3264, 2448, r); s.R != 20 || s.LP != 1 {
			t.Errorf("r=%v: %+v, want R 20 and LP 1", r, s)
		}
	}
}

func TestSoftLPEmptyAndNonFinite(t *testing.T) {
	t.Parallel()
	gt := []imgbuf.Segment{seg(0, 0, 50, 50)}
	if s := SoftLP(nil, gt, 100, 100, 5); s.NGT != 1 || s.NDetected != 0 || s.LP != 0 || s.Precision != 0 || s.F != 0 {
		t.Errorf("no detection: %+v, want NGT 1 and zeros", s)
	}
	if s := SoftLP(gt, nil, 100, 100, 5); s.NGT != 0 || s.NDetected != 1 || s.LP != 0 {
		t.Errorf("no GT: %+v, want NGT 0 (skip the image)", s)
	}
	if s := SoftLP(nil, nil, 0, 0, 0); s != (SoftScore{}) {
		t.Errorf("nothing, no size: %+v", s)
	}
	nan, inf := math.NaN(), math.Inf(1)
	bad := []imgbuf.Segment{seg(nan, 0, 1, 1), seg(0, inf, 1, 1), seg(-math.MaxFloat64, 0, math.MaxFloat64, 0)}
	if s := SoftLP(append(slices.Clone(bad), gt...), append(slices.Clone(bad), gt...), 100, 100, 5); s.NGT != 1 || s.NDetected != 1 || s.LP != 1 || s.Precision != 1 {
		t.Errorf("non-finite segments must be ignored: %+v", s)
	}
	if s := SoftLP(bad, gt, 100, 100, 5); s.NDetected != 0 || s.LP != 0 {
		t.Errorf("only non-finite detections: %+v", s)
	}
}

func TestSoftLPInvariances(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 50 {
		gt := randSegs(rng, 1+rng.IntN(5), 640, 480)
		det := randSegs(rng, rng.IntN(40), 640, 480)
		if trial%5 == 0 { // some detections near the GT
			for _, g := range gt {
				det = append(det, seg(g.X1+rng.NormFloat64()*3, g.Y1+rng.NormFloat64()*3, g.X2+rng.NormFloat64()*3, g.Y2+rng.NormFloat64()*3))
			}
		}
		r := 1 + 20*rng.Float64()
		base := SoftLP(det, gt, 640, 480, r)
		same := func(name string, s SoftScore, tol float64) {
			t.Helper()
			if !near(s.LP, base.LP, tol) || !near(s.Precision, base.Precision, tol) || !near(s.F, base.F, tol) {
				t.Fatalf("trial %d: %s changes the score: %+v vs %+v", trial, name, s, base)
			}
		}
		// Translation by a non-integer offset (rounding only).
		tr := func(segs []imgbuf.Segment, dx, dy float64) []imgbuf.Segment {
			out := make([]imgbuf.Segment, len(segs))
			for i, s := range segs {
				out[i] = seg(s.X1+dx, s.Y1+dy, s.X2+dx, s.Y2+dy)
			}
			return out
		}
		same("translation", SoftLP(tr(det, 123.25, -77.5), tr(gt, 123.25, -77.5), 640, 480, r), 1e-9)
		// Scaling coordinates and r together.
		sc := func(segs []imgbuf.Segment, k float64) []imgbuf.Segment {
			out := make([]imgbuf.Segment, len(segs))
			for i, s := range segs {
				out[i] = seg(s.X1*k, s.Y1*k, s.X2*k, s.Y2*k)
			}
			return out
		}
		same("scaling by 5.1 with r", SoftLP(sc(det, 5.1), sc(gt, 5.1), 640, 480, 5.1*r), 1e-9)
		// Reversing segments (same sample points in reverse order) and
		// permuting them: the sums change order only.
		rev := func(segs []imgbuf.Segment) []imgbuf.Segment {
			out := make([]imgbuf.Segment, len(segs))
			for i, s := range segs {
				out[len(segs)-1-i] = seg(s.X2, s.Y2, s.X1, s.Y1)
			}
			return out
		}
		same("reversal and permutation", SoftLP(rev(det), rev(gt), 640, 480, r), 1e-12)
		// Duplicating every detection changes neither side's mean.
		same("duplicate detections", SoftLP(append(slices.Clone(det), det...), gt, 640, 480, r), 1e-12)
		// Swapping roles swaps LP and precision.
		if len(det) > 0 {
			sw := SoftLP(gt, det, 640, 480, r)
			if !near(sw.LP, base.Precision, 1e-12) || !near(sw.Precision, base.LP, 1e-12) {
				t.Fatalf("trial %d: swapping det and gt: %+v vs %+v", trial, sw, base)
			}
		}
		// Scoring the GT against itself is 1.
		if s := SoftLP(gt, gt, 640, 480, r); s.LP != 1 || s.Precision != 1 || s.F != 1 {
			t.Fatalf("self score %+v", s)
		}
	}
}

func randSegs(rng *rand.Rand, n int, w, h float64) []imgbuf.Segment {
	out := make([]imgbuf.Segment, n)
	for i := range out {
		out[i] = seg(rng.Float64()*w, rng.Float64()*h, rng.Float64()*w, rng.Float64()*h)
		switch rng.IntN(10) {
		case 0: // a point
			out[i].X2, out[i].Y2 = out[i].X1, out[i].Y1
		case 1: // partly outside the image
			out[i].X2 = -0.5*w + 2*w*rng.Float64()
		case 2: // short
			out[i].X2, out[i].Y2 = out[i].X1+3*rng.NormFloat64(), out[i].Y1+3*rng.NormFloat64()
		}
	}
	return out
}

// TestSoftLPMatchesBruteForce compares the grid search with the literal
// definition on random inputs, including grids whose cells must grow
// beyond r (many points spread far apart with a tiny r) and collinear
// points (one-row or one-column grids).
func TestSoftLPMatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 120 {
		w, h := 640.0, 480.0
		if trial%4 == 3 {
			w, h = 3264, 2448
		}
		nd := rng.IntN(60)
		if trial%10 == 9 {
			nd = 400
		}
		gt := randSegs(rng, 1+rng.IntN(6), w, h)
		det := randSegs(rng, nd, w, h)
		r := []float64{0.3, 2, 3, 20, 60, 1000}[trial%6]
		if trial%7 == 0 { // vertical and horizontal only
			for i := range det {
				det[i].X2 = det[i].X1
			}
			for i := range gt {
				gt[i].Y2 = gt[i].Y1
			}
		}
		if trial%11 == 0 { // far apart: a huge bounding box
			det = append(det, seg(-1e7, 5, -1e7+10, 5), seg(1e9, 1e8, 1e9, 1e8+1))
		}
		s := SoftLP(det, gt, int(w), int(h), r)
		lp, p := softRef(det, gt, r)
		if !near(s.LP, lp, 1e-12) || !near(s.Precision, p, 1e-12) {
			t.Fatalf("trial %d (r=%g, %d det, %d gt): LP %v vs reference %v, precision %v vs %v", trial, r, len(det), len(gt), s.LP, lp, s.Precision, p)
		}
	}
}

func TestSoftLPAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gt := randSegs(rng, 4, 640, 480)
	det := randSegs(rng, 300, 640, 480)
	SoftLP(det, gt, 640, 480, 0)
	if n := testing.AllocsPerRun(20, func() { SoftLP(det, gt, 640, 480, 0) }); n > 0 {
		t.Errorf("SoftLP allocates %v times per call in steady state", n)
	}
}

func TestMeanSoft(t *testing.T) {
	t.Parallel()
	m, n := MeanSoft([]SoftScore{{LP: 1, Precision: 0.5, F: 2.0 / 3, R: 20, NGT: 2, NDetected: 3}, {NGT: 0, LP: 9}, {LP: 0, Precision: 0.5, R: 10, NGT: 1}})
	if n != 2 || m.LP != 0.5 || m.Precision != 0.5 || !near(m.F, 1.0/3, 1e-15) || m.R != 15 || m.NGT != 3 || m.NDetected != 3 {
		t.Fatalf("MeanSoft = %+v, %d", m, n)
	}
}

// BenchmarkSoftLP: 4 GT segments (400 points) against 1,000 detections
// (100,000 points) on a 3264 x 2448 image at r = 20.
func BenchmarkSoftLP(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	gt := randSegs(rng, 4, 3264, 2448)
	det := randSegs(rng, 1000, 3264, 2448)
	b.ReportAllocs()
	for b.Loop() {
		SoftLP(det, gt, 3264, 2448, 20)
	}
}
