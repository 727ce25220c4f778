package gpu

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/airline"
	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/testsupport"
)

// floatTol is the float tolerance of the CPU-vs-GPU comparison: |a-b| <=
// floatTol * max(1, |a|, |b|) (relative, absolute below 1). The kernels are
// written to be bit-exact; cmpResult counts the values that are not.
const floatTol = 1e-5

// cmpResult summarises one comparison.
type cmpResult struct {
	n, inexact int     // values compared, values not bit-identical
	maxErr     float64 // largest |a-b| / max(1, |a|, |b|)
}

func (r *cmpResult) add(o cmpResult) {
	r.n += o.n
	r.inexact += o.inexact
	r.maxErr = math.Max(r.maxErr, o.maxErr)
}

// cmpFloats compares got with the CPU's want and fails t past floatTol,
// naming the stage, the first bad index and both values.
func cmpFloats(t *testing.T, what string, w int, got, want []float32) cmpResult {
	t.Helper()
	r := cmpResult{n: len(want)}
	if len(got) != len(want) {
		t.Errorf("%s: %d values, CPU %d", what, len(got), len(want))
		return r
	}
	bad := 0
	for i, a := range want {
		b := got[i]
		if math.Float32bits(a) == math.Float32bits(b) {
			continue
		}
		r.inexact++
		d := math.Abs(float64(a)-float64(b)) / math.Max(1, math.Max(math.Abs(float64(a)), math.Abs(float64(b))))
		if a != a || b != b {
			d = math.Inf(1)
		}
		r.maxErr = math.Max(r.maxErr, d)
		if d > floatTol {
			if bad == 0 {
				t.Errorf("%s: value %d (x %d, y %d of a row of %d) GPU %g, CPU %g (relative %.3g > %g)", what, i, i%w, i/w, w, b, a, d, floatTol)
			}
			bad++
		}
	}
	if bad > 1 {
		t.Errorf("%s: %d of %d values beyond the tolerance", what, bad, len(want))
	}
	return r
}

// cmpBytes requires bit-exact integer output.
func cmpBytes(t *testing.T, what string, w int, got, want []uint8) cmpResult {
	t.Helper()
	r := cmpResult{n: len(want)}
	if len(got) != len(want) {
		t.Errorf("%s: %d values, CPU %d", what, len(got), len(want))
		return r
	}
	for i := range want {
		if got[i] != want[i] {
			if r.inexact == 0 {
				t.Errorf("%s: pixel (%d, %d) GPU %d, CPU %d", what, i%w, i/w, got[i], want[i])
			}
			r.inexact++
		}
	}
	if r.inexact > 0 {
		r.maxErr = math.Inf(1)
	}
	return r
}

type namedImage struct {
	name string
	img  *imgbuf.Gray
}

