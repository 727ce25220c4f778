package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"bohost/host/imgbuf"

	"bohost/host/errs"
	"bohost/host/metric"
	"bohost/host/testsupport"
)

const smallDir = "testdata/small"

// smallOpts generated testdata/small; set BOHOST_REGEN_TESTDATA=1 to rewrite
// it after a deliberate generator change (and bump GeneratorVersion).
var smallOpts = SynthOptions{N: 3, Width: 160, Height: 120, Seed: 7}

func TestRegenerateTestdata(t *testing.T) {
	if os.Getenv("BOHOST_REGEN_TESTDATA") == "" {
		t.Skip("set BOHOST_REGEN_TESTDATA=1 to rewrite testdata/small from the generator")
	}
	d, err := Synthetic(smallOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteDir(smallDir); err != nil {
		t.Fatal(err)
	}
}

func TestOpenTestdata(t *testing.T) {
	d, err := Open(smallDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	syn, err := Synthetic(smallOpts)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || syn.Len() != 3 {
		t.Fatalf("Len = %d, %d, want 3", d.Len(), syn.Len())
	}
	for i := 0; i < d.Len(); i++ {
		it, st := d.Item(i), syn.Item(i)
		if it.Index != i || it.ID != st.ID || it.Width != 160 || it.Height != 120 {
			t.Fatalf("item %d: %+v", i, it)
		}
		if it.Path != filepath.Join(smallDir, it.ID+".png") || st.Path != "" {
			t.Errorf("paths %q %q", it.Path, st.Path)
		}
		if len(it.Lines) == 0 || len(it.Lines) != len(st.Lines) {
			t.Fatalf("item %d: %d lines on disk, %d generated", i, len(it.Lines), len(st.Lines))
		}
		for k := range it.Lines { // written to 3 decimals
			a, b := it.Lines[k], st.Lines[k]
			if math.Abs(a.X1-b.X1) > 5e-4 || math.Abs(a.Y2-b.Y2) > 5e-4 {
				t.Fatalf("item %d line %d: %+v on disk vs %+v generated (regenerate testdata?)", i, k, a, b)
			}
		}
		g, err := d.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := syn.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.Pix, gs.Pix) {
			t.Errorf("item %d: PNG pixels differ from the generator's (regenerate testdata after a generator change)", i)
		}
	}
	for _, c := range []struct {
		split string
		ids   []string
	}{{"train", []string{"synth-0000", "synth-0001"}}, {"test", []string{"synth-0002"}}, {"all", []string{"synth-0000", "synth-0001", "synth-0002"}}} {
		d, err := Open(smallDir, Options{Split: c.split})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := 0; i < d.Len(); i++ {
			ids = append(ids, d.Item(i).ID)
			if d.Item(i).Index != i {
				t.Errorf("split %s: Index %d at %d", c.split, d.Item(i).Index, i)
			}
		}
		if !slices.Equal(ids, c.ids) || d.Split() != c.split {
			t.Errorf("split %s: %v, want %v", c.split, ids, c.ids)
		}
	}
	if it := d.Item(3); it.Index != -1 {
		t.Errorf("Item out of range: %+v", it)
	}
	if _, err := d.Image(-1); !errs.Is(err, errs.BadArg) {
		t.Errorf("Image(-1): %v", err)
	}
}

// copyDir copies testdata/small to a temp dir for corruption.
func copyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, _ := os.ReadDir(smallDir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(smallDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	return dir
}

func TestOpenErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(dir string)
		opts  Options
		kind  string
		parts []string // substrings of the message
	}{
		{"missing dir", func(dir string) { os.RemoveAll(dir) }, Options{}, errs.IO, []string{"data directory"}},
		{"no images", func(dir string) {
			for _, n := range []string{"synth-0000", "synth-0001", "synth-0002"} {
				os.Remove(filepath.Join(dir, n+".png"))
			}
		}, Options{}, errs.IO, []string{"holds no images"}},
		{"image without json", func(dir string) { os.Remove(filepath.Join(dir, "synth-0001.json")) }, Options{}, errs.IO,
			[]string{"synth-0001.png has no annotation", "synth-0001.json"}},
		{"malformed json", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0001.json"), []byte("{\"width\":160,\n\"height\":120,\n\"lines\":[[1,2,3,4],]}"), 0o644)
		}, Options{}, errs.IO, []string{"synth-0001.json:3:", "malformed JSON"}},
		{"wrong type", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0001.json"), []byte("{\"width\":\"160\",\"height\":120,\"lines\":[]}"), 0o644)
		}, Options{}, errs.IO, []string{"synth-0001.json:1:", "field width"}},
		{"missing height", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0001.json"), []byte(`{"width":160,"lines":[]}`), 0o644)
		}, Options{}, errs.IO, []string{"synth-0001.json", `missing field "height"`}},
		{"short line", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0002.json"), []byte(`{"width":160,"height":120,"lines":[[1,2,3,4],[1,2,3]]}`), 0o644)
		}, Options{}, errs.IO, []string{"synth-0002.json", "lines[1] must have 4 numbers", "got 3"}},
		{"size mismatch", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0002.json"), []byte(`{"width":640,"height":480,"lines":[]}`), 0o644)
		}, Options{}, errs.IO, []string{"synth-0002.png: image is 160x120", "width=640 height=480"}},
		{"corrupt image", func(dir string) {
			os.WriteFile(filepath.Join(dir, "synth-0000.png"), []byte("not a png"), 0o644)
		}, Options{}, errs.IO, []string{"synth-0000.png", "image header"}},
		{"unknown split", func(string) {}, Options{Split: "val"}, errs.BadArg, []string{`unknown split "val"`, `"test"`, `"train"`}},
		{"split without split.json", func(dir string) { os.Remove(filepath.Join(dir, "split.json")) }, Options{Split: "train"}, errs.BadArg,
			[]string{`unknown split "train"`, "no split.json"}},
		{"split names missing image", func(dir string) {
			os.WriteFile(filepath.Join(dir, "split.json"), []byte(`{"train":["synth-0000","nope"]}`), 0o644)
		}, Options{}, errs.IO, []string{"split.json", `train[1] = "nope"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t)
			c.edit(dir)
			_, err := Open(dir, c.opts)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if !errs.Is(err, c.kind) {
				t.Errorf("kind %s, want %s: %v", errs.KindOf(err), c.kind, err)
			}
			for _, p := range c.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q lacks %q", err, p)
				}
			}
		})
	}
}

// Image checks the decoded size against the annotation too (the file may
// change after Open).
func TestImageSizeMismatchAfterOpen(t *testing.T) {
	dir := copyDir(t)
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, filepath.Join(dir, "synth-0001.png"), image.NewGray(image.Rect(0, 0, 20, 10)))
	_, err = d.Image(1)
	if err == nil || !strings.Contains(err.Error(), "synth-0001.png: decoded image is 20x10") {
		t.Fatalf("got %v", err)
	}
}

func writeGrayPNG(t *testing.T, path string, m image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCacheBounded(t *testing.T) {
	for _, c := range []struct{ opt, want int }{{2, 2}, {1, 1}, {-1, 0}, {0, 12}} { // 0: all 12 fit in the default bytes
		d, err := Synthetic(SynthOptions{N: 12, Width: 64, Height: 48, CacheImages: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		peak := 0
		for pass := 0; pass < 3; pass++ {
			for i := 0; i < d.Len(); i++ {
				if _, err := d.Image((i * 5) % d.Len()); err != nil {
					t.Fatal(err)
				}
				peak = max(peak, d.cache.len())
			}
		}
		if peak != min(c.want, d.Len()) {
			t.Errorf("CacheImages=%d: cache peaked at %d entries, want %d", c.opt, peak, min(c.want, d.Len()))
		}
	}
	// Concurrent use keeps the bound and returns owned copies.
	d, _ := Synthetic(SynthOptions{N: 6, Width: 64, Height: 48, CacheImages: 2})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 20; i++ {
				img, err := d.Image((i + g) % 6)
				if err != nil {
					t.Error(err)
					return
				}
				img.Pix[0] ^= 0xff // must not corrupt the cache
			}
		})
	}
	wg.Wait()
	if d.cache.len() > 2 {
		t.Errorf("cache holds %d > 2", d.cache.len())
	}
	a, _ := d.Image(0)
	d2, _ := Synthetic(SynthOptions{N: 6, Width: 64, Height: 48, CacheImages: -1})
	b, _ := d2.Image(0)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("a caller's edit leaked into the cache")
	}
}

func TestDecodeLuma(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	m.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	m.Set(1, 0, color.NRGBA{0, 255, 0, 255})
	m.Set(2, 0, color.NRGBA{0, 0, 255, 255})
	m.Set(3, 0, color.NRGBA{10, 200, 100, 255})
	path := filepath.Join(t.TempDir(), "rgb.png")
	writeGrayPNG(t, path, m)
	g, err := Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	// OpenCV COLOR_RGB2GRAY: red 76, green 150, blue 29; (10,200,100): round(2.99+117.4+11.4)=132.
	if want := []uint8{76, 150, 29, 132}; !bytes.Equal(g.Pix, want) {
		t.Errorf("luma %v, want %v", g.Pix, want)
	}
	if _, err := Decode(filepath.Join(t.TempDir(), "none.jpg")); err == nil || !strings.Contains(err.Error(), "none.jpg") {
		t.Errorf("missing file: %v", err)
	}
}

func TestManifest(t *testing.T) {
	dir := copyDir(t)
	d, err := Open(dir, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
		b, _ := os.ReadFile(filepath.Join(dir, f.Name))
		s := sha256.Sum256(b)
		if f.SHA256 != hex.EncodeToString(s[:]) || f.Bytes != int64(len(b)) {
			t.Errorf("%s: manifest %s/%d, file %x/%d", f.Name, f.SHA256, f.Bytes, s, len(b))
		}
	}
	want := []string{"split.json", "synth-0000.png", "synth-0000.json", "synth-0001.png", "synth-0001.json"}
	if !slices.Equal(names, want) || m.Split != "train" || m.Dir != dir {
		t.Errorf("manifest files %v, want %v (%+v)", names, want, m)
	}
	os.WriteFile(filepath.Join(dir, "synth-0001.json"), []byte(`{"width":160,"height":120,"lines":[]}`), 0o644)
	m2, _ := d.Manifest()
	if m2.SHA256 == m.SHA256 {
		t.Error("list hash unchanged after a file changed")
	}
	s1, _ := Synthetic(SynthOptions{N: 4, Seed: 1, Width: 64, Height: 48})
	s2, _ := Synthetic(SynthOptions{N: 4, Seed: 2, Width: 64, Height: 48})
	a, _ := s1.Manifest()
	b, _ := s2.Manifest()
	if a.SHA256 == b.SHA256 || a.Generator == nil || a.Generator.Seed != 1 || a.Version != GeneratorVersion || a.Dir != "synthetic" {
		t.Errorf("synthetic manifests: %+v %+v", a, b)
	}
}

func TestYorkUrban(t *testing.T) {
	dir, ok := testsupport.YorkUrban()
	if !ok {
		t.Skipf("York Urban not found at %s (set BOHOST_SHARED); skipping", dir)
	}
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 102 {
		t.Fatalf("Len = %d, want 102", d.Len())
	}
	total := 0
	for i := 0; i < d.Len(); i++ {
		it := d.Item(i)
		total += len(it.Lines)
		if it.Width != 640 || it.Height != 480 {
			t.Errorf("%s: %dx%d", it.ID, it.Width, it.Height)
		}
		s := metric.FScore(it.Lines, it.Lines, it.Width, it.Height, 0)
		if s.F != 1 || s.R != 3 || s.NGT != len(it.Lines) {
			t.Errorf("%s: GT vs itself %+v", it.ID, s)
		}
	}
	if total != 12122 {
		t.Errorf("total segments %d, want 12122", total)
	}
	// Decode every image (checks the headers and the pure-Go JPEG path).
	for i := 0; i < d.Len(); i++ {
		g, err := d.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if g.W != 640 || g.H != 480 {
			t.Fatalf("%s decoded %dx%d", d.Item(i).ID, g.W, g.H)
		}
	}
	for _, s := range []string{"train", "test"} {
		ds, err := Open(dir, Options{Split: s})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 51 {
			t.Errorf("split %s: len %d, want 51", s, ds.Len())
		}
	}
	m, err := d.Manifest()
	if err != nil || len(m.Files) != 205 {
		t.Errorf("manifest: %d files, %v", len(m.Files), err)
	}
}

// TestCacheByteBudget: the default cache is bounded by bytes of pixels, but
// keeps a minimum number of images whatever their size.
func TestCacheByteBudget(t *testing.T) {
	c := newLRU(0, 10_000, 2)
	img := func(n int) *imgbuf.Gray { return &imgbuf.Gray{W: n, H: 1, Pix: make([]uint8, n)} }
	for k := 0; k < 10; k++ {
		c.put(k, img(3000))
	}
	if c.len() != 3 || c.bytes != 9000 {
		t.Fatalf("3000-byte images under a 10,000-byte budget: %d held (%d bytes), want 3 (9000)", c.len(), c.bytes)
	}
	for k := 7; k < 10; k++ {
		if _, ok := c.get(k); !ok {
			t.Errorf("image %d (among the last three put) was evicted", k)
		}
	}
	for k := 10; k < 14; k++ {
		c.put(k, img(8000))
	}
	if c.len() != 2 || c.bytes != 16000 {
		t.Fatalf("8000-byte images: %d held (%d bytes), want the minimum of 2 kept over the budget", c.len(), c.bytes)
	}
	c.put(13, img(100)) // replacing an image updates the byte count
	if c.bytes != 8100 {
		t.Errorf("after replacing image 13: %d bytes, want 8100", c.bytes)
	}
}
