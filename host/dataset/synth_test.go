package dataset

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

func TestSyntheticDeterministic(t *testing.T) {
	o := SynthOptions{N: 6, Width: 160, Height: 120, Seed: 3}
	a, _ := Synthetic(o)
	b, _ := Synthetic(o)
	test, _ := Synthetic(SynthOptions{N: 6, Width: 160, Height: 120, Seed: 3, Split: "test"})
	other, _ := Synthetic(SynthOptions{N: 6, Width: 160, Height: 120, Seed: 4})
	if test.Len() != 3 || test.Item(0).ID != "synth-0003" || test.Item(0).Index != 0 {
		t.Fatalf("test split: len %d, first %+v", test.Len(), test.Item(0))
	}
	differ := 0
	for i := 0; i < a.Len(); i++ {
		ia, ib, io := a.Item(i), b.Item(i), other.Item(i)
		if !slices.Equal(ia.Lines, ib.Lines) {
			t.Fatalf("scene %d: GT differs between identical constructions", i)
		}
		ga, _ := a.Image(i)
		gb, _ := b.Image(i)
		if !bytes.Equal(ga.Pix, gb.Pix) {
			t.Fatalf("scene %d: pixels differ between identical constructions", i)
		}
		if i >= 3 {
			gt, _ := test.Image(i - 3)
			if !bytes.Equal(ga.Pix, gt.Pix) || !slices.Equal(ia.Lines, test.Item(i-3).Lines) {
				t.Errorf("scene %d differs when opened through the test split", i)
			}
		}
		if go_, _ := other.Image(i); !bytes.Equal(ga.Pix, go_.Pix) || !slices.Equal(ia.Lines, io.Lines) {
			differ++
		}
		if ia.Path != "" || ia.ID != synthID(i) {
			t.Errorf("item %d: %+v", i, ia)
		}
	}
	if differ != a.Len() {
		t.Errorf("seed 3 vs 4: only %d of %d scenes differ", differ, a.Len())
	}
}

func TestSyntheticValidate(t *testing.T) {
	for _, c := range []struct {
		o    SynthOptions
		want string
	}{
		{SynthOptions{N: -1}, "N must be in [1, 100000], got -1"},
		{SynthOptions{Width: 8}, "Width must be in [32, 4096], got 8"},
		{SynthOptions{Height: 5000}, "Height must be in [32, 4096], got 5000"},
		{SynthOptions{Split: "val"}, `Split must be "", "all", "train" or "test", got "val"`},
		{SynthOptions{N: 1, Split: "test"}, `Split "test" is empty for N=1`},
	} {
		_, err := Synthetic(c.o)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want bad_arg with %q", c.o, err, c.want)
		}
	}
	d, err := Synthetic(SynthOptions{N: 2, Width: 64, Height: 48})
	if err != nil || d.Len() != 2 || d.Split() != "all" {
		t.Fatalf("%v %d", err, d.Len())
	}
}

// plain is a flat-lit spec for hand-built scenes.
func plain(w, h int, polys ...poly) *spec {
	return &spec{w: w, h: h, bgTop: 50, bgBot: 50, polys: polys, gain: 1, contr: 1, minContrast: 10, minLen: 5}
}

