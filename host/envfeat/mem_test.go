package envfeat

import (
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/imgbuf"
	"bohost/host/imgbuf/imgbuftest"
)

// localContrastIntegral is localContrast as it was before it kept only
// column sums: two float64 integral images, 16 bytes a pixel. The sums are
// whole numbers below 2^53 either way, so the results must be bit-identical.
func localContrastIntegral(img *imgbuf.Gray, r int) float64 {
	w, h := img.W, img.H
	W := w + 1
	s1 := make([]float64, W*(h+1))
	s2 := make([]float64, W*(h+1))
	for y := 0; y < h; y++ {
		var r1, r2 float64
		for x := 0; x < w; x++ {
			v := float64(img.Pix[y*w+x])
			r1 += v
			r2 += v * v
			s1[(y+1)*W+x+1] = s1[y*W+x+1] + r1
			s2[(y+1)*W+x+1] = s2[y*W+x+1] + r2
		}
	}
	var tot float64
	for y := 0; y < h; y++ {
		ya, yb := max(0, y-r), min(h, y+r+1)
		for x := 0; x < w; x++ {
			xa, xb := max(0, x-r), min(w, x+r+1)
			cnt := float64((yb - ya) * (xb - xa))
			m1 := (s1[yb*W+xb] - s1[ya*W+xb] - s1[yb*W+xa] + s1[ya*W+xa]) / cnt
			m2 := (s2[yb*W+xb] - s2[ya*W+xb] - s2[yb*W+xa] + s2[ya*W+xa]) / cnt
			tot += math.Sqrt(max(0, m2-m1*m1))
		}
	}
	return tot / float64(w*h)
}

func TestLocalContrastExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{3, 3}, {5, 40}, {40, 5}, {15, 15}, {16, 17}, {97, 61}, {300, 200}} {
		g := imgbuf.NewGray(sz[0], sz[1])
		for i := range g.Pix {
			switch rng.IntN(3) {
			case 0:
				g.Pix[i] = uint8(rng.IntN(256))
			case 1:
				g.Pix[i] = 255
			}
		}
		for _, r := range []int{1, 7, 20} {
			if a, b := localContrast(g, r), localContrastIntegral(g, r); a != b {
				t.Errorf("%dx%d r=%d: %v, integral images %v", sz[0], sz[1], r, a, b)
			}
		}
	}
}

// TestFeaturesMemory: Features needs about 9 bytes a pixel (the edge
// magnitudes and gradients the Canny step keeps) plus its edge stack, not
// the 27.5 it needed on this image with float64 integral images (a 20000 x
// 20000 image took the parent to 8.3 GiB). The allocation is measured, not
// timed.
func TestFeaturesMemory(t *testing.T) {
	img := imgbuftest.Gray(1000, 800)
	g := &imgbuf.Gray{W: img.Rect.Dx(), H: img.Rect.Dy(), Pix: img.Pix}
	a := imgbuftest.Allocated(func() { Features(g) })
	perPx := float64(a) / float64(g.W*g.H)
	t.Logf("Features allocated %.1f bytes a pixel", perPx)
	if perPx > 14 {
		t.Errorf("Features allocated %.1f bytes a pixel, want at most 14", perPx)
	}
}
