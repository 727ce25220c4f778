package report

import (
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/imgbuf/imgbuftest"
)

func wantTooLarge(t *testing.T, err error, path, size, limit string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s loaded; want an error saying it is over the pixel limit", path)
	}
	if !errs.Is(err, errs.IO) {
		t.Errorf("error kind %s, want io: %v", errs.KindOf(err), err)
	}
	for _, s := range []string{path, size, limit, "BOHOST_MAX_PIXELS"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// TestLoadImageBomb: LoadImage and Overlay refuse a PNG whose header says
// 1,000,000 × 1,000,000 from the header (before this they died with "fatal
// error: runtime: out of memory"), and allocate nothing big.
func TestLoadImageBomb(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	imgbuftest.WriteFile(t, bomb, imgbuftest.BombPNG(1000000, 1000000))
	var err error
	alloc := imgbuftest.Allocated(func() { _, err = LoadImage(bomb) })
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
	t.Logf("allocated %d bytes", alloc)
	if alloc > 1<<20 {
		t.Errorf("LoadImage allocated %d bytes for a refused 69-byte image", alloc)
	}
	err = Overlay(bomb, map[string][]imgbuf.Segment{"detected": {{X1: 0, Y1: 0, X2: 5, Y2: 5}}}, filepath.Join(dir, "o.png"))
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
}

// TestLoadImageOverLimit: over a lowered limit the image is refused naming
// it; at the limit it loads.
func TestLoadImageOverLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.jpg")
	imgbuftest.WriteFile(t, p, imgbuftest.JPEG(t, 20, 10))
	t.Setenv("BOHOST_MAX_PIXELS", "199")
	_, err := LoadImage(p)
	wantTooLarge(t, err, p, "20 x 10", "199")
	t.Setenv("BOHOST_MAX_PIXELS", "200")
	m, err := LoadImage(p)
	if err != nil || m.Bounds().Dx() != 20 || m.Bounds().Dy() != 10 {
		t.Fatalf("LoadImage at the limit: %v", err)
	}
}
