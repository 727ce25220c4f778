package objective

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf/imgbuftest"
)

func writeItem(t *testing.T, dir, name string, img []byte, w, h int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	imgbuftest.WriteFile(t, p, img)
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	imgbuftest.WriteFile(t, filepath.Join(dir, stem+".json"),
		fmt.Appendf(nil, `{"width":%d,"height":%d,"lines":[[0,0,5,5]]}`, w, h))
	return p
}

func wantTooLarge(t *testing.T, err error, path, size, limit string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s loaded; want an error saying it is over the pixel limit", path)
	}
	if !errs.Is(err, errs.IO) {
		t.Errorf("error kind %s, want io: %v", errs.KindOf(err), err)
	}
	for _, s := range []string{path, size, limit, "max_pixels"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// TestEnvsBomb: computing the environment features (what the parent does
// before the first iteration) of a data set holding a PNG whose header says
// 1,000,000 × 1,000,000 is an error naming the file, not a fatal
// out-of-memory, and allocates nothing big.
func TestEnvsBomb(t *testing.T) {
	dir := t.TempDir()
	writeItem(t, dir, "a.png", imgbuftest.PNG(t, 40, 30), 40, 30)
	bomb := writeItem(t, dir, "b.png", imgbuftest.BombPNG(1000000, 1000000), 1000000, 1000000)
	s, err := ParseSpec(fmt.Appendf(nil, `{"airline": {"data": %q}}`, dir))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAirline(*s.Airline)
	if err != nil {
		t.Fatal(err)
	}
	alloc := imgbuftest.Allocated(func() { _, err = a.Envs() })
	wantTooLarge(t, err, bomb, "1000000 x 1000000", "67108864")
	t.Logf("allocated %d bytes", alloc)
	if alloc > 1<<20 {
		t.Errorf("Envs allocated %d bytes for a refused 69-byte image", alloc)
	}
}

// TestSpecMaxPixels: the objective's "max_pixels" reaches the data set a
// worker opens (the spec is the JSON a worker gets).
func TestSpecMaxPixels(t *testing.T) {
	dir := t.TempDir()
	p := writeItem(t, dir, "a.png", imgbuftest.PNG(t, 40, 30), 40, 30)
	for _, tc := range []struct {
		max int
		ok  bool
	}{{1199, false}, {1200, true}} {
		s, err := ParseSpec(fmt.Appendf(nil, `{"airline": {"data": %q, "max_pixels": %d}}`, dir, tc.max))
		if err != nil {
			t.Fatal(err)
		}
		a, err := NewAirline(*s.Airline)
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Envs()
		if tc.ok {
			if err != nil {
				t.Errorf("max_pixels %d: %v", tc.max, err)
			}
			continue
		}
		wantTooLarge(t, err, p, "40 x 30", fmt.Sprint(tc.max))
	}
	_, err := ParseSpec([]byte(`{"airline": {"max_pixels": -5}}`))
	if errs.KindOf(err) != errs.BadArg || !strings.Contains(fmt.Sprint(err), "max_pixels") {
		t.Errorf("max_pixels -5: %v, want bad_arg naming max_pixels", err)
	}
}
