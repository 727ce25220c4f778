package airline

import (
	"context"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

var ctx = context.Background()

func mustNew(t testing.TB, o Options) *Evaluator {
	t.Helper()
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// near reports whether s matches want in either direction within tol px at both ends.
func segNear(s, want imgbuf.Segment, tol float64) bool {
	d := func(ax, ay, bx, by float64) float64 { return math.Hypot(ax-bx, ay-by) }
	f := math.Max(d(s.X1, s.Y1, want.X1, want.Y1), d(s.X2, s.Y2, want.X2, want.Y2))
	r := math.Max(d(s.X1, s.Y1, want.X2, want.Y2), d(s.X2, s.Y2, want.X1, want.Y1))
	return math.Min(f, r) <= tol
}

func TestSingleStepEdge(t *testing.T) {
	// Dark left half (x < 100), bright right half: the Sobel maximum after NMS
	// is column 100 (Canny's tie rule keeps the second of the two equal
	// columns 99 and 100). CRG never expands candidates on rows <= 1 or
	// >= H-1, so the segment runs from y = 1 to y = H-2: the first and last
	// reachable rows (a candidate at y = 2 adds row 1, one at H-2 adds row H-1;
	// NMS leaves rows 0 and H-1 empty).
	const W, H = 200, 150
	img := imgbuf.NewGray(W, H)
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			img.Pix[y*W+x] = 40
			if x >= 100 {
				img.Pix[y*W+x] = 200
			}
		}
	}
	want := imgbuf.Segment{X1: 100, Y1: 1, X2: 100, Y2: H - 2}
	for _, sp := range []string{SpaceAirline8, SpaceClassical} {
		segs, err := mustNew(t, Options{Space: sp}).Detect(ctx, nil, img)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || !segNear(segs[0], want, 1) {
			t.Errorf("%s: got %v, want one segment %v within 1 px", sp, segs, want)
		}
	}
}

