package airline

import (
	"math"

	"bohost/host/imgbuf"
)

// This file holds the per-pixel stages, exported so that a GPU port can be
// compared against them. Each exported function allocates its result; the
// evaluator uses the *Into variants on pooled buffers. All arithmetic is
// float32 in a fixed, documented order, so results are deterministic.
//
// Borders: Blur and Sobel use BORDER_REFLECT_101 (OpenCV's default: ...cb|abcd|cb...).
// The orientation bank uses zero padding (PyTorch Conv2d with padding K/2).

// EdgeParams configures the classical edge stage (ClassicalEdges).
//
// The output is a logit-like map E with the role DexiNed's logits have in
// AirLine, so that edgeThresh keeps its meaning and its bounds [-23, 7]:
//
//	E(p) = Gain * ln(|grad(p)| / Ref)   at kept pixels (clamped to [Floor, -Floor])
//	E(p) = Floor                        elsewhere
//
// where |grad| is the L2 Sobel magnitude of the blurred image (0..~1442 for
// 8-bit input). With Ref = 100 and Gain = 4, edgeThresh t keeps pixels with
// |grad| > 100*exp(t/4): t = 0 is a Canny-like high threshold of 100, the
// original presets Q (t = -3) and QG (t = 1) become magnitudes 47 and 128,
// t = -23 keeps every gradient above 0.3 (nearly all maxima) and t = 7 only
// magnitudes above 575 (the strongest steps).
//
// A pixel is "kept" when it has a non-zero gradient, is a Canny
// non-maximum-suppression maximum (when NMS is set) and, when High > 0, connected through 8-neighbours with magnitude >
// Low to a maximum with magnitude > High (Canny hysteresis).
type EdgeParams struct {
	Sigma float64 // Gaussian blur sigma; <= 0: no blur. Kernel radius = (round(6σ+1)|1)/2 as OpenCV.
	Low   float64 // hysteresis low threshold (magnitude); used only when High > 0
	High  float64 // hysteresis high threshold (magnitude); <= 0: no hysteresis
	NMS   bool    // true: thin the map to Canny maxima; false: dense map (every pixel, like a DexiNed logit map)
	Ref   float64 // magnitude mapped to logit 0 (default 100)
	Gain  float64 // logit units per e-fold of magnitude (default 4)
	Floor float64 // logit of pixels that are not kept (default -30, below every edgeThresh)
}

// WithDefaults returns p with its unset (non-positive; Floor: non-negative)
// fields at the documented defaults.
func (p EdgeParams) WithDefaults() EdgeParams {
	if !(p.Ref > 0) {
		p.Ref = 100
	}
	if !(p.Gain > 0) {
		p.Gain = 4
	}
	if !(p.Floor < 0) {
		p.Floor = -30
	}
	return p
}

// reflect101 maps i into [0, n) by reflection without repeating the edge pixel.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*n - 2 - i
		}
	}
	return i
}

// GaussianKernel returns the normalised 1-D kernel used by Blur (radius
// (round(6σ+1)|1)/2, OpenCV's automatic size for 8-bit images).
func GaussianKernel(sigma float64) []float32 {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return []float32{1}
	}
	size := int(math.Round(6*sigma+1)) | 1
	if size > 1001 {
		size = 1001
	}
	r := size / 2
	k := make([]float64, size)
	var sum float64
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	out := make([]float32, size)
	for i := range k {
		out[i] = float32(k[i] / sum)
	}
	return out
}

// Blur returns the Gaussian-blurred image as float32 (separable: rows first,
// then columns; each output is Σ_i k[i]*src[reflect101(x+i-r)] in index order).
// It returns nil for an invalid image.
func Blur(src *imgbuf.Gray, sigma float64) *imgbuf.Float {
	if src == nil || src.Validate() != nil {
		return nil
	}
	out := imgbuf.NewFloat(src.W, src.H)
	tmp := make([]float32, src.W*src.H)
	blurInto(out.Pix, tmp, src.Pix, src.W, src.H, GaussianKernel(sigma))
	return out
}

