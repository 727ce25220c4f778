package cv

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"bohost/host/imgbuf"
)

// leakRig holds what one leak-check cycle uses: an image, a PNG of it on disk,
// a corrupt file, a persistent YOLO model and the path of an edge model that
// each cycle loads and closes.
type leakRig struct {
	img               *imgbuf.Gray
	png, bad, edgeOnx string
	yolo              *YOLO
}

func newLeakRig(t *testing.T) *leakRig {
	t.Helper()
	dir := t.TempDir()
	r := &leakRig{img: rectImage(160, 120, 40, 30, 120, 90, 30, 220)}
	for i := range r.img.Pix { // some texture so every detector has work
		r.img.Pix[i] += uint8(i * 7 % 13)
	}
	rgba, err := DrawSegments(r.img)
	if err != nil {
		t.Fatal(err)
	}
	r.png = filepath.Join(dir, "img.png")
	r.bad = filepath.Join(dir, "bad.png")
	r.edgeOnx = filepath.Join(dir, "edge.onnx")
	k := []float32{0, -1, 0, -1, 4, -1, 0, -1, 0}
	for p, data := range map[string][]byte{r.bad: []byte("\x89PNG\r\n\x1a\ncorrupt"), r.edgeOnx: convModel(1, 3, k, 0, true)} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WritePNG(r.png, rgba); err != nil {
		t.Fatal(err)
	}
	yp := filepath.Join(dir, "yolo.onnx")
	if err := os.WriteFile(yp, yoloModel([]float32{16, 12, 8, 6, 0.9, 0.1}, false), 0o644); err != nil {
		t.Fatal(err)
	}
	if r.yolo, err = LoadYOLO(yp, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.yolo.Close() })
	return r
}

// cycle runs every Mat-creating path of the package once, success and error
// paths alike, and fails the test on an unexpected result.
func (r *leakRig) cycle(t *testing.T) {
	t.Helper()
	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	g, err := Decode(r.png)
	fail("Decode", err)
	if _, err := Decode(r.bad); err == nil {
		t.Fatal("Decode of a corrupt file succeeded")
	}
	segs, err := LSD(g)
	fail("LSD", err)
	fseg, err := FLD(g)
	fail("FLD", err)
	hseg, err := Hough(g, HoughParams{})
	fail("Hough", err)
	if len(segs) == 0 || len(fseg) == 0 || len(hseg) == 0 {
		t.Fatalf("detectors found %d/%d/%d segments", len(segs), len(fseg), len(hseg))
	}
	b, err := GaussianBlur(g, 1.5)
	fail("GaussianBlur", err)
	_, _, err = Sobel(b)
	fail("Sobel", err)
	_, err = Canny(b, 50, 150)
	fail("Canny", err)
	_, err = Resize(g, 80, 60)
	fail("Resize", err)
	ov, err := DrawSegments(g, Layer{Segments: segs}, Layer{Segments: hseg, Thickness: 2})
	fail("DrawSegments", err)
	_, err = GrayFromImage(ov)
	fail("GrayFromImage", err)
	m, err := LoadEdgeModel(r.edgeOnx, nil)
	fail("LoadEdgeModel", err)
	e, err := m.Edges(g) // 160×120 → fed as 160×112, resized back
	if err == nil {
		_, err = ResizeFloat(e, 40, 30)
	}
	m.Close()
	fail("Edges", err)
	if _, err := m.Edges(g); err == nil {
		t.Fatal("Edges after Close succeeded")
	}
	d, err := r.yolo.Detect(g)
	fail("YOLO", err)
	if len(d) != 1 {
		t.Fatalf("YOLO found %d boxes, want 1", len(d))
	}
}

// vmRSS reads the resident set size from /proc/self/status, in bytes.
func vmRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status (%v): RSS check needs Linux; skipping", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS line in /proc/self/status")
	return 0
}

// settledRSS returns the RSS after a full GC with memory returned to the OS,
// so only native (C++) growth and live Go data remain.
func settledRSS(t *testing.T) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return vmRSS(t)
}

// rssGrowthLimit is the allowed RSS growth over the measured cycles after
// warm-up. A leak of one 160×120 Mat per cycle would add >= 19 kB × cycles
// (5.8 MB over 300 cycles); allocator and Go-runtime jitter stay well under it.
const rssGrowthLimit = 5 << 20

// rssGrowth runs warm cycles, then n measured cycles, and returns the RSS
// growth over the measured ones (logged).
func rssGrowth(t *testing.T, r *leakRig, warm, n int) int64 {
	for i := 0; i < warm; i++ {
		r.cycle(t)
	}
	before := settledRSS(t)
	for i := 0; i < n; i++ {
		r.cycle(t)
	}
	after := settledRSS(t)
	t.Logf("RSS %.1f MB -> %.1f MB over %d cycles (growth %+.2f MB, limit %.0f MB)",
		float64(before)/(1<<20), float64(after)/(1<<20), n, float64(after-before)/(1<<20), float64(rssGrowthLimit)/(1<<20))
	return after - before
}

// checkRSS fails when growth reached rssGrowthLimit.
func checkRSS(t *testing.T, growth int64, n int) {
	t.Helper()
	if growth >= rssGrowthLimit {
		t.Errorf("RSS grew by %.2f MB over %d cycles (limit %.0f MB): native memory leak",
			float64(growth)/(1<<20), n, float64(rssGrowthLimit)/(1<<20))
	}
}

// TestRSSFlat is the default-build leak check: a few hundred full cycles
// (decode, detectors, filters, drawing, model load/forward/close, YOLO) must
// leave the resident set size flat. The Mat-count check is in
// matprofile_test.go (-tags matprofile).
func TestRSSFlat(t *testing.T) {
	r := newLeakRig(t)
	models := LiveModels()
	checkRSS(t, rssGrowth(t, r, 50, 300), 300)
	if LiveModels() != models {
		t.Fatalf("LiveModels %d after the cycles, want %d", LiveModels(), models)
	}
}