// stageImages returns nSynth images of the synthetic data set (640x480,
// seed 1) and up to nYork York Urban test images when the shared folder is
// present (with a log line when it is not).
func stageImages(t testing.TB, nSynth, nYork int) []namedImage {
	t.Helper()
	var out []namedImage
	if nSynth > 0 {
		ds, err := dataset.Synthetic(dataset.SynthOptions{N: nSynth, Seed: 1, CacheImages: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < ds.Len(); i++ {
			g, err := ds.Image(i)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, namedImage{ds.Item(i).ID, g})
		}
	}
	if nYork > 0 {
		dir, ok := testsupport.YorkUrban()
		if !ok {
			t.Logf("York Urban not found at %s (set BOHOST_SHARED); synthetic images only", dir)
			return out
		}
		ds, err := dataset.Open(dir, dataset.Options{Split: "test", CacheImages: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < ds.Len() && i < nYork; i++ {
			g, err := ds.Image(i)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, namedImage{"york/" + ds.Item(i).ID, g})
		}
	}
	return out
}

// Parameter sets of the comparison.
var (
	blurSigmas = []float64{0, 1, 2.5}
	edgeSets   = []airline.EdgeParams{
		{Sigma: 1, NMS: true},
		{Sigma: 1},
		{Sigma: 1.4, NMS: true, Low: 20, High: 60},
		{Sigma: 0, NMS: true, Low: 40, High: 100, Gain: 3, Ref: 50, Floor: -20},
		{Sigma: 1, Low: 30, High: 80},
	}
	orientSets = [][3]int{{6, 9, 50}, {8, 5, 2}, {12, 11, 50}}
)

// compareStages runs every stage of s and of the CPU on img and compares
// them; it returns the float and the integer summaries.
func compareStages(t *testing.T, s Stages, name string, img *imgbuf.Gray) (floats, ints cmpResult) {
	t.Helper()
	w := img.W
	for _, sigma := range blurSigmas {
		got, err := s.Blur(img, sigma)
		if err != nil {
			t.Fatalf("%s Blur(%g): %v", name, sigma, err)
		}
		floats.add(cmpFloats(t, fmt.Sprintf("%s Blur(σ=%g)", name, sigma), w, got.Pix, airline.Blur(img, sigma).Pix))
	}
	b := airline.Blur(img, 1)
	gx, gy, mag, err := s.Sobel(b)
	if err != nil {
		t.Fatalf("%s Sobel: %v", name, err)
	}
	cx, cy, cm := airline.Sobel(b)
	floats.add(cmpFloats(t, name+" Sobel gx", w, gx.Pix, cx.Pix))
	floats.add(cmpFloats(t, name+" Sobel gy", w, gy.Pix, cy.Pix))
	floats.add(cmpFloats(t, name+" Sobel mag", w, mag.Pix, cm.Pix))
	var maps []*imgbuf.Float
	for _, p := range edgeSets {
		got, err := s.ClassicalEdges(img, p)
		if err != nil {
			t.Fatalf("%s ClassicalEdges(%+v): %v", name, p, err)
		}
		want := airline.ClassicalEdges(img, p)
		floats.add(cmpFloats(t, fmt.Sprintf("%s ClassicalEdges(%+v)", name, p), w, got.Pix, want.Pix))
		// The kept set is an integer output: it must match exactly.
		floor := float32(p.WithDefaults().Floor)
		gk, wk := make([]uint8, len(want.Pix)), make([]uint8, len(want.Pix))
		for i := range want.Pix {
			if got.Pix[i] != floor {
				gk[i] = 1
			}
			if want.Pix[i] != floor {
				wk[i] = 1
			}
		}
		ints.add(cmpBytes(t, fmt.Sprintf("%s kept pixels (%+v)", name, p), w, gk, wk))
		maps = append(maps, want)
	}
	for _, o := range orientSets {
		for _, e := range []*imgbuf.Float{maps[0], maps[1]} {
			got, err := s.OrientationHalfLen(e, o[0], o[1], o[2])
			if err != nil {
				t.Fatalf("%s Orientation%v: %v", name, o, err)
			}
			floats.add(cmpFloats(t, fmt.Sprintf("%s Orientation(T=%d K=%d half=%d)", name, o[0], o[1], o[2]), w*o[0], got,
				airline.OrientationHalfLen(e, o[0], o[1], o[2])))
		}
	}
	return floats, ints
}

// compareToGray checks the grey conversion on a seeded random RGBA image,
// whole and as a sub-image with a non-zero origin.
func compareToGray(t *testing.T, c *Context, w, h int, seed uint64) cmpResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	var r cmpResult
	for _, sub := range []image.Image{m, m.SubImage(image.Rect(3, 5, w-7, h-2))} {
		got, err := c.ToGray(sub)
		if err != nil {
			t.Fatalf("ToGray: %v", err)
		}
		want := dataset.ToGray(sub)
		r.add(cmpBytes(t, fmt.Sprintf("ToGray %v", sub.Bounds()), want.W, got.Pix, want.Pix))
	}
	return r
}