func blurInto(dst, tmp []float32, src []uint8, w, h int, k []float32) {
	r := len(k) / 2
	if r == 0 {
		for i, v := range src[:w*h] {
			dst[i] = float32(v)
		}
		return
	}
	// Horizontal pass: src -> tmp.
	for y := 0; y < h; y++ {
		row := src[y*w : y*w+w]
		out := tmp[y*w : y*w+w]
		for x := 0; x < w; x++ {
			var s float32
			if x >= r && x+r < w {
				seg := row[x-r : x+r+1]
				for i, kv := range k {
					s += kv * float32(seg[i])
				}
			} else {
				for i, kv := range k {
					s += kv * float32(row[reflect101(x+i-r, w)])
				}
			}
			out[x] = s
		}
	}
	// Vertical pass: tmp -> dst, row by row for cache friendliness.
	for y := 0; y < h; y++ {
		out := dst[y*w : y*w+w]
		for x := range out {
			out[x] = 0
		}
		for i, kv := range k {
			yy := reflect101(y+i-r, h)
			in := tmp[yy*w : yy*w+w]
			for x, v := range in {
				out[x] += kv * v
			}
		}
	}
}

// Sobel returns the 3x3 Sobel derivatives and the L2 magnitude of src:
// gx = (p[x+1]-p[x-1]) smoothed by [1 2 1] over rows, gy likewise over
// columns, mag = sqrt(gx²+gy²), borders BORDER_REFLECT_101. nil for an
// invalid image.
func Sobel(src *imgbuf.Float) (gx, gy, mag *imgbuf.Float) {
	if src == nil || src.W <= 0 || src.H <= 0 || len(src.Pix) != src.W*src.H {
		return nil, nil, nil
	}
	gx, gy, mag = imgbuf.NewFloat(src.W, src.H), imgbuf.NewFloat(src.W, src.H), imgbuf.NewFloat(src.W, src.H)
	sobelInto(gx.Pix, gy.Pix, mag.Pix, src.Pix, src.W, src.H)
	return gx, gy, mag
}

func sobelInto(gx, gy, mag, src []float32, w, h int) {
	for y := 0; y < h; y++ {
		up := src[reflect101(y-1, h)*w:]
		mid := src[y*w:]
		dn := src[reflect101(y+1, h)*w:]
		for x := 0; x < w; x++ {
			xl, xr := x-1, x+1
			if x == 0 || x == w-1 {
				xl, xr = reflect101(xl, w), reflect101(xr, w)
			}
			a, b, c := up[xl], up[x], up[xr]
			d, f := mid[xl], mid[xr]
			g, hh, i := dn[xl], dn[x], dn[xr]
			sx := (c - a) + 2*(f-d) + (i - g)
			sy := (g - a) + 2*(hh-b) + (i - c)
			o := y*w + x
			gx[o], gy[o] = sx, sy
			mag[o] = float32(math.Sqrt(float64(sx*sx + sy*sy)))
		}
	}
}

// ClassicalEdges returns the classical logit-like edge map E of src (see
// EdgeParams). nil for an invalid image.
func ClassicalEdges(src *imgbuf.Gray, p EdgeParams) *imgbuf.Float {
	if src == nil || src.Validate() != nil {
		return nil
	}
	n := src.W * src.H
	out := imgbuf.NewFloat(src.W, src.H)
	ws := &edgeBufs{}
	ws.grow(n)
	edgesInto(out.Pix, ws, src.Pix, src.W, src.H, p)
	return out
}

// edgeBufs are the scratch buffers of the classical edge stage.
type edgeBufs struct {
	blur, tmp, gx, gy, mag []float32
	keep                   []uint8
	stack                  []int32
}

