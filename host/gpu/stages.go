package gpu

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"unsafe"

	"bohost/host/airline"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// Stages is the set of AirLine's per-pixel stages, with airline's CPU
// signatures plus an error. *Context runs them on the device; CPU runs
// host/airline's reference implementation.
type Stages interface {
	Blur(src *imgbuf.Gray, sigma float64) (*imgbuf.Float, error)
	Sobel(src *imgbuf.Float) (gx, gy, mag *imgbuf.Float, err error)
	ClassicalEdges(src *imgbuf.Gray, p airline.EdgeParams) (*imgbuf.Float, error)
	Orientation(edge *imgbuf.Float, T, K int) ([]float32, error)
	OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error)
}

var (
	_ Stages = (*Context)(nil)
	_ Stages = CPU{}
)

// CPU runs host/airline's stages (the reference the GPU matches).
type CPU struct{}

// Blur is airline.Blur.
func (CPU) Blur(src *imgbuf.Gray, sigma float64) (*imgbuf.Float, error) {
	if err := checkGray("gpu.cpu.blur", src); err != nil {
		return nil, err
	}
	return airline.Blur(src, sigma), nil
}

// Sobel is airline.Sobel.
func (CPU) Sobel(src *imgbuf.Float) (gx, gy, mag *imgbuf.Float, err error) {
	if err := checkFloat("gpu.cpu.sobel", src); err != nil {
		return nil, nil, nil, err
	}
	gx, gy, mag = airline.Sobel(src)
	return gx, gy, mag, nil
}

// ClassicalEdges is airline.ClassicalEdges.
func (CPU) ClassicalEdges(src *imgbuf.Gray, p airline.EdgeParams) (*imgbuf.Float, error) {
	if err := checkGray("gpu.cpu.classical_edges", src); err != nil {
		return nil, err
	}
	return airline.ClassicalEdges(src, p), nil
}

// Orientation is airline.Orientation.
func (c CPU) Orientation(edge *imgbuf.Float, T, K int) ([]float32, error) {
	return c.OrientationHalfLen(edge, T, K, 50)
}

// OrientationHalfLen is airline.OrientationHalfLen.
func (CPU) OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error) {
	if _, err := orientBank("gpu.cpu.orientation", edge, T, K, halfLen); err != nil {
		return nil, err
	}
	return airline.OrientationHalfLen(edge, T, K, halfLen), nil
}

func checkGray(op string, g *imgbuf.Gray) error {
	if g == nil {
		return errs.New(errs.BadArg, op, "src image is nil")
	}
	if err := g.Validate(); err != nil {
		return errs.New(errs.BadArg, op, "src: %v", err)
	}
	return nil
}

func checkFloat(op string, f *imgbuf.Float) error {
	switch {
	case f == nil:
		return errs.New(errs.BadArg, op, "src image is nil")
	case f.W <= 0 || f.H <= 0 || len(f.Pix) != f.W*f.H:
		return errs.New(errs.BadArg, op, "src: bad float image %dx%d with %d values", f.W, f.H, len(f.Pix))
	}
	return nil
}

// orientBank validates Orientation's arguments as airline does and returns
// the bank as (dy, dx, start) int32 tables, row-major within each kernel.
func orientBank(op string, edge *imgbuf.Float, T, K, halfLen int) ([3][]int32, error) {
	var tab [3][]int32
	if err := checkFloat(op, edge); err != nil {
		return tab, err
	}
	switch {
	case T < 2 || T > 64:
		return tab, errs.New(errs.BadArg, op, "T must be in [2, 64], got %d", T)
	case K < 1 || K > 63 || K%2 == 0:
		return tab, errs.New(errs.BadArg, op, "K must be odd in [1, 63], got %d", K)
	case halfLen < 0:
		return tab, errs.New(errs.BadArg, op, "halfLen must be >= 0, got %d", halfLen)
	}
	kb := airline.KernelBank(T, K, halfLen)
	if kb == nil {
		return tab, errs.New(errs.BadArg, op, "no kernel bank for T=%d K=%d halfLen=%d", T, K, halfLen)
	}
	c := K / 2
	tab[2] = append(tab[2], 0)
	for _, k := range kb {
		for j, v := range k {
			if v != 0 {
				tab[0] = append(tab[0], int32(j/K-c))
				tab[1] = append(tab[1], int32(j%K-c))
			}
		}
		tab[2] = append(tab[2], int32(len(tab[0])))
	}
	if len(tab[0]) == 0 { // cuMemAlloc needs >= 1 byte; an all-zero bank sums nothing
		tab[0], tab[1] = []int32{0}, []int32{0}
	}
	return tab, nil
}

