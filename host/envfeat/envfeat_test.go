package envfeat

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// scene returns a sharp, noise-free synthetic-like test image: rectangles
// at several grey levels on a mid-dark background.
func scene() *imgbuf.Gray {
	g := imgbuf.NewGray(160, 120)
	for i := range g.Pix {
		g.Pix[i] = 90
	}
	for _, r := range [][5]int{{10, 10, 60, 50, 200}, {70, 20, 150, 90, 40}, {30, 60, 100, 110, 150}, {120, 95, 155, 115, 230}} {
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				g.Pix[y*g.W+x] = uint8(r[4])
			}
		}
	}
	return g
}

func TestFeaturesDirections(t *testing.T) {
	syn, err := dataset.Synthetic(dataset.SynthOptions{N: 1, Width: 320, Height: 240, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	synImg, _ := syn.Image(0)
	for _, img := range []struct {
		name string
		g    *imgbuf.Gray
	}{{"rectangles", scene()}, {"synthetic", synImg}} {
		base := Features(img.g)
		f := func(p Perturbation) []float64 { return Features(Perturb(img.g, p)) }
		type dir struct {
			feat int
			up   bool
		}
		for _, c := range []struct {
			name string
			p    Perturbation
			want []dir
		}{
			{"noise", Perturbation{NoiseSigma: 8, Seed: 1}, []dir{{NoiseLevel, true}, {Sharpness, true}, {GradientStrength, true}}},
			{"blur", Perturbation{BlurSigma: 2}, []dir{{Sharpness, false}, {GradientStrength, false}, {EdgeDensity, false}, {LocalContrast, false}}},
			{"low contrast", Perturbation{Contrast: 0.15}, []dir{{LocalContrast, false}, {GradientStrength, false}, {EdgeDensity, false}, {Sharpness, false}}},
			{"high contrast", Perturbation{Contrast: 1.5}, []dir{{LocalContrast, true}, {GradientStrength, true}}},
			{"dark", Perturbation{Gain: 0.3}, []dir{{Brightness, true}, {GradientStrength, false}}},
		} {
			got := f(c.p)
			for _, d := range c.want {
				if (got[d.feat] > base[d.feat]) != d.up || got[d.feat] == base[d.feat] {
					t.Errorf("%s/%s: %s %.4g -> %.4g, want %s", img.name, c.name, Names[d.feat], base[d.feat], got[d.feat],
						map[bool]string{true: "up", false: "down"}[d.up])
				}
			}
		}
	}
}

func TestFeaturesHandComputed(t *testing.T) {
	// Flat image: everything but brightness is 0.
	g := imgbuf.NewGray(20, 10)
	for i := range g.Pix {
		g.Pix[i] = 64
	}
	f := Features(g)
	want := []float64{0.5, 0, 0, 0, 0, 0}
	for i := range want {
		if math.Abs(f[i]-want[i]) > 1e-12 {
			t.Errorf("flat: %s = %v, want %v", Names[i], f[i], want[i])
		}
	}
	// Immerkær: additive Gaussian noise of sigma 10 on a flat image is
	// estimated within 10%.
	r := rand.New(rand.NewPCG(1, 1))
	g = imgbuf.NewGray(256, 256)
	for i := range g.Pix {
		g.Pix[i] = clampU8(128 + 10*r.NormFloat64())
	}
	if n := Features(g)[NoiseLevel]; math.Abs(n-10) > 1 {
		t.Errorf("noise estimate %v, want 10 ± 1", n)
	}
	// A vertical step of height 100: interior Sobel |gx| = 400 on the two
	// columns beside it; Laplacian ±100 there.
	g = imgbuf.NewGray(10, 5)
	for y := 0; y < 5; y++ {
		for x := 5; x < 10; x++ {
			g.Pix[y*10+x] = 100
		}
	}
	f = Features(g)
	n := 8.0 * 3 // interior pixels
	if want := 2 * 3 * 400 / n; math.Abs(f[GradientStrength]-want) > 1e-9 {
		t.Errorf("step gradient %v, want %v", f[GradientStrength], want)
	}
	if want := 2 * 3 * 100 * 100 / n; math.Abs(f[Sharpness]-want) > 1e-9 { // mean Laplacian is 0
		t.Errorf("step Laplacian variance %v, want %v", f[Sharpness], want)
	}
	// Bad inputs give NaN, never panic.
	for _, bad := range []*imgbuf.Gray{nil, {W: 2, H: 2, Pix: make([]uint8, 4)}, {W: 5, H: 5, Pix: make([]uint8, 3)}} {
		for _, v := range Features(bad) {
			if !math.IsNaN(v) {
				t.Errorf("bad image %v: %v", bad, Features(bad))
				break
			}
		}
	}
	if v := FeaturesBox(scene(), imgbuf.Box{X0: 10, Y0: 10, X1: 60, Y1: 50}); v[LocalContrast] != 0 || v[Brightness] != 72.0/128 {
		t.Errorf("box inside a flat rectangle: %v", v)
	}
}

func TestPerturbDeterministicAndIdentity(t *testing.T) {
	g := scene()
	orig := bytes.Clone(g.Pix)
	if id := Perturb(g, Perturbation{}); !bytes.Equal(id.Pix, g.Pix) {
		t.Error("zero Perturbation is not the identity")
	}
	p := Perturbation{Gain: 1.2, Contrast: 0.8, NoiseSigma: 5, BlurSigma: 1.3, Seed: 9}
	a, b := Perturb(g, p), Perturb(g, p)
	p.Seed = 10
	c := Perturb(g, p)
	if !bytes.Equal(a.Pix, b.Pix) || bytes.Equal(a.Pix, c.Pix) {
		t.Error("same seed must match, different seed must differ")
	}
	if !bytes.Equal(g.Pix, orig) {
		t.Error("Perturb modified its input")
	}
	fa, fb := Features(a), Features(b)
	for i := range fa {
		if fa[i] != fb[i] {
			t.Errorf("Features not deterministic: %s", Names[i])
		}
	}
	// Blur keeps a flat image flat and preserves the mean of a step (sum-1 kernel).
	flat := imgbuf.NewGray(30, 30)
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	for _, v := range Perturb(flat, Perturbation{BlurSigma: 3}).Pix {
		if v != 77 {
			t.Fatalf("blurred flat image changed: %d", v)
		}
	}
	if Perturb(nil, p) != nil {
		t.Error("nil image")
	}
	// Out-of-range values are clamped, not a panic.
	Perturb(g, Perturbation{Gain: -1, Contrast: math.NaN(), NoiseSigma: math.Inf(1), BlurSigma: 1e9})
}

func TestPerturbationValidate(t *testing.T) {
	if err := (Perturbation{Gain: 1, BlurSigma: 2}).Validate(); err != nil {
		t.Error(err)
	}
	err := Perturbation{BlurSigma: 25}.Validate()
	if !errs.Is(err, errs.BadArg) || err.Error() != "envfeat.perturb: bad_arg: BlurSigma must be in [0, 20], got 25" {
		t.Errorf("got %v", err)
	}
	if err := (Perturbation{Gain: -0.5}).Validate(); err == nil {
		t.Error("negative gain accepted")
	}
}

func TestNormalise(t *testing.T) {
	rows := [][]float64{{1, 5, math.NaN()}, {3, 5, 2}, {2, 5, 4, 9}}
	got := Normalise(rows)
	want := [][]float64{{0, 0.5, math.NaN()}, {1, 0.5, 0}, {0.5, 0.5, 1, 0.5}}
	for i := range want {
		for j := range want[i] {
			if a, b := got[i][j], want[i][j]; !(a == b || math.IsNaN(a) && math.IsNaN(b)) {
				t.Errorf("[%d][%d] = %v, want %v", i, j, a, b)
			}
		}
	}
	if rows[0][0] != 1 {
		t.Error("input modified")
	}
	if len(Normalise(nil)) != 0 {
		t.Error("nil rows")
	}
}

func BenchmarkFeatures640x480(b *testing.B) {
	syn, _ := dataset.Synthetic(dataset.SynthOptions{N: 1})
	g, _ := syn.Image(0)
	b.ReportAllocs()
	for b.Loop() {
		Features(g)
	}
}

func BenchmarkPerturb640x480(b *testing.B) {
	syn, _ := dataset.Synthetic(dataset.SynthOptions{N: 1})
	g, _ := syn.Image(0)
	p := Perturbation{Gain: 1.1, Contrast: 0.9, NoiseSigma: 4, BlurSigma: 1.5, Seed: 1}
	b.ReportAllocs()
	for b.Loop() {
		Perturb(g, p)
	}
}
