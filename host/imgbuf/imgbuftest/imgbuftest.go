// Package imgbuftest makes image files for tests: decompression bombs whose
// header promises far more pixels than the file holds, and small valid images.
package imgbuftest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"
)

// BombPNG returns a tiny, well-formed PNG start whose IHDR says w × h 8-bit
// grey pixels: the signature, IHDR (with a correct CRC), one IDAT holding a
// few compressed bytes, and IEND. BombPNG(1000000, 1000000) is 69 bytes; a
// decoder that trusts the header allocates w*h bytes before it finds out the
// data is missing.
func BombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 0 // colour type: grey
	chunk(&b, "IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte{0, 0, 0, 0}) // filter byte + first pixels of row 0
	zw.Flush()                   // no zlib end: the data just stops
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// Gray returns a w × h grey test pattern.
func Gray(w, h int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetGray(x, y, color.Gray{Y: uint8(x*7 + y*13)})
		}
	}
	return m
}

// PNG encodes a w × h grey test pattern.
func PNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, Gray(w, h)); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// JPEG encodes a w × h grey test pattern.
func JPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, Gray(w, h), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// WriteFile writes data to path or fails the test.
func WriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Allocated runs fn and returns the bytes the Go heap allocated meanwhile
// (runtime.MemStats.TotalAlloc; memory OpenCV allocates in C is not seen).
// It measures an amount, not a time.
func Allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// AllocatedMin is the least of Allocated(fn) over n runs: TotalAlloc is
// process-wide, so another goroutine (the fuzzing engine's own, say) can
// add to one measurement, never take away; fn must be repeatable.
func AllocatedMin(n int, fn func()) uint64 {
	m := Allocated(fn)
	for i := 1; i < n && m > 0; i++ {
		m = min(m, Allocated(fn))
	}
	return m
}