// scope tracks the device blocks of one stage call on the owner goroutine
// and frees them when the call ends, on success or error.
type scope struct {
	c    *Context
	op   string
	ptrs []uint64
}

func (s *scope) alloc(bytes int) (uint64, error) {
	p, err := s.c.pool.alloc(uint64(bytes), s.op)
	if err != nil {
		return 0, err
	}
	s.ptrs = append(s.ptrs, p)
	return p, nil
}

func (s *scope) close() {
	for _, p := range s.ptrs {
		_ = s.c.pool.release(p) // cannot fail: p is live and ours
	}
	s.ptrs = nil
}

// upload allocates a block and copies n bytes from src into it.
func (s *scope) upload(src unsafe.Pointer, n int) (uint64, error) {
	p, err := s.alloc(n)
	if err != nil {
		return 0, err
	}
	if err := s.c.drv.htod(p, src, uint64(n)); err != nil {
		return 0, wrap(errs.Failed, s.op, err)
	}
	return p, nil
}

func (s *scope) download(dst unsafe.Pointer, src uint64, n int) error {
	return wrap(errs.Failed, s.op, s.c.drv.dtoh(dst, src, uint64(n)))
}

const block2D = 16

func (s *scope) launch(name string, grid, block [3]uint32, args ...any) error {
	f, err := s.c.kernel(name)
	if err != nil {
		return err
	}
	ka, err := packArgs(args...)
	if err != nil {
		return errs.New(errs.Internal, s.op, "%s: %v", name, err)
	}
	err = s.c.drv.launch(f, grid, block, ka.ptrs)
	runtime.KeepAlive(ka)
	if err != nil {
		return wrap(errs.Failed, s.op, fmt.Errorf("launching %s: %w", name, err))
	}
	return nil
}

func (s *scope) launch2D(name string, w, h int, args ...any) error {
	g := [3]uint32{uint32((w + block2D - 1) / block2D), uint32((h + block2D - 1) / block2D), 1}
	return s.launch(name, g, [3]uint32{block2D, block2D, 1}, args...)
}

func (s *scope) launch1D(name string, n int, args ...any) error {
	const b = 256
	return s.launch(name, [3]uint32{uint32((n + b - 1) / b), 1, 1}, [3]uint32{b, 1, 1}, args...)
}

// stage runs f on the owner goroutine with a fresh scope.
func (c *Context) stage(op string, f func(s *scope) error) error {
	return c.do(op, func() error {
		s := &scope{c: c, op: op}
		defer s.close()
		return f(s)
	})
}

func f32ptr(p []float32) unsafe.Pointer { return unsafe.Pointer(&p[0]) }
func i32ptr(p []int32) unsafe.Pointer   { return unsafe.Pointer(&p[0]) }

// blurDev blurs the w x h uint8 image at src into the float32 image at dst.
func (s *scope) blurDev(dst, src uint64, w, h int, sigma float64) error {
	k := airline.GaussianKernel(sigma)
	r := len(k) / 2
	if r == 0 {
		return s.launch1D("bh_u8_to_f32", w*h, devPtr(src), devPtr(dst), w*h)
	}
	tmp, err := s.alloc(4 * w * h)
	if err != nil {
		return err
	}
	dk, err := s.upload(f32ptr(k), 4*len(k))
	if err != nil {
		return err
	}
	if err := s.launch2D("bh_blur_h", w, h, devPtr(src), devPtr(tmp), w, h, devPtr(dk), r); err != nil {
		return err
	}
	return s.launch2D("bh_blur_v", w, h, devPtr(tmp), devPtr(dst), w, h, devPtr(dk), r)
}

