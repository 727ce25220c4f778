package envfeat

import (
	"math"
	"math/rand/v2"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// Names are the features returned by Features, in order.
var Names = []string{"brightness", "local_contrast", "gradient_strength", "edge_density", "sharpness", "noise_level"}

// Feature indices into the vector returned by Features.
const (
	Brightness = iota
	LocalContrast
	GradientStrength
	EdgeDensity
	Sharpness
	NoiseLevel
)

// Features computes the feature vector of img (see the package
// documentation). A nil or invalid image, or one smaller than 3x3, gives a
// vector of NaN.
func Features(img *imgbuf.Gray) []float64 {
	out := make([]float64, len(Names))
	if img == nil || img.Validate() != nil || img.W < 3 || img.H < 3 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	w, h := img.W, img.H
	pix := img.Pix
	var sum float64
	for _, v := range pix {
		sum += float64(v)
	}
	out[Brightness] = math.Abs(sum/float64(w*h)-128) / 128
	out[LocalContrast] = localContrast(img, 7)

	// Sobel, Laplacian, Immerkær over interior pixels.
	mag := make([]int32, w*h) // L1 magnitude for Canny
	gxs := make([]int16, w*h)
	gys := make([]int16, w*h)
	var gsum, lsum, lsum2, nsum float64
	n := float64((w - 2) * (h - 2))
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			a, b, c := int32(pix[i-w-1]), int32(pix[i-w]), int32(pix[i-w+1])
			d, e, f := int32(pix[i-1]), int32(pix[i]), int32(pix[i+1])
			g, hh, k := int32(pix[i+w-1]), int32(pix[i+w]), int32(pix[i+w+1])
			gx := (c + 2*f + k) - (a + 2*d + g)
			gy := (g + 2*hh + k) - (a + 2*b + c)
			gsum += math.Sqrt(float64(gx*gx + gy*gy))
			gxs[i], gys[i] = int16(gx), int16(gy)
			mag[i] = abs32(gx) + abs32(gy)
			lap := float64(b + d + f + hh - 4*e)
			lsum += lap
			lsum2 += lap * lap
			nsum += math.Abs(float64(a - 2*b + c - 2*d + 4*e - 2*f + g - 2*hh + k))
		}
	}
	out[GradientStrength] = gsum / n
	lm := lsum / n
	out[Sharpness] = lsum2/n - lm*lm
	out[NoiseLevel] = math.Sqrt(math.Pi/2) * nsum / (6 * n)
	out[EdgeDensity] = canny(w, h, mag, gxs, gys, 50, 150)
	return out
}

