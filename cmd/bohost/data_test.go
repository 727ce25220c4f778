package main

import (
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/dataset"
)

// TestDataWeldCLI: bohost data weld writes a weld set that OpenLabels reads
// (the empty labels excluded and counted), prints where it is, and refuses
// bad arguments with a usage error naming them.
func TestDataWeldCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "weld")
	r := run(t, "", "data", "weld", "--n", "9", "--width", "96", "--height", "72", "--seed", "3", "--format", "png", "--out", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "9 images of 96x72 (png)") || !strings.Contains(r.stdout, "--data "+filepath.Join(dir, "ground_truth.json")) ||
		!strings.Contains(r.stderr, "9/9 images") {
		t.Fatalf("%+v", r)
	}
	ds, err := dataset.OpenLabels(filepath.Join(dir, "ground_truth.json"), dataset.LabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := ds.Labels(); l.Stems != 9 || l.Excluded < 1 || ds.Len() != 9-l.Excluded || !strings.Contains(r.stdout, "empty (excluded when read)") {
		t.Errorf("labels %+v, %d items\n%s", l, ds.Len(), r.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"data"}, "no data set kind"},
		{[]string{"data", "york"}, `unknown data set kind "york"`},
		{[]string{"data", "weld"}, "--out DIR is required"},
		{[]string{"data", "weld", "--out", dir, "--n", "0x"}, "invalid value"},
		{[]string{"data", "weld", "--out", dir, "--n", "-2"}, "--n must be in [1, 100000]"},
		{[]string{"data", "weld", "--out", dir, "--format", "tiff"}, "--format must be"},
		{[]string{"data", "weld", "--out", dir, "--widht", "9"}, "flag provided but not defined: -widht"},
		{[]string{"data", "weld", "--out", dir, "extra"}, `unexpected argument "extra"`},
	} {
		if r := run(t, "", c.args...); r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", c.args, r.code, ExitUsage, c.want, r.stderr)
		}
	}
	if r := run(t, "", "help", "data"); r.code != 0 || !strings.Contains(r.stdout, "bohost data weld --out DIR") {
		t.Errorf("help data: %+v", r)
	}
}

// TestWriteWeldSetLua: airline.write_weld_set from a script writes the same
// kind of set, which airline.dataset{labels = ...} opens, and bad options
// are errors naming them.
func TestWriteWeldSetLua(t *testing.T) {
	dir := filepath.ToSlash(filepath.Join(t.TempDir(), "w"))
	src := `
local airline = require "bohost.airline"
local t = airline.write_weld_set{dir = "` + dir + `", n = 8, width = 80, height = 60, seed = 2, format = "png"}
assert(t.complete + t.partial + t.empty == 8 and #t.labels == 8, "counts")
assert(t.empty == 1, "one empty label per block of 8")
local ds = airline.dataset{labels = t.label_file}
assert(#ds == 8 - t.empty, "excluded")
assert(ds:manifest().labels.excluded == t.empty, "manifest counts the empty labels")
print(t.label_file, #ds)
for _, bad in ipairs{{n = 0}, {dir = "` + dir + `", n = 0}, {dir = "` + dir + `", format = "bmp"}, {dir = "` + dir + `", width = 8}, {dir = "` + dir + `", colour = 1}} do
  local ok, err = pcall(airline.write_weld_set, bad)
  assert(not ok, "accepted a bad table")
  print(tostring(err))
end
`
	r := run(t, "", "-e", src)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"ground_truth.json\t7", "option 'dir' is required", "option 'n' must not be 0", "format must be", "width must be in [32, 4096]", "colour"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}