// Blur is airline.Blur on the device.
func (c *Context) Blur(src *imgbuf.Gray, sigma float64) (*imgbuf.Float, error) {
	const op = "gpu.blur"
	if err := checkGray(op, src); err != nil {
		return nil, err
	}
	w, h, n := src.W, src.H, src.W*src.H
	out := imgbuf.NewFloat(w, h)
	err := c.stage(op, func(s *scope) error {
		ds, err := s.upload(unsafe.Pointer(&src.Pix[0]), n)
		if err != nil {
			return err
		}
		dd, err := s.alloc(4 * n)
		if err != nil {
			return err
		}
		if err := s.blurDev(dd, ds, w, h, sigma); err != nil {
			return err
		}
		return s.download(f32ptr(out.Pix), dd, 4*n)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Sobel is airline.Sobel on the device.
func (c *Context) Sobel(src *imgbuf.Float) (gx, gy, mag *imgbuf.Float, err error) {
	const op = "gpu.sobel"
	if err := checkFloat(op, src); err != nil {
		return nil, nil, nil, err
	}
	w, h, n := src.W, src.H, src.W*src.H
	gx, gy, mag = imgbuf.NewFloat(w, h), imgbuf.NewFloat(w, h), imgbuf.NewFloat(w, h)
	err = c.stage(op, func(s *scope) error {
		ds, err := s.upload(f32ptr(src.Pix), 4*n)
		if err != nil {
			return err
		}
		var d [3]uint64
		for i := range d {
			if d[i], err = s.alloc(4 * n); err != nil {
				return err
			}
		}
		if err := s.launch2D("bh_sobel", w, h, devPtr(ds), devPtr(d[0]), devPtr(d[1]), devPtr(d[2]), w, h); err != nil {
			return err
		}
		for i, o := range []*imgbuf.Float{gx, gy, mag} {
			if err := s.download(f32ptr(o.Pix), d[i], 4*n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return gx, gy, mag, nil
}

// ClassicalEdges is airline.ClassicalEdges on the device: blur, Sobel,
// non-maximum suppression, hysteresis (rounds of a parallel flood fill until
// nothing changes) and the logit map.
func (c *Context) ClassicalEdges(src *imgbuf.Gray, p airline.EdgeParams) (*imgbuf.Float, error) {
	const op = "gpu.classical_edges"
	if err := checkGray(op, src); err != nil {
		return nil, err
	}
	p = p.WithDefaults()
	w, h, n := src.W, src.H, src.W*src.H
	out := imgbuf.NewFloat(w, h)
	hyst := 0
	if p.High > 0 {
		hyst = 1
	}
	nonms := 1
	if p.NMS {
		nonms = 0
	}
	err := c.stage(op, func(s *scope) error {
		ds, err := s.upload(unsafe.Pointer(&src.Pix[0]), n)
		if err != nil {
			return err
		}
		var d [5]uint64 // blur, gx, gy, mag, logit
		for i := range d {
			if d[i], err = s.alloc(4 * n); err != nil {
				return err
			}
		}
		keep, err := s.alloc(n)
		if err != nil {
			return err
		}
		if err := s.blurDev(d[0], ds, w, h, p.Sigma); err != nil {
			return err
		}
		if err := s.launch2D("bh_sobel", w, h, devPtr(d[0]), devPtr(d[1]), devPtr(d[2]), devPtr(d[3]), w, h); err != nil {
			return err
		}
		if err := s.launch2D("bh_nms", w, h, devPtr(d[3]), devPtr(d[1]), devPtr(d[2]), devPtr(keep), w, h,
			nonms, hyst, float32(p.High)); err != nil {
			return err
		}
		if hyst == 1 {
			flag, err := s.alloc(4)
			if err != nil {
				return err
			}
			var changed int32
			for round := 0; ; round++ {
				if round > n {
					return errs.New(errs.Internal, op, "hysteresis did not converge in %d rounds", n)
				}
				changed = 0
				if err := s.c.drv.htod(flag, unsafe.Pointer(&changed), 4); err != nil {
					return wrap(errs.Failed, op, err)
				}
				if err := s.launch2D("bh_hyst", w, h, devPtr(keep), devPtr(d[3]), w, h, float32(p.Low), devPtr(flag)); err != nil {
					return err
				}
				if err := s.download(unsafe.Pointer(&changed), flag, 4); err != nil {
					return err
				}
				if changed == 0 {
					break
				}
			}
		}
		if err := s.launch1D("bh_logit", n, devPtr(d[3]), devPtr(keep), devPtr(d[4]), n, hyst,
			float32(p.Floor), p.Gain, math.Log(p.Ref)); err != nil {
			return err
		}
		return s.download(f32ptr(out.Pix), d[4], 4*n)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Orientation is airline.Orientation on the device (halfLen 50).
func (c *Context) Orientation(edge *imgbuf.Float, T, K int) ([]float32, error) {
	return c.OrientationHalfLen(edge, T, K, 50)
}

// OrientationHalfLen is airline.OrientationHalfLen on the device: len
// W*H*T, pixel-major.
func (c *Context) OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error) {
	const op = "gpu.orientation"
	tab, err := orientBank(op, edge, T, K, halfLen)
	if err != nil {
		return nil, err
	}
	w, h, n := edge.W, edge.H, edge.W*edge.H
	out := make([]float32, n*T)
	err = c.stage(op, func(s *scope) error {
		de, err := s.upload(f32ptr(edge.Pix), 4*n)
		if err != nil {
			return err
		}
		var dt [3]uint64
		for i, t := range tab {
			if dt[i], err = s.upload(i32ptr(t), 4*len(t)); err != nil {
				return err
			}
		}
		dOut, err := s.alloc(4 * n * T)
		if err != nil {
			return err
		}
		if err := s.launch2D("bh_orient", w, h, devPtr(de), devPtr(dOut), w, h, T,
			devPtr(dt[0]), devPtr(dt[1]), devPtr(dt[2])); err != nil {
			return err
		}
		return s.download(f32ptr(out), dOut, 4*n*T)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ToGray is host/dataset.ToGray on the device for *image.RGBA and
// *image.NRGBA: (4899 R + 9617 G + 1868 B + 8192) >> 14.
func (c *Context) ToGray(m image.Image) (*imgbuf.Gray, error) {
	const op = "gpu.to_gray"
	var pix []uint8
	var stride int
	var r image.Rectangle
	switch v := m.(type) {
	case *image.RGBA:
		pix, stride, r = v.Pix, v.Stride, v.Rect
		if !r.Empty() {
			pix = pix[v.PixOffset(r.Min.X, r.Min.Y):]
		}
	case *image.NRGBA:
		pix, stride, r = v.Pix, v.Stride, v.Rect
		if !r.Empty() {
			pix = pix[v.PixOffset(r.Min.X, r.Min.Y):]
		}
	default:
		return nil, errs.New(errs.BadArg, op, "image must be *image.RGBA or *image.NRGBA, got %T", m)
	}
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 {
		return nil, errs.New(errs.BadArg, op, "image is empty (%dx%d)", w, h)
	}
	need := (h-1)*stride + 4*w
	if len(pix) < need {
		return nil, errs.New(errs.BadArg, op, "image has %d bytes from its origin, %dx%d with stride %d needs %d", len(pix), w, h, stride, need)
	}
	out := imgbuf.NewGray(w, h)
	err := c.stage(op, func(s *scope) error {
		ds, err := s.upload(unsafe.Pointer(&pix[0]), need)
		if err != nil {
			return err
		}
		dd, err := s.alloc(w * h)
		if err != nil {
			return err
		}
		if err := s.launch2D("bh_rgba_to_gray", w, h, devPtr(ds), stride, devPtr(dd), w, h); err != nil {
			return err
		}
		return s.download(unsafe.Pointer(&out.Pix[0]), dd, w*h)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
