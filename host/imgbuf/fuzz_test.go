package imgbuf_test

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"bohost/host/imgbuf"
	"bohost/host/imgbuf/imgbuftest"
)

// fuzzLimit is the pixel limit the fuzz target decodes under: small, so that
// a decode the header check lets through stays cheap.
const fuzzLimit = 1 << 16

// headerAllocBound bounds what ReadHeader may allocate whatever the input:
// it reads a header, never pixels.
const headerAllocBound = 64 << 10

// decodeAllocBound bounds what Decode may allocate for a w × h header that
// passed the check: 64 bytes a pixel of the size padded to JPEG's largest MCU
// (32 × 32; a 16-bit RGBA PNG needs 8 a pixel, a progressive 4:4:4:4 JPEG
// about 20), plus what the header check buffered and 1 MiB of decoder state.
func decodeAllocBound(w, h, n int) uint64 {
	return 1<<20 + 4*uint64(n) + 64*uint64(w+32)*uint64(h+32)
}

// FuzzImageHeader checks the header check on any input: ReadHeader never
// panics and allocates at most headerAllocBound; a size it returns is
// positive and, for the formats x/image also reads (BMP, TIFF, WebP), the
// same as x/image's when both succeed; Decode refuses an image over the
// limit allocating almost nothing (so a bomb costs nothing), and an image
// within it either fails to decode or decodes to exactly the header's size
// (a GIF's first frame: inside it), allocating at most decodeAllocBound.
//
// The seeds are testdata/fuzz/FuzzImageHeader (plain `go test` runs them):
// the 69-byte 1,000,000 × 1,000,000 PNG, small valid PNG, JPEG, GIF, BMP,
// TIFF, BigTIFF, WebP, PNM and Sun raster headers, and truncated ones.
// BOHOST_REGEN_FUZZ=1 go test -run TestWriteFuzzSeeds rewrites them.
// Fuzz for a bounded time with
//
//	go test -run '^$' -fuzz '^FuzzImageHeader$' -fuzztime 60s ./host/imgbuf/
func FuzzImageHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var h imgbuf.Header
		var herr error
		if a := imgbuftest.AllocatedMin(3, func() { h, herr = imgbuf.ReadHeader(bytes.NewReader(data)) }); a > headerAllocBound {
			t.Fatalf("ReadHeader allocated %d bytes (bound %d) for %d bytes of input", a, headerAllocBound, len(data))
		}
		if herr == nil && (h.Width <= 0 || h.Height <= 0) {
			t.Fatalf("ReadHeader gave %+v without an error", h)
		}
		if herr == nil {
			crossCheck(t, data, h)
		}

		var m image.Image
		var dh imgbuf.Header
		var derr error
		a := imgbuftest.AllocatedMin(3, func() { m, dh, derr = imgbuf.Decode(bytes.NewReader(data), "fuzz", fuzzLimit) })
		over := herr != nil || imgbuf.Limit{Pixels: fuzzLimit}.Check("fuzz", h.Width, h.Height) != nil
		switch {
		case over && derr == nil:
			t.Fatalf("Decode decoded %v though the header check fails (%+v, %v)", m.Bounds(), h, herr)
		case over && a > headerAllocBound+4*uint64(len(data)):
			t.Fatalf("Decode allocated %d bytes refusing %+v", a, h)
		case over:
			return
		case a > decodeAllocBound(h.Width, h.Height, len(data)):
			t.Fatalf("Decode allocated %d bytes for a %d x %d %s", a, h.Width, h.Height, h.Format)
		case derr != nil:
			return
		case dh != h:
			t.Fatalf("Decode's header %+v differs from ReadHeader's %+v", dh, h)
		}
		b := m.Bounds()
		if h.Format == "gif" {
			if !b.In(image.Rect(0, 0, h.Width, h.Height)) {
				t.Fatalf("GIF frame %v outside the %d x %d screen", b, h.Width, h.Height)
			}
		} else if b.Dx() != h.Width || b.Dy() != h.Height {
			t.Fatalf("%s decoded to %v, header says %d x %d", h.Format, b, h.Width, h.Height)
		}
	})
}

// crossCheck compares ReadHeader's size with x/image's DecodeConfig for the
// formats parsed here that x/image also reads, when it reads them.
func crossCheck(t *testing.T, data []byte, h imgbuf.Header) {
	var dc func(io.Reader) (image.Config, error)
	switch h.Format {
	case "bmp":
		dc = bmp.DecodeConfig
	case "tiff":
		dc = tiff.DecodeConfig
	case "webp":
		dc = webp.DecodeConfig
	case "gif":
		dc = gif.DecodeConfig
	default:
		return
	}
	c, err := dc(bytes.NewReader(data))
	if err == nil && (c.Width != h.Width || c.Height != h.Height) {
		t.Fatalf("%s: ReadHeader says %d x %d, x/image %d x %d", h.Format, h.Width, h.Height, c.Width, c.Height)
	}
}

// TestWriteFuzzSeeds writes the seed corpus of FuzzImageHeader from
// headerCases and a few whole images.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("BOHOST_REGEN_FUZZ") == "" {
		t.Skip("set BOHOST_REGEN_FUZZ=1 to rewrite testdata/fuzz/FuzzImageHeader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzImageHeader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range headerCases(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(tc.data)))
		if err := os.WriteFile(filepath.Join(dir, tc.name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzSeedsPresent: the committed corpus holds the cases the fuzz target
// promises (go test runs them as FuzzImageHeader's subtests).
func TestFuzzSeedsPresent(t *testing.T) {
	for _, name := range []string{"png-bomb", "png", "jpeg", "png-truncated-ihdr", "jpeg-truncated", "tiff", "webp-vp8l", "pgm"} {
		if _, err := os.Stat(filepath.Join("testdata", "fuzz", "FuzzImageHeader", name)); err != nil {
			t.Errorf("seed %s: %v (BOHOST_REGEN_FUZZ=1 go test -run TestWriteFuzzSeeds ./host/imgbuf/ writes it)", name, err)
		}
	}
}
