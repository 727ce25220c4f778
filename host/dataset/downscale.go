package dataset

import (
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// Downscale returns g reduced by the integer factor f >= 1: output pixel
// (x, y) is the rounded mean of the f × f block of input pixels starting at
// (f·x, f·y), the blocks at the right and bottom edges averaged over what
// they cover; the result is ceil(W/f) × ceil(H/f). f = 1 returns a copy.
// Its memory is the output alone plus one row of sums.
func Downscale(g *imgbuf.Gray, f int) (*imgbuf.Gray, error) {
	if f < 1 || f > 64 {
		return nil, errs.New(errs.BadArg, "dataset.downscale", "factor must be in [1, 64], got %d", f)
	}
	if err := g.Validate(); err != nil {
		return nil, errs.Wrap(errs.BadArg, "dataset.downscale", err)
	}
	w, h := (g.W+f-1)/f, (g.H+f-1)/f
	out := imgbuf.NewGray(w, h)
	sum := make([]uint32, w)
	cnt := make([]uint32, w)
	for oy := 0; oy < h; oy++ {
		clear(sum)
		clear(cnt)
		for y := oy * f; y < min(g.H, oy*f+f); y++ {
			row := g.Pix[y*g.W : y*g.W+g.W]
			for x, v := range row {
				sum[x/f] += uint32(v)
				cnt[x/f]++
			}
		}
		for x := range sum {
			out.Pix[oy*w+x] = uint8((sum[x] + cnt[x]/2) / cnt[x])
		}
	}
	return out, nil
}

// DownscaleSegments maps segments in pixel coordinates of an image to those
// of its Downscale by f: pixel centres map to pixel centres, x' = (x + 0.5)/f
// − 0.5 (likewise y).
func DownscaleSegments(segs []imgbuf.Segment, f int) []imgbuf.Segment {
	s := 1 / float64(f)
	m := func(v float64) float64 { return (v+0.5)*s - 0.5 }
	out := make([]imgbuf.Segment, len(segs))
	for i, g := range segs {
		out[i] = imgbuf.Segment{X1: m(g.X1), Y1: m(g.Y1), X2: m(g.X2), Y2: m(g.Y2)}
	}
	return out
}

// UpscaleSegments is DownscaleSegments' inverse: segments detected on the
// image downscaled by f, in pixels of the full-size image.
func UpscaleSegments(segs []imgbuf.Segment, f int) []imgbuf.Segment {
	s := float64(f)
	m := func(v float64) float64 { return (v+0.5)*s - 0.5 }
	out := make([]imgbuf.Segment, len(segs))
	for i, g := range segs {
		out[i] = imgbuf.Segment{X1: m(g.X1), Y1: m(g.Y1), X2: m(g.X2), Y2: m(g.Y2)}
	}
	return out
}