func rect(x0, y0, x1, y1, v float64) poly {
	return poly{[]vec{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, v}
}

// endpointsNear reports whether s joins p and q (either way) within tol.
func endpointsNear(s imgbuf.Segment, p, q vec, tol float64) bool {
	d := func(x, y float64, v vec) float64 { return math.Hypot(x-v.X, y-v.Y) }
	return (d(s.X1, s.Y1, p) <= tol && d(s.X2, s.Y2, q) <= tol) || (d(s.X1, s.Y1, q) <= tol && d(s.X2, s.Y2, p) <= tol)
}

func TestGroundTruthExact(t *testing.T) {
	// One rectangle: exactly its 4 edges, ends within 1 px of the corners.
	sp := plain(100, 80, rect(20.3, 15.6, 70.2, 60.5, 200))
	gt := sp.groundTruth(sp.renderBase())
	c := []vec{{20.3, 15.6}, {70.2, 15.6}, {70.2, 60.5}, {20.3, 60.5}}
	if len(gt) != 4 {
		t.Fatalf("rectangle: %d segments %v, want 4", len(gt), gt)
	}
	for k := 0; k < 4; k++ {
		if !endpointsNear(gt[k], c[k], c[(k+1)%4], 1) {
			t.Errorf("edge %d: %+v, want %v-%v within 1 px", k, gt[k], c[k], c[(k+1)%4])
		}
	}
	// Occlusion: a later rectangle covering the right half hides the first's
	// right edge and parts of its top and bottom; its own edges with the
	// same shade as the background (left of x=45 inside the first) count.
	sp = plain(100, 80, rect(20, 20, 60, 60, 200), rect(45, 10, 90, 70, 120))
	gt = sp.groundTruth(sp.renderBase())
	for _, s := range gt {
		if math.Abs(s.X1-60) < 1 && math.Abs(s.X2-60) < 1 {
			t.Errorf("occluded edge x=60 reported: %+v", s)
		}
		for _, x := range []float64{s.X1, s.X2} {
			if (math.Abs(s.Y1-20) < 1 && math.Abs(s.Y2-20) < 1) && x > 46 {
				t.Errorf("top edge of the first rectangle runs under the second: %+v", s)
			}
		}
	}
	// Low contrast (5 grey levels) is not ground truth; 12 is.
	for _, c := range []struct {
		v    float64
		want int
	}{{55, 0}, {62, 4}} {
		sp = plain(100, 80, rect(20, 20, 60, 60, c.v))
		if gt := sp.groundTruth(sp.renderBase()); len(gt) != c.want {
			t.Errorf("contrast %v: %d segments, want %d", c.v-50, len(gt), c.want)
		}
	}
	// Texture alone produces no ground truth, and hides the edges under it.
	sp = plain(100, 80)
	sp.blobs = []blob{{cx: 50, cy: 40, rx: 30, ry: 25, mean: 120, amp: 40, grit: 1}}
	if gt := sp.groundTruth(sp.renderBase()); len(gt) != 0 {
		t.Errorf("texture only: %d segments, want 0", len(gt))
	}
	sp = plain(100, 80, rect(10, 10, 90, 70, 200))
	sp.blobs = []blob{{cx: 10, cy: 40, rx: 40, ry: 40, mean: 120, amp: 40, grit: 1}}
	for _, s := range sp.groundTruth(sp.renderBase()) {
		if math.Abs(s.X1-10) < 1 && math.Abs(s.X2-10) < 1 {
			t.Errorf("edge under the texture's core reported: %+v", s)
		}
	}
}

// Every synthetic GT segment lies on a real edge of the rendered image: the
// 1-px band along it has a clearly higher gradient than the image overall,
// and GT is inside the image.
func TestSyntheticGTOnEdges(t *testing.T) {
	d, err := Synthetic(SynthOptions{N: 6, Width: 320, Height: 240, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < d.Len(); i++ {
		it := d.Item(i)
		if len(it.Lines) < 5 {
			t.Errorf("%s: only %d GT segments", it.ID, len(it.Lines))
		}
		sp := d.gen.spec(i)
		base := sp.renderBase()
		grad := func(x, y int) float64 {
			if x < 1 || y < 1 || x >= sp.w-1 || y >= sp.h-1 {
				return 0
			}
			gx := base[y*sp.w+x+1] - base[y*sp.w+x-1]
			gy := base[(y+1)*sp.w+x] - base[(y-1)*sp.w+x]
			return math.Hypot(float64(gx), float64(gy)) / 2
		}
		var all float64
		for y := 0; y < sp.h; y++ {
			for x := 0; x < sp.w; x++ {
				all += grad(x, y)
			}
		}
		all /= float64(sp.w * sp.h)
		for k, s := range it.Lines {
			if min(s.X1, s.X2) < 0 || max(s.X1, s.X2) > float64(sp.w-1) || min(s.Y1, s.Y2) < 0 || max(s.Y1, s.Y2) > float64(sp.h-1) {
				t.Errorf("%s line %d outside the image: %+v", it.ID, k, s)
			}
			var on float64
			n := int(s.Len()) + 1
			for j := 0; j <= n; j++ {
				f := float64(j) / float64(n)
				x, y := s.X1+f*(s.X2-s.X1), s.Y1+f*(s.Y2-s.Y1)
				best := 0.0 // max over the 3x3 neighbourhood: the AA edge is between pixels
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						best = max(best, grad(int(math.Round(x))+dx, int(math.Round(y))+dy))
					}
				}
				on += best
			}
			on /= float64(n + 1)
			if on < 3 || on < 2*all {
				t.Errorf("%s line %d %+v: mean gradient %.2f on the line, %.2f over the image", it.ID, k, s, on, all)
			}
		}
		if s := metric.FScore(it.Lines, it.Lines, sp.w, sp.h, 0); s.F != 1 {
			t.Errorf("%s: GT vs itself %+v", it.ID, s)
		}
	}
}

// The default set varies in kind and environment, so robust tuning matters.
func TestSyntheticVariety(t *testing.T) {
	g := &generator{opts: SynthOptions{N: 24, Width: 640, Height: 480}.withDefaults()}
	kinds := map[string]int{}
	var minNoise, maxNoise, minContr, maxContr, minGain, maxGain = 99.0, 0.0, 99.0, 0.0, 99.0, 0.0
	blurred, sharp := 0, 0
	for i := 0; i < 24; i++ {
		sp := g.spec(i)
		kinds[sp.kind]++
		minNoise, maxNoise = min(minNoise, sp.noise), max(maxNoise, sp.noise)
		minContr, maxContr = min(minContr, sp.contr), max(maxContr, sp.contr)
		minGain, maxGain = min(minGain, sp.gain), max(maxGain, sp.gain)
		if sp.blur > 1 {
			blurred++
		} else if sp.blur == 0 {
			sharp++
		}
	}
	if len(kinds) != 3 || maxNoise < 6 || minNoise > 1.5 || maxContr-minContr < 0.4 || maxGain/minGain < 1.6 || blurred == 0 || sharp == 0 {
		t.Errorf("little variety: kinds %v noise [%.1f,%.1f] contrast [%.2f,%.2f] gain [%.2f,%.2f] blurred %d sharp %d",
			kinds, minNoise, maxNoise, minContr, maxContr, minGain, maxGain, blurred, sharp)
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	d, _ := Synthetic(SynthOptions{N: 3, Width: 64, Height: 48, Seed: 5, Split: "train"})
	dir := t.TempDir()
	if err := d.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Open(dir, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != 2 {
		t.Fatalf("reopened %d items, want 2", back.Len())
	}
	for i := 0; i < 2; i++ {
		a, _ := d.Image(i)
		b, _ := back.Image(i)
		if !bytes.Equal(a.Pix, b.Pix) || len(d.Item(i).Lines) != len(back.Item(i).Lines) {
			t.Errorf("item %d does not round-trip", i)
		}
	}
	// Only the written items' split lists are kept.
	if _, err := Open(dir, Options{Split: "test"}); !errs.Is(err, errs.BadArg) {
		t.Errorf("test split of a train-only copy: %v, want bad_arg", err)
	}
}

func BenchmarkSyntheticImage640x480(b *testing.B) {
	d, _ := Synthetic(SynthOptions{N: 8, CacheImages: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Image(i % 8)
		i++
	}
}

func BenchmarkSyntheticGT640x480(b *testing.B) {
	g := &generator{opts: SynthOptions{N: 8}.withDefaults()}
	i := 0
	for b.Loop() {
		g.scene(i % 8)
		i++
	}
}