func (b *edgeBufs) grow(n int) {
	b.blur = growF(b.blur, n)
	b.tmp = growF(b.tmp, n)
	b.gx = growF(b.gx, n)
	b.gy = growF(b.gy, n)
	b.mag = growF(b.mag, n)
	if cap(b.keep) < n {
		b.keep = make([]uint8, n)
	}
	b.keep = b.keep[:n]
}

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// tan(22.5°) and tan(67.5°), as Canny's direction sectors.
const (
	tan22 = 0.41421356237309503
	tan67 = 2.414213562373095
)

func edgesInto(dst []float32, b *edgeBufs, src []uint8, w, h int, p EdgeParams) {
	p = p.WithDefaults()
	n := w * h
	blurInto(b.blur[:n], b.tmp[:n], src, w, h, GaussianKernel(p.Sigma))
	sobelInto(b.gx[:n], b.gy[:n], b.mag[:n], b.blur[:n], w, h)
	mag, keep := b.mag[:n], b.keep[:n]

	// Non-maximum suppression (Canny's sectors and tie rule m > a && m >= b);
	// the one-pixel frame is never a maximum.
	for i := range keep {
		keep[i] = 0
	}
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			o := y*w + x
			m := mag[o]
			if !(m > 0) {
				continue
			}
			if !p.NMS {
				keep[o] = 1
				continue
			}
			ax, ay := float64(abs32(b.gx[o])), float64(abs32(b.gy[o]))
			var na, nb float32
			switch {
			case ay <= ax*tan22: // gradient horizontal: compare left/right
				na, nb = mag[o-1], mag[o+1]
			case ay >= ax*tan67: // vertical: up/down
				na, nb = mag[o-w], mag[o+w]
			case (b.gx[o] > 0) == (b.gy[o] > 0): // gradient along the main diagonal
				na, nb = mag[o-w-1], mag[o+w+1]
			default:
				na, nb = mag[o-w+1], mag[o+w-1]
			}
			if m > na && m >= nb {
				keep[o] = 1
			}
		}
	}
	if !p.NMS {
		// The frame still has no valid neighbourhood for hysteresis; keep it too.
		for i := range keep {
			if mag[i] > 0 {
				keep[i] = 1
			}
		}
	}

	// Hysteresis: keep[o] = 2 for accepted pixels.
	if p.High > 0 {
		low, high := float32(p.Low), float32(p.High)
		st := b.stack[:0]
		for o := 0; o < n; o++ {
			if keep[o] == 1 && mag[o] > high {
				keep[o] = 2
				st = append(st, int32(o))
				for len(st) > 0 {
					q := int(st[len(st)-1])
					st = st[:len(st)-1]
					qy, qx := q/w, q%w
					for dy := -1; dy <= 1; dy++ {
						yy := qy + dy
						if yy < 0 || yy >= h {
							continue
						}
						for dx := -1; dx <= 1; dx++ {
							xx := qx + dx
							if xx < 0 || xx >= w {
								continue
							}
							r := yy*w + xx
							if keep[r] == 1 && mag[r] > low {
								keep[r] = 2
								st = append(st, int32(r))
							}
						}
					}
				}
			}
		}
		b.stack = st
		for i, k := range keep {
			if k == 2 {
				keep[i] = 1
			} else {
				keep[i] = 0
			}
		}
	}

	floor := float32(p.Floor)
	gain, lref := p.Gain, math.Log(p.Ref)
	for i := range dst[:n] {
		if keep[i] == 0 {
			dst[i] = floor
			continue
		}
		v := float32(gain * (math.Log(float64(mag[i])) - lref))
		if v < floor {
			v = floor
		} else if v > -floor {
			v = -floor
		}
		dst[i] = v
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// KernelBank returns AirLine's T orientation kernels of size K x K (row-major,
// values 0 or 1): kernel i is the line through the centre c = K/2 at angle
// θ_i = i*180/T degrees from (c-dx, c-dy) to (c+dx, c+dy) with
// dx = int(cos θ_i * halfLen), dy = int(sin θ_i * halfLen) (π = 3.1415926 as
// upstream), rasterised like OpenCV 4.x cv2.line (clipLine, then the 8-connected
// LineIterator, left to right) and clipped to the kernel. Upstream uses
// halfLen = 50 (every kernel of K = 9 then has 9 ones); the original BO code
// used halfLen = K/2. It returns nil for T < 1, K < 1 or halfLen < 0.
func KernelBank(T, K, halfLen int) [][]float32 {
	if T < 1 || K < 1 || halfLen < 0 || T > maxT || K > maxK {
		return nil
	}
	bank := make([][]float32, T)
	c := K / 2
	for i := range bank {
		k := make([]float32, K*K)
		th := float64(i) * 180 / float64(T) * 3.1415926 / 180
		dx := int(math.Cos(th) * float64(halfLen))
		dy := int(math.Sin(th) * float64(halfLen))
		cvLine(k, K, c-dx, c-dy, c+dx, c+dy)
		bank[i] = k
	}
	return bank
}

// cvLine draws a thickness-1, 8-connected line into a size x size image as
// OpenCV 4.x does (clipLine, then LineIterator with leftToRight).
func cvLine(img []float32, size, x1, y1, x2, y2 int) {
	ok, x1, y1, x2, y2 := clipLine(size, size, x1, y1, x2, y2)
	if !ok {
		return
	}
	dx, dy := x2-x1, y2-y1
	if dx < 0 { // leftToRight
		dx, dy = -dx, -dy
		x1, y1, x2, y2 = x2, y2, x1, y1
	}
	sx, sy := 1, 1
	if dy < 0 {
		dy = -dy
		sy = -1
	}
	vert := dy > dx
	if vert {
		dx, dy = dy, dx
	}
	err := dx - (dy + dy)
	plusDelta, minusDelta := dx+dx, -(dy + dy)
	x, y := x1, y1
	for i := 0; i <= dx; i++ {
		if x >= 0 && x < size && y >= 0 && y < size {
			img[y*size+x] = 1
		}
		minor := err < 0
		err += minusDelta
		if minor {
			err += plusDelta
		}
		if vert {
			y += sy
			if minor {
				x += sx
			}
		} else {
			x += sx
			if minor {
				y += sy
			}
		}
	}
}

// clipLine is OpenCV's cv::clipLine for a w x h image.
func clipLine(w, h, x1, y1, x2, y2 int) (bool, int, int, int, int) {
	right, bottom := w-1, h-1
	code := func(x, y int) int {
		c := 0
		if x < 0 {
			c |= 1
		}
		if x > right {
			c |= 2
		}
		if y < 0 {
			c |= 4
		}
		if y > bottom {
			c |= 8
		}
		return c
	}
	c1, c2 := code(x1, y1), code(x2, y2)
	if c1&c2 == 0 && c1|c2 != 0 {
		if c1&12 != 0 {
			a := 0
			if c1 >= 8 {
				a = bottom
			}
			x1 += int(float64(a-y1) * float64(x2-x1) / float64(y2-y1))
			y1 = a
			c1 = code(x1, y1) & 3
		}
		if c2&12 != 0 {
			a := 0
			if c2 >= 8 {
				a = bottom
			}
			x2 += int(float64(a-y2) * float64(x2-x1) / float64(y2-y1))
			y2 = a
			c2 = code(x2, y2) & 3
		}
		if c1&c2 == 0 && c1|c2 != 0 {
			if c1 != 0 {
				a := 0
				if c1 != 1 {
					a = right
				}
				y1 += int(float64(a-x1) * float64(y2-y1) / float64(x2-x1))
				x1 = a
				c1 = 0
			}
			if c2 != 0 {
				a := 0
				if c2 != 1 {
					a = right
				}
				y2 += int(float64(a-x2) * float64(y2-y1) / float64(x2-x1))
				x2 = a
				c2 = 0
			}
		}
	}
	return c1|c2 == 0, x1, y1, x2, y2
}

// Limits on the orientation bank (the original's stack arrays held 999).
const (
	maxT = 64
	maxK = 63
)

// bank is the orientation bank as offsets (immutable once built).
type bank struct {
	T, K    int
	halfLen int
	dy, dx  [][]int32 // per kernel: offsets of the ones, in row-major kernel order
}

func newBank(T, K, halfLen int) *bank {
	kb := KernelBank(T, K, halfLen)
	if kb == nil {
		return nil
	}
	b := &bank{T: T, K: K, halfLen: halfLen, dy: make([][]int32, T), dx: make([][]int32, T)}
	c := K / 2
	for i, k := range kb {
		for j, v := range k {
			if v != 0 {
				b.dy[i] = append(b.dy[i], int32(j/K-c))
				b.dx[i] = append(b.dx[i], int32(j%K-c))
			}
		}
	}
	return b
}

// deltas returns, per kernel, the flat offsets dy*w+dx for an image of width
// w, reusing dst.
func (b *bank) deltas(dst [][]int32, w int) [][]int32 {
	if cap(dst) < b.T {
		dst = make([][]int32, b.T)
	}
	dst = dst[:b.T]
	for i := range dst {
		dst[i] = dst[i][:0]
		for j := range b.dy[i] {
			dst[i] = append(dst[i], b.dy[i][j]*int32(w)+b.dx[i][j])
		}
	}
	return dst
}

// descriptor writes the T-dim descriptor of pixel (x, y) of the w x h map e
// into d: od_i = Σ_j e[(y+dy_j)*w + x+dx_j] over kernel i's ones in row-major
// order (zero outside the image), then v = od - mean(od) (mean = Σ od_i / T in
// channel order), d = v / max(‖v‖, 1e-12). delta is b.deltas(_, w).
func (b *bank) descriptor(d []float32, e []float32, w, h, x, y int, delta [][]int32) {
	c := b.K / 2
	T := b.T
	inside := x >= c && x < w-c && y >= c && y < h-c
	o := y*w + x
	var mean float32
	for i := 0; i < T; i++ {
		var s float32
		if inside {
			for _, dl := range delta[i] {
				s += e[o+int(dl)]
			}
		} else {
			for j := range b.dy[i] {
				yy, xx := y+int(b.dy[i][j]), x+int(b.dx[i][j])
				if yy >= 0 && yy < h && xx >= 0 && xx < w {
					s += e[yy*w+xx]
				}
			}
		}
		d[i] = s
		mean += s
	}
	mean /= float32(T)
	var n2 float32
	for i := 0; i < T; i++ {
		d[i] -= mean
		n2 += d[i] * d[i]
	}
	n := float32(math.Sqrt(float64(n2)))
	if n < 1e-12 {
		n = 1e-12
	}
	for i := 0; i < T; i++ {
		d[i] /= n
	}
}

// Orientation returns AirLine's per-pixel orientation descriptor of the edge
// (logit) map as a flat slice of len W*H*T, pixel-major: the descriptor of
// pixel (x, y) is out[(y*W+x)*T : (y*W+x)*T+T], channel i for angle i*180/T.
// It uses the upstream bank (KernelBank(T, K, 50)). nil for invalid input
// (T < 2 or > 64, K even or outside [1, 63], sizes that disagree).
func Orientation(edge *imgbuf.Float, T, K int) []float32 {
	return OrientationHalfLen(edge, T, K, 50)
}

// OrientationHalfLen is Orientation with a chosen kernel line half-length.
func OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) []float32 {
	if edge == nil || edge.W <= 0 || edge.H <= 0 || len(edge.Pix) != edge.W*edge.H || T < 2 || K < 1 || K%2 == 0 {
		return nil
	}
	b := newBank(T, K, halfLen)
	if b == nil {
		return nil
	}
	w, h := edge.W, edge.H
	delta := b.deltas(nil, w)
	out := make([]float32, w*h*T)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := y*w + x
			b.descriptor(out[o*T:o*T+T], edge.Pix, w, h, x, y, delta)
		}
	}
	return out
}
