package cv

import (
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf/imgbuftest"
)

func wantTooLarge(t *testing.T, err error, path, size, limit string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s decoded; want an error saying it is over the pixel limit", path)
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

// TestDecodeBomb: Decode checks the header's size against the pixel limit
// before OpenCV sees the file (OpenCV's own limit is 2^30 pixels, about
// 1 GiB of grey Mat), and names the file, the size and the limit.
func TestDecodeBomb(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	imgbuftest.WriteFile(t, bomb, imgbuftest.BombPNG(1000000, 1000000))
	var err error
	alloc := imgbuftest.Allocated(func() { _, err = Decode(bomb) })
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
	t.Logf("allocated %d bytes", alloc)
	if alloc > 1<<20 {
		t.Errorf("Decode allocated %d bytes for a refused 69-byte image", alloc)
	}
}

// TestDecodeOverLimit: a valid image over a lowered limit is refused; one
// at the limit decodes.
func TestDecodeOverLimit(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		data []byte
	}{{"a.png", imgbuftest.PNG(t, 20, 10)}, {"a.jpg", imgbuftest.JPEG(t, 20, 10)}} {
		p := filepath.Join(dir, f.name)
		imgbuftest.WriteFile(t, p, f.data)
		t.Setenv("BOHOST_MAX_PIXELS", "199")
		_, err := Decode(p)
		wantTooLarge(t, err, p, "20 x 10", "199")
		t.Setenv("BOHOST_MAX_PIXELS", "200")
		g, err := Decode(p)
		if err != nil || g.W != 20 || g.H != 10 {
			t.Fatalf("Decode(%s) at the limit: %v", p, err)
		}
	}
}

// TestDecodeOpenCVLimits: with the pixel limit raised past OpenCV's own, an
// image OpenCV would refuse by throwing (which gocv does not catch, so the
// process aborted with SIGABRT) is an io error instead.
func TestDecodeOpenCVLimits(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BOHOST_MAX_PIXELS", "1099511627776")
	for _, wh := range [][2]uint32{{1 << 21, 1}, {1 << 16, 1 << 16}} {
		p := filepath.Join(dir, "wide.png")
		imgbuftest.WriteFile(t, p, imgbuftest.BombPNG(wh[0], wh[1]))
		_, err := Decode(p)
		if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "over OpenCV's limits") || !strings.Contains(err.Error(), p) {
			t.Errorf("Decode of a %d x %d header: %v, want an io error naming the file and OpenCV's limits", wh[0], wh[1], err)
		}
	}
}
