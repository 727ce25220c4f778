package airline

import (
	"math"
	"math/rand/v2"

	"bohost/host/imgbuf"
)

// fillPoly renders a convex polygon (vertices in order) with value fg over
// the image, 4x4 supersampled, so edges are anti-aliased like a camera image.
// bg is ignored (the existing pixels are the background).
func fillPoly(img *imgbuf.Gray, pts [][2]float64, fg, bg uint8) {
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			in := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					px, py := float64(x)+(float64(sx)+0.5)/4-0.5, float64(y)+(float64(sy)+0.5)/4-0.5
					if insideConvex(pts, px, py) {
						in++
					}
				}
			}
			b := float64(img.Pix[y*img.W+x])
			img.Pix[y*img.W+x] = uint8(math.Round(b + (float64(fg)-b)*float64(in)/16))
		}
	}
}

func insideConvex(pts [][2]float64, x, y float64) bool {
	sign := 0
	for i := range pts {
		a, b := pts[i], pts[(i+1)%len(pts)]
		c := (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
		s := 1
		if c < 0 {
			s = -1
		}
		if sign == 0 {
			sign = s
		} else if s != sign {
			return false
		}
	}
	return true
}

func uniform(w, h int, v uint8) *imgbuf.Gray {
	g := imgbuf.NewGray(w, h)
	for i := range g.Pix {
		g.Pix[i] = v
	}
	return g
}

// addNoise adds seeded Gaussian noise of the given sigma.
func addNoise(g *imgbuf.Gray, sigma float64, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i, v := range g.Pix {
		f := float64(v) + sigma*rng.NormFloat64()
		g.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(f))))
	}
}

// scene renders n random quadrilaterals (seeded) over a gradient background
// with noise: a cluttered test image with many straight edges.
func scene(w, h, n int, seed uint64) *imgbuf.Gray {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := imgbuf.NewGray(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*w+x] = uint8(60 + 80*x/w)
		}
	}
	for k := 0; k < n; k++ {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		rx, ry := 10+rng.Float64()*float64(w)/6, 10+rng.Float64()*float64(h)/6
		th := rng.Float64() * math.Pi
		c, s := math.Cos(th), math.Sin(th)
		pts := [][2]float64{}
		for _, p := range [][2]float64{{-rx, -ry}, {rx, -ry}, {rx, ry}, {-rx, ry}} {
			pts = append(pts, [2]float64{cx + c*p[0] - s*p[1], cy + s*p[0] + c*p[1]})
		}
		fg := uint8(rng.IntN(256))
		x0, y0, x1, y1 := w, h, 0, 0
		for _, p := range pts {
			x0, y0 = min(x0, int(p[0])-1), min(y0, int(p[1])-1)
			x1, y1 = max(x1, int(p[0])+2), max(y1, int(p[1])+2)
		}
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				in := 0
				for sy := 0; sy < 4; sy++ {
					for sx := 0; sx < 4; sx++ {
						if insideConvex(pts, float64(x)+(float64(sx)+0.5)/4-0.5, float64(y)+(float64(sy)+0.5)/4-0.5) {
							in++
						}
					}
				}
				o := y*w + x
				img.Pix[o] = uint8(math.Round((float64(img.Pix[o])*float64(16-in) + float64(fg)*float64(in)) / 16))
			}
		}
	}
	addNoise(img, 3, seed)
	return img
}
