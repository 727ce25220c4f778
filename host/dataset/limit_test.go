package dataset

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf/imgbuftest"
)

// writeItem writes name (image bytes) and its annotation stem.json saying
// w × h, in York Urban's layout.
func writeItem(t *testing.T, dir, name string, img []byte, w, h int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	imgbuftest.WriteFile(t, p, img)
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	imgbuftest.WriteFile(t, filepath.Join(dir, stem+".json"),
		fmt.Appendf(nil, `{"width":%d,"height":%d,"lines":[[0,0,5,5]]}`, w, h))
	return p
}

// wantTooLarge checks err is an io error naming path, the image size and
// the limit, and saying how to raise it.
func wantTooLarge(t *testing.T, err error, path, size, limit string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s loaded; want an error saying it is over the pixel limit", path)
	}
	msg := err.Error()
	t.Log(msg)
	if !errs.Is(err, errs.IO) {
		t.Errorf("error kind %s, want io: %v", errs.KindOf(err), err)
	}
	for _, s := range []string{path, size, limit, "max_pixels", "BOHOST_MAX_PIXELS"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not mention %q", msg, s)
		}
	}
}

// TestOpenBomb: a 69-byte PNG whose header says 1,000,000 × 1,000,000 (and
// whose annotation agrees) is refused by Open from its header, naming the
// file, before any pixel buffer is allocated. Before the limit existed Open
// accepted it and Image(0) died with "fatal error: runtime: out of memory".
func TestOpenBomb(t *testing.T) {
	dir := t.TempDir()
	writeItem(t, dir, "a_ok.png", imgbuftest.PNG(t, 20, 10), 20, 10)
	bomb := writeItem(t, dir, "b_bomb.png", imgbuftest.BombPNG(1000000, 1000000), 1000000, 1000000)
	var err error
	alloc := imgbuftest.Allocated(func() {
		var d *Dataset
		d, err = Open(dir, Options{})
		for i := 0; err == nil && i < d.Len(); i++ {
			_, err = d.Image(i)
		}
	})
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
	t.Logf("allocated %d bytes", alloc)
	if alloc > 1<<20 {
		t.Errorf("Open allocated %d bytes for a refused 69-byte image", alloc)
	}

	_, err = Decode(bomb)
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
}

// TestOpenOverLimit: a valid image over a lowered limit is refused naming
// the file; at the limit it loads.
func TestOpenOverLimit(t *testing.T) {
	dir := t.TempDir()
	p := writeItem(t, dir, "a.png", imgbuftest.PNG(t, 20, 10), 20, 10)
	writeItem(t, dir, "b.jpg", imgbuftest.JPEG(t, 8, 8), 8, 8)
	t.Setenv("BOHOST_MAX_PIXELS", "199")
	_, err := Open(dir, Options{})
	wantTooLarge(t, err, p, "20 x 10", "199")
	_, err = Decode(p)
	wantTooLarge(t, err, p, "20 x 10", "199")

	t.Setenv("BOHOST_MAX_PIXELS", "200")
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Len() {
		if _, err := d.Image(i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Decode(p); err != nil {
		t.Fatal(err)
	}
}

// TestOpenMaxPixelsOption: Options.MaxPixels bounds the images and wins
// over BOHOST_MAX_PIXELS; a negative one is a bad_arg naming it.
func TestOpenMaxPixelsOption(t *testing.T) {
	dir := t.TempDir()
	p := writeItem(t, dir, "a.png", imgbuftest.PNG(t, 20, 10), 20, 10)
	t.Setenv("BOHOST_MAX_PIXELS", "1000")
	_, err := Open(dir, Options{MaxPixels: 150})
	wantTooLarge(t, err, p, "20 x 10", "150")
	t.Setenv("BOHOST_MAX_PIXELS", "100")
	d, err := Open(dir, Options{MaxPixels: 200})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Image(0); err != nil {
		t.Fatalf("Image under max_pixels 200 with BOHOST_MAX_PIXELS=100: %v", err)
	}
	if _, err := Open(dir, Options{MaxPixels: -1}); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "max_pixels") {
		t.Errorf("MaxPixels -1: %v, want bad_arg naming max_pixels", err)
	}
	t.Setenv("BOHOST_MAX_PIXELS", "lots")
	if _, err := Open(dir, Options{}); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), `BOHOST_MAX_PIXELS must be a positive whole number of pixels, got "lots"`) {
		t.Errorf("BOHOST_MAX_PIXELS=lots: %v, want bad_arg naming it", err)
	}
}

// TestOpenFormatNotDecoded: a .png that is really a format the data set does
// not decode (here a Sun raster header) fails Open naming the file, rather
// than the first Image.
func TestOpenFormatNotDecoded(t *testing.T) {
	dir := t.TempDir()
	sun := []byte{0x59, 0xa6, 0x6a, 0x95, 0, 0, 0, 20, 0, 0, 0, 10, 0, 0, 0, 8}
	p := writeItem(t, dir, "a.png", sun, 20, 10)
	_, err := Open(dir, Options{})
	if !errs.Is(err, errs.IO) || !strings.Contains(fmt.Sprint(err), p+": the file is Sun raster, but data sets read PNG, JPEG or GIF") {
		t.Errorf("Open: %v", err)
	}
}
