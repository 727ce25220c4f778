package imgbuf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/imgbuf/imgbuftest"
)

func encode(t testing.TB, f func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffIFD builds a minimal classic TIFF (byte order bo) whose first IFD, at
// offset off (>= 8), holds the given 12-byte entries.
func tiffIFD(bo byteOrder, off int, entries ...[]byte) []byte {
	b := make([]byte, max(off, 8))
	if bo.String() == "LittleEndian" {
		copy(b, "II*\x00")
	} else {
		copy(b, "MM\x00*")
	}
	bo.PutUint32(b[4:], uint32(off))
	b = bo.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = append(b, e...)
	}
	return bo.AppendUint32(b, 0)
}

func tiffEntry(bo byteOrder, tag, typ uint16, count, val uint32) []byte {
	e := make([]byte, 12)
	bo.PutUint16(e, tag)
	bo.PutUint16(e[2:], typ)
	bo.PutUint32(e[4:], count)
	if typ == 3 {
		bo.PutUint16(e[8:], uint16(val))
	} else {
		bo.PutUint32(e[8:], val)
	}
	return e
}

func bigTIFF(w, h uint64) []byte {
	b := []byte("II+\x00\x08\x00\x00\x00")
	b = binary.LittleEndian.AppendUint64(b, 16)
	b = binary.LittleEndian.AppendUint64(b, 2)
	for i, v := range []uint64{w, h} {
		b = binary.LittleEndian.AppendUint16(b, uint16(256+i))
		b = binary.LittleEndian.AppendUint16(b, 16) // LONG8
		b = binary.LittleEndian.AppendUint64(b, 1)
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return binary.LittleEndian.AppendUint64(b, 0)
}

func riff(chunk string, payload []byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBP" + chunk)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func webpVP8L(w, h int) []byte {
	v := uint32(w-1) | uint32(h-1)<<14
	return riff("VP8L", binary.LittleEndian.AppendUint32([]byte{0x2f}, v))
}

func webpVP8X(w, h int) []byte {
	p := []byte{0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riff("VP8X", p)
}

func webpVP8(w, h int) []byte {
	p := []byte{0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8 & 0x3f), byte(h), byte(h >> 8 & 0x3f)}
	return riff("VP8 ", p)
}

func sunRaster(w, h uint32) []byte {
	b := []byte{0x59, 0xa6, 0x6a, 0x95}
	for _, v := range []uint32{w, h, 8, w * h, 1, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func bmpCore(w, h uint16) []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 26)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 26)
	b = binary.LittleEndian.AppendUint32(b, 12)
	b = binary.LittleEndian.AppendUint16(b, w)
	return binary.LittleEndian.AppendUint16(b, h)
}

// headerCases are files with the header they must give (w > 0) or an error
// (w == 0, err: a substring of it).
func headerCases(t testing.TB) []struct {
	name   string
	data   []byte
	format string
	w, h   int
	err    string
} {
	le, be := binary.LittleEndian, binary.BigEndian
	rgba := image.NewNRGBA64(image.Rect(0, 0, 7, 5))
	pal := image.NewPaletted(image.Rect(0, 0, 9, 4), palette.Plan9)
	bomb := imgbuftest.BombPNG(1000000, 1000000)
	jpg := imgbuftest.JPEG(t, 33, 17)
	return []struct {
		name   string
		data   []byte
		format string
		w, h   int
		err    string
	}{
		{"png", imgbuftest.PNG(t, 20, 10), "png", 20, 10, ""},
		{"png16", encode(t, func(w io.Writer) error { return png.Encode(w, rgba) }), "png", 7, 5, ""},
		{"png-bomb", bomb, "png", 1000000, 1000000, ""},
		{"png-truncated-ihdr", bomb[:20], "png", 0, 0, "PNG header: unexpected EOF"},
		{"jpeg", jpg, "jpeg", 33, 17, ""},
		{"jpeg-truncated", jpg[:20], "jpeg", 0, 0, "JPEG header"},
		{"gif", encode(t, func(w io.Writer) error { return gif.Encode(w, pal, nil) }), "gif", 9, 4, ""},
		{"bmp", encode(t, func(w io.Writer) error { return bmp.Encode(w, imgbuftest.Gray(6, 3)) }), "bmp", 6, 3, ""},
		{"bmp-core", bmpCore(300, 200), "bmp", 300, 200, ""},
		{"tiff", encode(t, func(w io.Writer) error { return tiff.Encode(w, imgbuftest.Gray(12, 8), nil) }), "tiff", 12, 8, ""},
		{"tiff-be-short", tiffIFD(be, 8, tiffEntry(be, 256, 3, 1, 4000), tiffEntry(be, 257, 3, 1, 3000)), "tiff", 4000, 3000, ""},
		{"tiff-le-late-ifd", tiffIFD(le, 5000, tiffEntry(le, 254, 4, 1, 0), tiffEntry(le, 256, 4, 1, 70000), tiffEntry(le, 257, 4, 1, 70000)), "tiff", 70000, 70000, ""},
		{"tiff-no-height", tiffIFD(le, 8, tiffEntry(le, 256, 4, 1, 10)), "tiff", 0, 0, "no ImageWidth or ImageLength"},
		{"tiff-ifd-past-end", tiffIFD(le, 8, tiffEntry(le, 256, 4, 1, 10))[:12], "tiff", 0, 0, "TIFF header"},
		{"tiff-ifd-in-header", tiffIFD(le, 4), "tiff", 0, 0, "inside the header"},
		{"bigtiff", bigTIFF(5, 6), "tiff", 5, 6, ""},
		{"bigtiff-huge", bigTIFF(1<<41, 6), "tiff", 0, 0, "tag 256"},
		{"webp-vp8l", webpVP8L(16383, 2), "webp", 16383, 2, ""},
		{"webp-vp8x", webpVP8X(1<<24, 3), "webp", 1 << 24, 3, ""},
		{"webp-vp8", webpVP8(640, 480), "webp", 640, 480, ""},
		{"webp-truncated", webpVP8X(10, 10)[:24], "webp", 0, 0, "WebP header: unexpected EOF"},
		{"pgm", []byte("P5\n# a comment\n 640\t480\n255\n\x00\x01"), "pnm", 640, 480, ""},
		{"pbm", []byte("P1 3 2\n0 1 0\n1 0 1\n"), "pnm", 3, 2, ""},
		{"pam", []byte("P7\nWIDTH 4\nHEIGHT 9\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n"), "pnm", 4, 9, ""},
		{"pfm", []byte("PF\n100 50\n-1.0\n"), "pnm", 100, 50, ""},
		{"pnm-overflow", []byte("P6\n99999999999999999999 2\n255\n"), "pnm", 0, 0, "not a whole number below 2^31"},
		{"pnm-truncated", []byte("P6\n640"), "pnm", 0, 0, "PNM header"},
		{"sun", sunRaster(64, 32), "sunras", 64, 32, ""},
		{"sun-zero", sunRaster(0, 32), "sunras", 0, 0, "size 0 x 32"},
		{"empty", nil, "", 0, 0, "empty file"},
		{"text", []byte("hello, world"), "", 0, 0, "unknown format: not PNG"},
	}
}