// FeaturesBox computes Features on the part of img inside b (clipped to the
// image); an empty box gives NaN.
func FeaturesBox(img *imgbuf.Gray, b imgbuf.Box) []float64 {
	if img == nil || img.Validate() != nil {
		return Features(nil)
	}
	x0, y0 := max(0, b.X0), max(0, b.Y0)
	x1, y1 := min(img.W, b.X1), min(img.H, b.Y1)
	if x1-x0 < 3 || y1-y0 < 3 {
		return Features(nil)
	}
	c := imgbuf.NewGray(x1-x0, y1-y0)
	for y := y0; y < y1; y++ {
		copy(c.Pix[(y-y0)*c.W:(y-y0+1)*c.W], img.Pix[y*img.W+x0:y*img.W+x1])
	}
	return Features(c)
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// localContrast is the mean over pixels of the local standard deviation in
// a (2r+1)² box (windows clipped at the border). It keeps integer column
// sums over the window's rows and their prefix sums along the row, O(w)
// memory instead of two float64 integral images (16 bytes a pixel): every
// box sum is the same whole number (below 2^53) either way, so the result is
// bit-identical.
func localContrast(img *imgbuf.Gray, r int) float64 {
	w, h := img.W, img.H
	c1 := make([]int64, w) // sum of v over rows [ya, yb) of column x
	c2 := make([]int64, w) // sum of v²
	p1 := make([]int64, w+1)
	p2 := make([]int64, w+1)
	ya, yb := 0, 0
	var tot float64
	for y := 0; y < h; y++ {
		for ; yb < min(h, y+r+1); yb++ {
			row := img.Pix[yb*w : yb*w+w]
			for x, v := range row {
				c1[x] += int64(v)
				c2[x] += int64(v) * int64(v)
			}
		}
		for ; ya < max(0, y-r); ya++ {
			row := img.Pix[ya*w : ya*w+w]
			for x, v := range row {
				c1[x] -= int64(v)
				c2[x] -= int64(v) * int64(v)
			}
		}
		for x := 0; x < w; x++ {
			p1[x+1] = p1[x] + c1[x]
			p2[x+1] = p2[x] + c2[x]
		}
		for x := 0; x < w; x++ {
			xa, xb := max(0, x-r), min(w, x+r+1)
			cnt := float64((yb - ya) * (xb - xa))
			m1 := float64(p1[xb]-p1[xa]) / cnt
			m2 := float64(p2[xb]-p2[xa]) / cnt
			tot += math.Sqrt(max(0, m2-m1*m1))
		}
	}
	return tot / float64(w*h)
}

// canny returns the fraction of edge pixels: non-maximum suppression of the
// L1 magnitude along the quantised gradient direction, then hysteresis.
func canny(w, h int, mag []int32, gx, gy []int16, lo, hi int32) float64 {
	const (
		none = iota
		weak
		strong
	)
	state := make([]uint8, w*h)
	var stack []int
	tan22 := 0.41421356
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			m := mag[i]
			if m <= lo {
				continue
			}
			ax, ay := math.Abs(float64(gx[i])), math.Abs(float64(gy[i]))
			var a, b int32
			switch {
			case ay <= tan22*ax: // horizontal gradient: compare left/right
				a, b = mag[i-1], mag[i+1]
			case ax <= tan22*ay: // vertical gradient
				a, b = mag[i-w], mag[i+w]
			case (gx[i] > 0) == (gy[i] > 0): // diagonal down-right
				a, b = mag[i-w-1], mag[i+w+1]
			default:
				a, b = mag[i-w+1], mag[i+w-1]
			}
			if m > a && m >= b {
				if m > hi {
					state[i] = strong
					stack = append(stack, i)
				} else {
					state[i] = weak
				}
			}
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range [8]int{-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1} {
			j := i + d
			if j >= 0 && j < w*h && state[j] == weak {
				state[j] = strong
				stack = append(stack, j)
			}
		}
	}
	cnt := 0
	for _, s := range state {
		if s == strong {
			cnt++
		}
	}
	return float64(cnt) / float64(w*h)
}

// Normalise min-max scales each column over the rows to [0, 1]. A constant
// column becomes 0.5; NaN entries are ignored for the range and stay NaN.
// Rows may differ in length. The input is not modified.
func Normalise(rows [][]float64) [][]float64 {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	lo := make([]float64, cols)
	hi := make([]float64, cols)
	for j := range lo {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for _, r := range rows {
		for j, v := range r {
			if !math.IsNaN(v) {
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
			}
		}
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			switch {
			case math.IsNaN(v):
				out[i][j] = v
			case !(hi[j]-lo[j] >= 1e-12) || math.IsInf(hi[j]-lo[j], 0):
				out[i][j] = 0.5
			default:
				out[i][j] = (v - lo[j]) / (hi[j] - lo[j])
			}
		}
	}
	return out
}

// Perturbation is a photometric change applied by Perturb.
type Perturbation struct {
	Gain       float64 // multiplies intensities; 0 means 1; >= 0
	Contrast   float64 // scales about the mean; 0 means 1; >= 0
	NoiseSigma float64 // additive Gaussian noise, grey levels; >= 0
	BlurSigma  float64 // Gaussian blur, pixels; in [0, 20]
	Seed       uint64  // noise stream
}