func TestStripeGivesTwoBoundaryLines(t *testing.T) {
	// A bright stripe 8 px wide from x = 40 to 160: a line detector on an
	// edge map sees its two boundaries (y ≈ 71.3 and 79.3, NMS rounds to a
	// pixel row), and the 8-px end caps fall below the 15-px minimum length.
	img := uniform(200, 150, 50)
	fillPoly(img, [][2]float64{{40, 71.3}, {160, 71.3}, {160, 79.3}, {40, 79.3}}, 210, 50)
	segs, err := mustNew(t, Options{}).Detect(ctx, nil, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 {
		t.Fatalf("got %d segments %v, want 2", len(segs), segs)
	}
	for _, wy := range []float64{71.3, 79.3} {
		ok := false
		for _, s := range segs {
			ok = ok || segNear(s, imgbuf.Segment{X1: 40, Y1: wy, X2: 160, Y2: wy}, 3.5)
		}
		if !ok {
			t.Errorf("no segment along y = %g from x = 40 to 160 (±3.5 px; the blurred corners shorten each end by 2-3 px): %v", wy, segs)
		}
	}
}

func TestEmptyImage(t *testing.T) {
	for _, sp := range []string{SpaceAirline8, SpaceClassical} {
		segs, err := mustNew(t, Options{Space: sp}).Detect(ctx, nil, uniform(320, 240, 128))
		if err != nil || len(segs) != 0 {
			t.Errorf("%s: uniform image gave %d segments, err %v; want none", sp, len(segs), err)
		}
	}
}

func rectGT(x0, y0, x1, y1 float64) []imgbuf.Segment {
	return []imgbuf.Segment{{X1: x0, Y1: y0, X2: x1, Y2: y0}, {X1: x1, Y1: y0, X2: x1, Y2: y1},
		{X1: x1, Y1: y1, X2: x0, Y2: y1}, {X1: x0, Y1: y1, X2: x0, Y2: y0}}
}

func TestRectangle(t *testing.T) {
	img := uniform(240, 180, 60)
	fillPoly(img, [][2]float64{{60.3, 40.3}, {180.3, 40.3}, {180.3, 140.3}, {60.3, 140.3}}, 190, 60)
	gt := rectGT(60.3, 40.3, 180.3, 140.3)
	for _, sp := range []string{SpaceAirline8, SpaceClassical} {
		segs, err := mustNew(t, Options{Space: sp}).Detect(ctx, nil, img)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 4 {
			t.Fatalf("%s: %d segments %v, want 4", sp, len(segs), segs)
		}
		for _, g := range gt {
			ok := false
			for _, s := range segs {
				ok = ok || segNear(s, g, 4) // corners are rounded by the blur
			}
			if !ok {
				t.Errorf("%s: side %v not found within 4 px in %v", sp, g, segs)
			}
		}
	}
}

func rotRect(cx, cy, hw, hh, deg float64) [][2]float64 {
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	var p [][2]float64
	for _, q := range [][2]float64{{-hw, -hh}, {hw, -hh}, {hw, hh}, {-hw, hh}} {
		p = append(p, [2]float64{cx + c*q[0] - s*q[1], cy + s*q[0] + c*q[1]})
	}
	return p
}

func TestRotationInvariance(t *testing.T) {
	// A 120 x 70 rectangle at several angles: four segments each time, and
	// F_3 against its exact sides >= 0.9 (the step lies between pixel centres,
	// so the detection is within a pixel of the GT line).
	e := mustNew(t, Options{})
	for _, deg := range []float64{0, 10, 22.5, 30, 45, 60, 77, 90, 135} {
		img := uniform(240, 200, 70)
		p := rotRect(120, 100, 60, 35, deg)
		fillPoly(img, p, 200, 70)
		var gt []imgbuf.Segment
		for i := range p {
			q := p[(i+1)%4]
			gt = append(gt, imgbuf.Segment{X1: p[i][0], Y1: p[i][1], X2: q[0], Y2: q[1]})
		}
		rec, err := e.Eval(ctx, nil, img, gt)
		if err != nil {
			t.Fatal(err)
		}
		if rec.NLines < 4 || rec.NLines > 6 || rec.F < 0.9 {
			t.Errorf("%g°: %d lines, F %.3f (P %.3f R %.3f); want 4-6 lines and F >= 0.9", deg, rec.NLines, rec.F, rec.Precision, rec.Recall)
		}
	}
}

func TestDeterministic(t *testing.T) {
	img := scene(320, 240, 25, 3)
	e := mustNew(t, Options{Seed: 11})
	ref, err := e.Detect(ctx, nil, img)
	if err != nil || len(ref) == 0 {
		t.Fatalf("detect: %d segments, %v", len(ref), err)
	}
	// Concurrent calls share the pool and must give the same answer.
	var wg sync.WaitGroup
	res := make([][]imgbuf.Segment, 4)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], _ = e.Detect(ctx, nil, img)
		}()
	}
	wg.Wait()
	for i, r := range res {
		if len(r) != len(ref) {
			t.Fatalf("run %d: %d segments, want %d", i, len(r), len(ref))
		}
		for j := range r {
			if r[j] != ref[j] {
				t.Fatalf("run %d segment %d: %v != %v", i, j, r[j], ref[j])
			}
		}
	}
	// A different seed may reorder RANSAC draws but must stay valid.
	other, err := mustNew(t, Options{Seed: 12}).Detect(ctx, nil, img)
	if err != nil || len(other) == 0 {
		t.Fatalf("seed 12: %d segments, %v", len(other), err)
	}
}

func TestParamsValidation(t *testing.T) {
	e := mustNew(t, Options{})
	if m, err := e.Params(nil); err != nil || m["w_q"] != 12 || len(m) != 8 {
		t.Fatalf("defaults: %v %v", m, err)
	}
	x := Defaults(e.Space())
	cases := []struct {
		name string
		x    []float64
		want string
	}{
		{"short", x[:7], "x has 7 values, the space has 8"},
		{"nan", with(x, 1, math.NaN()), "sim_thresh_q (x[1]) must be finite in [0.5, 0.99], got NaN"},
		{"low", with(x, 0, -24), "edge_thresh_q (x[0]) must be in [-23, 7], got -24"},
		{"high", with(x, 7, 21), "w_qg (x[7]) must be in [1, 20], got 21"},
		{"ratio", with(x, 5, 0.2), "pixel_ratio_qg (x[5]) must be in [0.01, 0.15], got 0.2"},
	}
	for _, c := range cases {
		_, err := e.Params(c.x)
		if err == nil || !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want bad_arg containing %q", c.name, err, c.want)
		}
		if _, err := e.Detect(ctx, c.x, uniform(8, 8, 0)); err == nil {
			t.Errorf("%s: Detect accepted a bad x", c.name)
		}
	}
	// Integers are rounded in the classical space.
	ec := mustNew(t, Options{Space: SpaceClassical})
	xc := Defaults(ec.Space())
	xc[3] = 7.4
	if m, err := ec.Params(xc); err != nil || m["orientations"] != 7 {
		t.Errorf("orientations 7.4: %v %v, want 7", m["orientations"], err)
	}
	if _, err := Space("nope"); err == nil {
		t.Error("unknown space accepted")
	}
	bad := []struct {
		o    Options
		want string
	}{
		{Options{Space: "x"}, "Space"},
		{Options{Edge: "learned"}, "EdgeFunc"},
		{Options{ROI: "func"}, "ROIFunc"},
		{Options{K: 8}, "K must be odd"},
		{Options{T: 1}, "T must be"},
		{Options{T: 99}, "T must be"},
		{Options{MinStraightness: 101}, "MinStraightness"},
		{Options{BlurSigma: math.NaN()}, "BlurSigma"},
		{Options{Boxes: []imgbuf.Box{{X0: 5, X1: 5, Y1: 3}}}, "Boxes[0]"},
		{Options{Fusion: "vote"}, "Fusion"},
	}
	for _, b := range bad {
		if _, err := New(b.o); err == nil || !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: err %v, want bad_arg naming %s", b.want, err, b.want)
		}
	}
}