func TestReadHeader(t *testing.T) {
	for _, tc := range headerCases(t) {
		var h imgbuf.Header
		var err error
		alloc := imgbuftest.Allocated(func() { h, err = imgbuf.ReadHeader(bytes.NewReader(tc.data)) })
		if alloc > 64<<10 {
			t.Errorf("%s: ReadHeader allocated %d bytes", tc.name, alloc)
		}
		if tc.w == 0 {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %+v, %v; want an error containing %q", tc.name, h, err, tc.err)
			}
			continue
		}
		if err != nil || h != (imgbuf.Header{Format: tc.format, Width: tc.w, Height: tc.h}) {
			t.Errorf("%s: got %+v, %v; want %s %d x %d", tc.name, h, err, tc.format, tc.w, tc.h)
		}
	}
}

func TestResolveLimit(t *testing.T) {
	t.Setenv(imgbuf.MaxPixelsEnv, "")
	os.Unsetenv(imgbuf.MaxPixelsEnv)
	if l, err := imgbuf.ResolveLimit(0); err != nil || l != (imgbuf.Limit{Pixels: 1 << 26, Source: "default"}) {
		t.Errorf("default: %+v, %v", l, err)
	}
	if l, err := imgbuf.ResolveLimit(500); err != nil || l.Pixels != 500 || l.Source != "max_pixels" {
		t.Errorf("option: %+v, %v", l, err)
	}
	t.Setenv(imgbuf.MaxPixelsEnv, " 1000 ")
	if l, err := imgbuf.ResolveLimit(0); err != nil || l.Pixels != 1000 || l.Source != imgbuf.MaxPixelsEnv {
		t.Errorf("env: %+v, %v", l, err)
	}
	if l, err := imgbuf.ResolveLimit(500); err != nil || l.Pixels != 500 {
		t.Errorf("the option wins over the env: %+v, %v", l, err)
	}
	for _, v := range []string{"", "0", "-3", "1e6", "lots", "99999999999999999999"} {
		t.Setenv(imgbuf.MaxPixelsEnv, v)
		if _, err := imgbuf.ResolveLimit(0); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), imgbuf.MaxPixelsEnv) {
			t.Errorf("%s=%q: %v, want bad_arg naming it", imgbuf.MaxPixelsEnv, v, err)
		}
	}
	if _, err := imgbuf.ResolveLimit(-1); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "max_pixels") {
		t.Errorf("-1: %v", err)
	}
}

