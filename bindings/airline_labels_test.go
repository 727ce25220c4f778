package bindings_test

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"bohost/host/dataset"
)

// TestAirlineDatasetLabels: airline.dataset{labels =, images =} opens the
// welding study's label file; dir = a label file does too (as the sweep's
// --data passes it); the label options are checked and named.
func TestAirlineDatasetLabels(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "photos")
	os.MkdirAll(imgs, 0o755)
	var entries []dataset.LabelEntry
	full := dataset.WeldPoints{LongiLeftLower: dataset.WeldPoint{X: 20, Y: 100}, LongiLeftUpper: dataset.WeldPoint{X: 22, Y: 10},
		LongiRightLower: dataset.WeldPoint{X: 140, Y: 102}, LongiRightUpper: dataset.WeldPoint{X: 139, Y: 12},
		CollarLeftLower: dataset.WeldPoint{X: 80, Y: 101}, CollarLeftUpper: dataset.WeldPoint{X: 80, Y: 40}}
	for i, stem := range []string{"s1", "s2", "s3", "s4", "s5"} {
		p := full
		if i == 2 {
			p = dataset.WeldPoints{} // excluded
		}
		entries = append(entries, dataset.LabelEntry{Stem: stem, Image: `C:\study\images\` + stem + ".png", Points: p})
		f, _ := os.Create(filepath.Join(imgs, stem+".png"))
		png.Encode(f, image.NewGray(image.Rect(0, 0, 160, 120)))
		f.Close()
	}
	labels := filepath.Join(dir, "ground_truth.json")
	if err := dataset.WriteLabels(labels, entries); err != nil {
		t.Fatal(err)
	}
	var freed int
	luatest_run(t, `
		local airline = require "bohost.airline"
		local L, I = "`+labels+`", "`+imgs+`"
		local ds = airline.dataset{labels = L, images = I}
		assert_eq(#ds, 4)
		assert_eq(ds[1].id, "s1"); assert_eq(#ds[1].lines, 4); assert_eq(ds[1].width, 160)
		assert_eq(ds[1].lines[4][1], 20); assert_eq(ds[1].lines[4][3], 140)   -- the fillet: lower left -> lower right
		local m = ds:manifest()
		assert_eq(m.labels.excluded, 1); assert_eq(m.labels.excluded_stems[1], "s3"); assert_eq(m.labels.stems, 5)
		local test = airline.dataset{labels = L, images = I, split = "test", holdout_fraction = 0.5, holdout_seed = 7}
		local train = airline.dataset{labels = L, images = I, split = "train", holdout_fraction = 0.5, holdout_seed = 7}
		assert_eq(#test, 2); assert_eq(#train, 2)
		local r = airline.score(ds[1].lines, ds[1])
		assert_eq(r.soft_lp, 1); assert_eq(r.f, 1)

		local e = expect_error("io", airline.dataset, {labels = L})          -- the images are not beside the label file
		assert(e.msg:find('stem "s1"') and e.msg:find("not found"), e.msg)
		e = expect_error("bad_arg", airline.dataset, {labels = L, dir = I})
		assert(e.msg:find("one of dir, labels and synthetic"), e.msg)
		e = expect_error("bad_arg", airline.dataset, {dir = I, images = I})
		assert(e.msg:find("'images' is for a label file"), e.msg)
		e = expect_error("bad_arg", airline.dataset, {labels = L, images = I, holdout_fraction = 1})
		assert(e.msg:find("'holdout_fraction' must be in %(0, 1%)"), e.msg)
		e = expect_error("bad_arg", airline.dataset, {labels = L, images = I, holdout_fration = 0.2})
		assert(e.msg:find("did you mean 'holdout_fraction'"), e.msg)
		e = expect_error("bad_arg", airline.dataset, {labels = L, images = I, split = "val"})
		assert(e.msg:find('unknown split "val"'), e.msg)
	`, &freed)
}