func with(x []float64, i int, v float64) []float64 {
	y := append([]float64(nil), x...)
	y[i] = v
	return y
}

func TestExtremes(t *testing.T) {
	// Corners of the airline8 space on tiny and ordinary images: no error, no panic.
	sp, _ := Space(SpaceAirline8)
	lo, hi := make([]float64, len(sp)), make([]float64, len(sp))
	for i, p := range sp {
		lo[i], hi[i] = p.Lo, p.Hi
	}
	mixed := append(append([]float64(nil), lo[:3]...), hi[3:]...)
	imgs := map[string]*imgbuf.Gray{
		"1x1": uniform(1, 1, 9), "1x40": scene(1, 40, 2, 1), "40x1": scene(40, 1, 2, 1), "2x2": scene(2, 2, 1, 1),
		"5x5": scene(5, 5, 2, 1), "7x300": scene(7, 300, 5, 2), "noise": noiseImage(160, 120, 5), "scene": scene(160, 120, 10, 4),
	}
	e := mustNew(t, Options{})
	for name, img := range imgs {
		for _, x := range [][]float64{lo, hi, mixed, nil} {
			segs, err := e.Detect(ctx, x, img)
			if err != nil {
				t.Fatalf("%s x=%v: %v", name, x, err)
			}
			for _, s := range segs {
				if !finiteSeg(s) {
					t.Fatalf("%s: non-finite segment %v", name, s)
				}
			}
		}
	}
	// edgeThresh -23 on noise floods the mask; the stats still balance.
	r, err := e.Run(ctx, lo, imgs["noise"], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stats
	if st.Seeds != st.Accepted+st.DroppedSmall+st.DroppedLarge+st.Degenerate {
		t.Errorf("stats do not balance: %+v", st)
	}
	// The classical space at its corners.
	ec := mustNew(t, Options{Space: SpaceClassical})
	cs := ec.Space()
	for _, pick := range []func(Param) float64{func(p Param) float64 { return p.Lo }, func(p Param) float64 { return p.Hi }} {
		x := make([]float64, len(cs))
		for i, p := range cs {
			x[i] = pick(p)
		}
		for name, img := range imgs {
			if _, err := ec.Detect(ctx, x, img); err != nil {
				t.Fatalf("classical %s x=%v: %v", name, x, err)
			}
		}
	}
}

func noiseImage(w, h int, seed uint64) *imgbuf.Gray {
	g := uniform(w, h, 128)
	addNoise(g, 40, seed)
	return g
}

func TestLargeImage(t *testing.T) {
	// A real 1000x1000 scene in the default run; 4000x3000 with BOHOST_LONG=1.
	sizes := [][2]int{{1000, 1000}}
	if os.Getenv("BOHOST_LONG") == "1" {
		sizes = append(sizes, [2]int{4000, 3000})
	}
	e := mustNew(t, Options{})
	for _, sz := range sizes {
		img := scene(sz[0], sz[1], 60, 9)
		rec, err := e.Eval(ctx, nil, img, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rec.NLines < 20 {
			t.Errorf("%dx%d: only %d lines on a scene of 60 quadrilaterals", sz[0], sz[1], rec.NLines)
		}
		t.Logf("%dx%d: %d lines in %.0f ms", sz[0], sz[1], rec.NLines, rec.Ms)
	}
	// Over MaxPixels: a clean oom error, nothing allocated.
	_, err := mustNew(t, Options{MaxPixels: 100}).Detect(ctx, nil, uniform(20, 20, 0))
	if !errs.Is(err, errs.OOM) || !strings.Contains(err.Error(), "MaxPixels 100") {
		t.Errorf("over MaxPixels: %v", err)
	}
}

func TestBadImages(t *testing.T) {
	e := mustNew(t, Options{})
	for _, img := range []*imgbuf.Gray{nil, {W: 3, H: 3}, {W: -1, H: 2, Pix: []uint8{1, 2}}, {W: 0, H: 0}} {
		if _, err := e.Detect(ctx, nil, img); !errs.Is(err, errs.BadArg) {
			t.Errorf("image %+v: err %v, want bad_arg", img, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Detect(cctx, nil, scene(64, 64, 3, 1)); !errs.Is(err, errs.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestLearnedEdges(t *testing.T) {
	img := scene(200, 160, 12, 5)
	cls := mustNew(t, Options{})
	want, _ := cls.Detect(ctx, nil, img)
	// Injecting the classical map as "learned logits" gives the same lines.
	inj := func(g *imgbuf.Gray) (*imgbuf.Float, error) {
		return ClassicalEdges(g, EdgeParams{Sigma: 1, NMS: true}), nil
	}
	got, err := mustNew(t, Options{Edge: "learned", EdgeFunc: inj, SeedStride: 1}).Detect(ctx, nil, img)
	if err != nil || len(got) != len(want) {
		t.Fatalf("learned: %d segments (%v), want %d", len(got), err, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("segment %d: %v != %v", i, got[i], want[i])
		}
	}
	// Wrong size and NaN maps.
	wrong := func(g *imgbuf.Gray) (*imgbuf.Float, error) { return imgbuf.NewFloat(g.W+1, g.H), nil }
	if _, err := mustNew(t, Options{Edge: "learned", EdgeFunc: wrong}).Detect(ctx, nil, img); !errs.Is(err, errs.Failed) {
		t.Errorf("wrong-size edge map: %v, want failed", err)
	}
	nan := func(g *imgbuf.Gray) (*imgbuf.Float, error) {
		f := imgbuf.NewFloat(g.W, g.H)
		for i := range f.Pix {
			f.Pix[i] = float32(math.NaN())
			if i%3 == 0 {
				f.Pix[i] = float32(math.Inf(1))
			}
		}
		return f, nil
	}
	if _, err := mustNew(t, Options{Edge: "learned", EdgeFunc: nan}).Detect(ctx, nil, img); err != nil {
		t.Errorf("NaN/Inf edge map: %v", err)
	}
}

func TestROI(t *testing.T) {
	img := uniform(300, 200, 60)
	fillPoly(img, [][2]float64{{20.3, 20.3}, {120.3, 20.3}, {120.3, 90.3}, {20.3, 90.3}}, 200, 60)
	fillPoly(img, [][2]float64{{170.3, 110.3}, {280.3, 110.3}, {280.3, 180.3}, {170.3, 180.3}}, 200, 60)
	e := mustNew(t, Options{})
	all, _ := e.Detect(ctx, nil, img)
	if len(all) != 8 {
		t.Fatalf("whole image: %d segments, want 8", len(all))
	}
	box := []imgbuf.Box{{X0: 150, Y0: 100, X1: 300, Y1: 200}}
	in, err := e.DetectIn(ctx, nil, img, box)
	if err != nil || len(in) != 4 {
		t.Fatalf("box: %d segments (%v), want 4", len(in), err)
	}
	for _, s := range in {
		if s.X1 < 150 || s.X2 < 150 || s.Y1 < 100 || s.Y2 < 100 {
			t.Errorf("segment %v outside the box (coordinates must be in the image frame)", s)
		}
	}
	roiF := func(*imgbuf.Gray) ([]imgbuf.Box, error) { return box, nil }
	viaF, _ := mustNew(t, Options{ROI: "func", ROIFunc: roiF}).Detect(ctx, nil, img)
	viaB, _ := mustNew(t, Options{ROI: "boxes", Boxes: box}).Detect(ctx, nil, img)
	if len(viaF) != 4 || len(viaB) != 4 {
		t.Errorf("ROI func %d, boxes %d segments; want 4 each", len(viaF), len(viaB))
	}
	gt := rectGT(20.3, 20.3, 120.3, 90.3)
	rec, err := mustNew(t, Options{ROI: "gt"}).Eval(ctx, nil, img, gt)
	if err != nil || rec.NLines != 4 || rec.F < 0.9 {
		t.Errorf("ROI gt: %+v %v; want 4 lines, F >= 0.9", rec, err)
	}
	if _, err := mustNew(t, Options{ROI: "gt"}).Detect(ctx, nil, img); !errs.Is(err, errs.BadArg) {
		t.Errorf("ROI gt without GT: %v", err)
	}
	// Boxes outside the image are clipped away.
	if s, err := e.DetectIn(ctx, nil, img, []imgbuf.Box{{X0: 400, Y0: 0, X1: 500, Y1: 10}, {X0: -50, Y0: -50, X1: 2, Y1: 2}}); err != nil || len(s) != 0 {
		t.Errorf("boxes outside: %v %v", s, err)
	}
}

func TestFusionModes(t *testing.T) {
	img := scene(320, 240, 20, 8)
	for _, f := range []string{"lines", "seam", "union"} {
		segs, err := mustNew(t, Options{Fusion: f}).Detect(ctx, nil, img)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == "seam" && len(segs) != 1 {
			t.Errorf("seam: %d lines, want 1 per ROI", len(segs))
		}
		if len(segs) == 0 {
			t.Errorf("%s: no lines", f)
		}
	}
	// Weights act: with w = 1 single-preset lines (weight 0.6) and even agreed
	// lines (weight 2) fall below the default minimum weight 4 so fewer lines remain.
	x := Defaults(mustNew(t, Options{}).Space())
	e := mustNew(t, Options{})
	hiW, _ := e.Detect(ctx, x, img)
	loW, _ := e.Detect(ctx, with(with(x, 6, 1), 7, 1), img)
	if !(len(loW) < len(hiW)) {
		t.Errorf("weights 1,1 gave %d lines, weights 10,10 %d; want fewer", len(loW), len(hiW))
	}
	// Other detectors contribute weight-1 pixels.
	other := func(*imgbuf.Gray) ([]imgbuf.Segment, error) {
		return []imgbuf.Segment{{X1: 0, Y1: 0, X2: 50, Y2: 50}}, nil
	}
	if _, err := mustNew(t, Options{OtherFunc: other}).Detect(ctx, nil, img); err != nil {
		t.Error(err)
	}
}

func TestFusionWeights(t *testing.T) {
	cases := []struct {
		bits uint8
		want float64
	}{{0, 0}, {srcOther, 1}, {srcQ, 0.6 * 7.5}, {srcQG, 0.6 * 3}, {srcQ | srcOther, 7.5}, {srcQG | srcOther, 3}, {srcQ | srcQG, 10.5}, {srcQ | srcQG | srcOther, 10.5}}
	for _, c := range cases {
		if got := FusionWeights(c.bits, 7.5, 3, false); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("bits %b: %g, want %g", c.bits, got, c.want)
		}
	}
	if got := FusionWeights(srcQ, 7.5, 3, true); got != 4 {
		t.Errorf("integer Q only: %g, want floor(4.5) = 4", got)
	}
}

func TestMemoryFlat(t *testing.T) {
	// The evaluator is called thousands of times: after warm-up the heap must not grow.
	e := mustNew(t, Options{})
	img := scene(320, 240, 20, 6)
	gt := []imgbuf.Segment{{X1: 0, Y1: 0, X2: 100, Y2: 100}}
	for i := 0; i < 5; i++ {
		e.Eval(ctx, nil, img, gt)
	}
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	for i := 0; i < 60; i++ {
		if _, err := e.Eval(ctx, nil, img, gt); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	if grow := int64(b.HeapAlloc) - int64(a.HeapAlloc); grow > 4<<20 {
		t.Errorf("heap grew by %d bytes over 60 evaluations", grow)
	}
}

func TestEvalUsesMetric(t *testing.T) {
	img := uniform(240, 180, 60)
	fillPoly(img, [][2]float64{{60.3, 40.3}, {180.3, 40.3}, {180.3, 140.3}, {60.3, 140.3}}, 190, 60)
	gt := rectGT(60.3, 40.3, 180.3, 140.3)
	e := mustNew(t, Options{})
	rec, err := e.Eval(ctx, nil, img, gt)
	if err != nil {
		t.Fatal(err)
	}
	segs, _ := e.Detect(ctx, nil, img)
	want := metric.FScore(segs, gt, 240, 180, 0)
	if rec.Score != want || rec.NLines != len(segs) || !(rec.Ms > 0) {
		t.Errorf("record %+v, want score %+v and %d lines", rec, want, len(segs))
	}
}