func TestLimitCheck(t *testing.T) {
	l := imgbuf.Limit{Pixels: 100, Source: "max_pixels"}
	for _, tc := range []struct {
		w, h int
		ok   bool
		msg  string
	}{
		{10, 10, true, ""}, {100, 1, true, ""}, {1, 100, true, ""},
		{101, 1, false, "101 x 1 = 101 pixels, over the limit of 100 pixels (max_pixels)"},
		{11, 10, false, "11 x 10 = 110"},
		{0, 5, false, "0 x 5"}, {5, -1, false, "5 x -1"},
		{math.MaxInt, math.MaxInt, false, "9223372036854775807 x 9223372036854775807 = 8.507e+37 pixels"},
		{1 << 31, 1 << 31, false, "= 4611686018427387904 pixels"},
	} {
		err := l.Check("f.png", tc.w, tc.h)
		if tc.ok != (err == nil) || err != nil && (!strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "f.png") || !errs.Is(err, errs.IO)) {
			t.Errorf("%d x %d: %v (want ok=%v, %q)", tc.w, tc.h, err, tc.ok, tc.msg)
		}
	}
	// A product that overflows int64 must not sneak under a huge limit.
	huge := imgbuf.Limit{Pixels: math.MaxInt64}
	if err := huge.Check("f", 1<<32, 1<<32); err == nil {
		t.Errorf("2^64 pixels passed a limit of MaxInt64")
	}
	if err := huge.Check("f", 1<<31, 1<<31); err != nil {
		t.Errorf("2^62 pixels under a limit of MaxInt64: %v", err)
	}
}

// noReaderAt hides bytes.Reader's other methods, to decode from a stream.
type noReaderAt struct{ r io.Reader }

func (n noReaderAt) Read(p []byte) (int, error) { return n.r.Read(p) }

func TestDecode(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 9, 4), palette.Plan9)
	pal.SetColorIndex(3, 2, 200)
	for _, tc := range []struct {
		data   []byte
		format string
		w, h   int
	}{
		{imgbuftest.PNG(t, 20, 10), "png", 20, 10},
		{imgbuftest.JPEG(t, 33, 17), "jpeg", 33, 17},
		{encode(t, func(w io.Writer) error { return gif.Encode(w, pal, nil) }), "gif", 9, 4},
	} {
		for _, r := range []io.Reader{bytes.NewReader(tc.data), noReaderAt{bytes.NewReader(tc.data)}} {
			m, h, err := imgbuf.Decode(r, "x", 1000)
			if err != nil || h.Format != tc.format || m.Bounds() != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("%s: %v, %+v, %v", tc.format, m.Bounds(), h, err)
			}
			want, _, _ := image.Decode(bytes.NewReader(tc.data))
			for y := 0; y < tc.h; y++ {
				for x := 0; x < tc.w; x++ {
					if color.GrayModel.Convert(m.At(x, y)) != color.GrayModel.Convert(want.At(x, y)) {
						t.Fatalf("%s: pixel (%d, %d) differs from image.Decode's", tc.format, x, y)
					}
				}
			}
		}
		if _, _, err := imgbuf.Decode(bytes.NewReader(tc.data), "x.img", int64(tc.w*tc.h-1)); !errs.Is(err, errs.IO) ||
			!strings.Contains(err.Error(), "x.img") || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("%s over the limit: %v", tc.format, err)
		}
	}
	tf := encode(t, func(w io.Writer) error { return tiff.Encode(w, imgbuftest.Gray(12, 8), nil) })
	if _, _, err := imgbuf.Decode(bytes.NewReader(tf), "x.tif", 0); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "x.tif: TIFF files are not decoded here (want PNG, JPEG or GIF)") {
		t.Errorf("TIFF: %v", err)
	}
	var he *imgbuf.HeaderError
	if _, _, err := imgbuf.Decode(bytes.NewReader([]byte("\x89PNG\r\n\x1a\nnot really")), "g.png", 0); !errs.Is(err, errs.IO) || !errors.As(err, &he) || !strings.Contains(err.Error(), "g.png: cannot read the image header") {
		t.Errorf("garbage: %v", err)
	}
}

func TestBombAllocatesNothing(t *testing.T) {
	bomb := imgbuftest.BombPNG(1000000, 1000000)
	var err error
	alloc := imgbuftest.Allocated(func() { _, _, err = imgbuf.Decode(bytes.NewReader(bomb), "bomb.png", 0) })
	if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "bomb.png: image is 1000000 x 1000000 = 1000000000000 pixels, over the limit of 67108864 pixels") {
		t.Errorf("bomb: %v", err)
	}
	if alloc > 64<<10 {
		t.Errorf("refusing a 69-byte bomb allocated %d bytes", alloc)
	}
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	imgbuftest.WriteFile(t, p, imgbuftest.PNG(t, 20, 10))
	if h, err := imgbuf.CheckFile(p, 200); err != nil || h.Width != 20 || h.Height != 10 {
		t.Errorf("CheckFile: %+v, %v", h, err)
	}
	if _, err := imgbuf.CheckFile(p, 199); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), p+": image is 20 x 10 = 200 pixels, over the limit of 199 pixels (max_pixels)") || !strings.Contains(err.Error(), "BOHOST_MAX_PIXELS") {
		t.Errorf("over: %v", err)
	}
	missing := filepath.Join(dir, "missing.png")
	if _, err := imgbuf.CheckFile(missing, 0); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing+": no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, _, err := imgbuf.DecodeFile(missing, 0); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
}
