package report

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadRun replaces one file of a complete run directory with arbitrary
// bytes and loads it as bohost report does: whatever the bytes, LoadRun
// must not panic, and must name the damaged file in a warning when it
// cannot use it (TestGenerateGarbage checks the wording on fixed junk).
// Seeds: each file as written, and its first half
// (testdata/fuzz/FuzzLoadRun holds inputs found since).
func FuzzLoadRun(f *testing.F) {
	sweep := filepath.Join(f.TempDir(), "s")
	writeFakeRun(f, sweep, fakeSpec{alpha: 0.1, seed: 1, iterations: 6, complete: true,
		finalCVaR: 0.40, finalMean: 0.60, scores: []float64{0.2, 0.4, 0.6}, gpu: true, deathAt: 3})
	src := filepath.Join(sweep, "alpha_0.1", "seed_1")
	files := []string{"config.json", "trials.jsonl", "iterations.jsonl", "summary.json", "events.jsonl", "monitor.csv", "manifest.json"}
	base := map[string][]byte{}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			continue
		}
		base[name] = b
	}
	for i, name := range files {
		f.Add(uint8(i), base[name])
		f.Add(uint8(i), base[name][:len(base[name])/2])
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := t.TempDir()
		for name, b := range base {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		name := files[int(which)%len(files)]
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := LoadRun(dir, "alpha_0.1/seed_1")
		if r == nil {
			t.Fatal("LoadRun returned nil")
		}
		for _, w := range r.Warnings {
			if w.File == "" || w.Msg == "" {
				t.Fatalf("a warning without its file or message: %+v", w)
			}
		}
	})
}