// Validate reports a bad field, naming it, its range and the value.
func (p Perturbation) Validate() error {
	const op = "envfeat.perturb"
	chk := func(name string, v, hi float64) error {
		if !(v >= 0 && v <= hi) {
			return errs.New(errs.BadArg, op, "%s must be in [0, %g], got %g", name, hi, v)
		}
		return nil
	}
	for _, c := range []struct {
		n     string
		v, hi float64
	}{{"Gain", p.Gain, 1e3}, {"Contrast", p.Contrast, 1e3}, {"NoiseSigma", p.NoiseSigma, 1e3}, {"BlurSigma", p.BlurSigma, 20}} {
		if err := chk(c.n, c.v, c.hi); err != nil {
			return err
		}
	}
	return nil
}

// Perturb returns a perturbed copy of img (see the package documentation);
// img is not modified. A nil or invalid image returns nil.
func Perturb(img *imgbuf.Gray, p Perturbation) *imgbuf.Gray {
	if img == nil || img.Validate() != nil {
		return nil
	}
	fix := func(v, def, hi float64) float64 {
		if v == 0 || !(v > 0) {
			return def
		}
		return min(v, hi)
	}
	gain, contr := fix(p.Gain, 1, 1e3), fix(p.Contrast, 1, 1e3)
	noise, sigma := fix(p.NoiseSigma, 0, 1e3), fix(p.BlurSigma, 0, 20)
	out := imgbuf.NewGray(img.W, img.H)
	copy(out.Pix, img.Pix)
	if sigma > 0 {
		blurU8(out, sigma)
	}
	if gain != 1 || contr != 1 {
		var sum float64
		for _, v := range out.Pix {
			sum += float64(v)
		}
		m := gain * sum / float64(len(out.Pix))
		var lut [256]uint8
		for v := range lut {
			lut[v] = clampU8(m + contr*(gain*float64(v)-m))
		}
		for i, v := range out.Pix {
			out.Pix[i] = lut[v]
		}
	}
	if noise > 0 {
		r := rand.New(rand.NewPCG(p.Seed, 0x6e6f697365)) // "noise"
		for i, v := range out.Pix {
			out.Pix[i] = clampU8(float64(v) + noise*r.NormFloat64())
		}
	}
	return out
}

func clampU8(v float64) uint8 {
	v = math.Round(v)
	if v <= 0 || math.IsNaN(v) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// blurU8 blurs g in place with a separable Gaussian in 16.16 fixed point,
// keeping the horizontal pass in 8.8 fixed point (uint16), borders replicated.
func blurU8(g *imgbuf.Gray, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	if rad < 1 {
		return
	}
	k := make([]float64, 2*rad+1)
	var s float64
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	kw := make([]int64, len(k))
	var tot int64
	for i := range k {
		kw[i] = int64(math.Round(k[i] / s * 65536))
		tot += kw[i]
	}
	kw[rad] += 65536 - tot // exact unit sum
	w, h := g.W, g.H
	tmp := make([]uint16, w*h)
	for y := 0; y < h; y++ {
		row := g.Pix[y*w : y*w+w]
		for x := 0; x < w; x++ {
			var a int64
			for j, kv := range kw {
				a += kv * int64(row[min(w-1, max(0, x+j-rad))])
			}
			tmp[y*w+x] = uint16((a + 128) >> 8) // 8.8
		}
	}
	acc := make([]int64, w)
	for y := 0; y < h; y++ { // vertical pass row by row (cache friendly)
		clear(acc)
		for j, kv := range kw {
			src := tmp[min(h-1, max(0, y+j-rad))*w:][:w]
			for x, v := range src {
				acc[x] += kv * int64(v)
			}
		}
		row := g.Pix[y*w : y*w+w]
		for x, a := range acc {
			row[x] = uint8(min(255, (a+(1<<23))>>24))
		}
	}
}
