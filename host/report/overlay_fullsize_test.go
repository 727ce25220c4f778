package report

import (
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"bohost/host/imgbuf"
)

// TestOverlayFullSize: an overlay of a 3264x2448 JPEG (the welding study's
// size; noise, so nothing compresses away) is drawn in PNG and SVG with
// bounded memory and output: the image is reduced to MaxImageSide before it
// is drawn (the SVG embeds it: 10 MiB before, 2.2 MiB after), and the lines
// land where they do on the same image at half size.
func TestOverlayFullSize(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 3264, 2448))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	p := filepath.Join(dir, "best.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sets := map[string][]imgbuf.Segment{
		"detected (2)":     {{X1: 100, Y1: 100, X2: 3000, Y2: 2000}, {X1: 3263, Y1: 0, X2: 0, Y2: 2447}},
		"ground truth (1)": {{X1: 200, Y1: 2300, X2: 3100, Y2: 2350}},
	}
	for _, ext := range []string{"png", "svg"} {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		out := filepath.Join(dir, "overlay."+ext)
		if err := OverlayTitled(p, "alpha 0.1, seed 1: best image", sets, out); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&b)
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		alloc := (b.TotalAlloc - a.TotalAlloc) >> 20
		t.Logf("%s: %d KiB, %d MiB allocated", ext, st.Size()>>10, alloc)
		if st.Size() > 4<<20 || alloc > 96 {
			t.Errorf("%s overlay of a 3264x2448 image: %d bytes written, %d MiB allocated", ext, st.Size(), alloc)
		}
	}
}

// TestOverlayReducedImageKeepsCoordinates: the overlay of a uniform
// 3264x2448 image (reduced before drawing) and of the same image at
// 1632x1224 with the segments mapped to it are the same picture.
func TestOverlayReducedImageKeepsCoordinates(t *testing.T) {
	dir := t.TempDir()
	segs := []imgbuf.Segment{{X1: 100, Y1: 100, X2: 3000, Y2: 2000}, {X1: 200, Y1: 2300, X2: 3100, Y2: 2350}, {X1: 1600, Y1: 10, X2: 1610, Y2: 2400}}
	draw := func(w, h, k int) image.Image {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 128
		}
		in, out := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.png")
		fh, _ := os.Create(in)
		png.Encode(fh, img)
		fh.Close()
		var s []imgbuf.Segment
		for _, g := range segs {
			m := func(v float64) float64 { return (v+0.5)/float64(k) - 0.5 }
			s = append(s, imgbuf.Segment{X1: m(g.X1), Y1: m(g.Y1), X2: m(g.X2), Y2: m(g.Y2)})
		}
		if err := OverlayTitled(in, "t", map[string][]imgbuf.Segment{"detected": s}, out); err != nil {
			t.Fatal(err)
		}
		fh, _ = os.Open(out)
		defer fh.Close()
		m, err := png.Decode(fh)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	full, half := draw(3264, 2448, 1), draw(1632, 1224, 2)
	if full.Bounds() != half.Bounds() {
		t.Fatalf("%v vs %v", full.Bounds(), half.Bounds())
	}
	diff, red := 0, 0
	b := full.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := full.At(x, y).RGBA()
			r2, g2, b2, _ := half.At(x, y).RGBA()
			if absDiff(r1, r2) > 40<<8 || absDiff(g1, g2) > 40<<8 || absDiff(b1, b2) > 40<<8 {
				diff++
			}
			if r1 > 0xb000 && g1 < 0x8000 && b1 < 0x4000 {
				red++
			}
		}
	}
	t.Logf("%d of %d pixels differ; %d vermillion", diff, b.Dx()*b.Dy(), red)
	if red < 1000 || diff > b.Dx()*b.Dy()/500 {
		t.Errorf("the reduced overlay differs in %d pixels (%d vermillion): the lines moved", diff, red)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
