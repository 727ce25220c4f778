// Package imgbuf holds the plain image buffers and line segments that every
// image engine shares (host/airline, host/dataset, host/metric, host/cv,
// host/gpu), so pixels cross package boundaries without OpenCV or copies.
// Buffers are row-major, origin top-left, x to the right, y down.
//
// It also guards every image bohost opens against decompression bombs:
// ReadHeader reads only a file's header (PNG, JPEG, GIF with the standard
// library; BMP, WebP, TIFF/BigTIFF, PBM/PGM/PPM/PAM/PFM and Sun raster with
// small parsers here, so OpenCV's formats are covered) and allocates a few
// kilobytes whatever it says; Limit.Check compares width × height with the
// pixel limit ResolveLimit gives (a max_pixels option, else
// BOHOST_MAX_PIXELS, else DefaultMaxPixels = 2^26) without overflowing;
// CheckFile does both for a path; Decode and DecodeFile check, then decode
// PNG, JPEG or GIF from the same bytes. Errors are *errs.Error naming the
// file, its size, the limit and how to raise it. FuzzImageHeader fuzzes
// all of it:
//
//	go test -run '^$' -fuzz '^FuzzImageHeader$' -fuzztime 60s ./host/imgbuf/
package imgbuf

import (
	"fmt"
	"math"
)

// Gray is an 8-bit single-channel image.
type Gray struct {
	W, H int
	Pix  []uint8 // len W*H, row-major
}

// NewGray returns a zeroed w x h image.
func NewGray(w, h int) *Gray { return &Gray{W: w, H: h, Pix: make([]uint8, w*h)} }

// At returns the pixel at (x, y); callers keep x, y in range.
func (g *Gray) At(x, y int) uint8 { return g.Pix[y*g.W+x] }

// Set sets the pixel at (x, y).
func (g *Gray) Set(x, y int, v uint8) { g.Pix[y*g.W+x] = v }

// Validate reports an inconsistent buffer.
func (g *Gray) Validate() error {
	if g == nil {
		return fmt.Errorf("imgbuf: nil image")
	}
	if g.W <= 0 || g.H <= 0 || len(g.Pix) != g.W*g.H {
		return fmt.Errorf("imgbuf: bad gray image %dx%d with %d pixels", g.W, g.H, len(g.Pix))
	}
	return nil
}

// Float is a float32 single-channel image (edge maps, gradients).
type Float struct {
	W, H int
	Pix  []float32
}

// NewFloat returns a zeroed w x h float image.
func NewFloat(w, h int) *Float { return &Float{W: w, H: h, Pix: make([]float32, w*h)} }

// At returns the value at (x, y).
func (f *Float) At(x, y int) float32 { return f.Pix[y*f.W+x] }

// Segment is a line segment in pixel coordinates (0-based, pixel centres at integers).
type Segment struct{ X1, Y1, X2, Y2 float64 }

// Len is the segment's Euclidean length.
func (s Segment) Len() float64 { return math.Hypot(s.X2-s.X1, s.Y2-s.Y1) }

// Box is an axis-aligned region of interest, [X0, X1) x [Y0, Y1) in pixels.
type Box struct{ X0, Y0, X1, Y1 int }
