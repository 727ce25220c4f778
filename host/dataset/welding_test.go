package dataset

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// fullPoints is a complete label of a 64 x 48 image: left and right
// longitudinals, the collar between them, and the fillet along the bottom.
func fullPoints() WeldPoints {
	return WeldPoints{
		LongiLeftLower: WeldPoint{10, 40}, LongiLeftUpper: WeldPoint{11, 5},
		LongiRightLower: WeldPoint{50, 41}, LongiRightUpper: WeldPoint{49, 6},
		CollarLeftLower: WeldPoint{30, 40}, CollarLeftUpper: WeldPoint{30, 12},
	}
}

// weldFixture writes a label file and its images: "a" complete, "b"
// partial (no right longitudinal: two verticals, no fillet), "c" empty
// (all zero), "d" only the fillet's end points labelled. Image paths use
// Windows separators, relative to the label file's directory.
func weldFixture(t *testing.T) (file string, entries []LabelEntry) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "imgs"), 0o755)
	partial := fullPoints()
	partial.LongiRightLower, partial.LongiRightUpper = WeldPoint{}, WeldPoint{}
	fillet := WeldPoints{LongiLeftLower: WeldPoint{5, 30}, LongiRightLower: WeldPoint{60, 33}}
	entries = []LabelEntry{
		{Stem: "a", Image: `imgs\a.png`, Points: fullPoints()},
		{Stem: "c", Image: `imgs\c.png`}, // no segment: excluded (its image is never looked for)
		{Stem: "b", Image: `imgs\b.png`, Points: partial},
		{Stem: "d", Image: `imgs\d.png`, Points: fillet},
	}
	for _, s := range []string{"a", "b", "d"} {
		writeGrayPNG(t, filepath.Join(dir, "imgs", s+".png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	}
	file = filepath.Join(dir, "ground_truth.json")
	if err := WriteLabels(file, entries); err != nil {
		t.Fatal(err)
	}
	return file, entries
}

func TestWeldPointsSegments(t *testing.T) {
	p := fullPoints()
	segs, roles := p.Segments()
	want := []imgbuf.Segment{{X1: 10, Y1: 40, X2: 11, Y2: 5}, {X1: 50, Y1: 41, X2: 49, Y2: 6}, {X1: 30, Y1: 40, X2: 30, Y2: 12}, {X1: 10, Y1: 40, X2: 50, Y2: 41}}
	if !slices.Equal(segs, want) || !slices.Equal(roles, []string{RoleLongiLeft, RoleLongiRight, RoleCollarLeft, RoleFillet}) {
		t.Fatalf("segments %v roles %v", segs, roles)
	}
	// A segment exists when both end points' x are non-zero; y = 0 is a row.
	p.LongiLeftUpper = WeldPoint{0, 7}
	p.CollarLeftUpper = WeldPoint{30, 0}
	segs, roles = p.Segments()
	if !slices.Equal(roles, []string{RoleLongiRight, RoleCollarLeft, RoleFillet}) || segs[1].Y2 != 0 {
		t.Fatalf("a missing upper x drops longi_left only: %v %v", segs, roles)
	}
	p.LongiLeftLower.X = 0 // also drops the fillet
	if _, roles = p.Segments(); !slices.Equal(roles, []string{RoleLongiRight, RoleCollarLeft}) {
		t.Fatalf("roles %v", roles)
	}
	if segs, _ := (WeldPoints{}).Segments(); len(segs) != 0 {
		t.Fatal("an empty label has segments")
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	file, entries := weldFixture(t)
	got, err := ReadLabels(file)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, entries) {
		t.Fatalf("read back %+v, wrote %+v", got, entries)
	}
	d, err := OpenLabels(file, LabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 {
		t.Fatalf("%d items, want 3 (c has no segment)", d.Len())
	}
	ids := []string{}
	for _, it := range d.Items() {
		ids = append(ids, it.ID)
		if it.Width != 64 || it.Height != 48 || !strings.HasSuffix(it.Path, filepath.Join("imgs", it.ID+".png")) {
			t.Errorf("item %+v", it)
		}
	}
	if !slices.Equal(ids, []string{"a", "b", "d"}) {
		t.Fatalf("ids %v", ids)
	}
	if n := len(d.Item(0).Lines); n != 4 {
		t.Errorf("a: %d lines, want 4", n)
	}
	if n := len(d.Item(1).Lines); n != 2 {
		t.Errorf("b: %d lines, want 2 (left longitudinal and collar)", n)
	}
	if l := d.Item(2).Lines; len(l) != 1 || l[0] != (imgbuf.Segment{X1: 5, Y1: 30, X2: 60, Y2: 33}) {
		t.Errorf("d: %v, want the fillet only", l)
	}
	s := d.Labels()
	if s.Stems != 4 || s.Labelled != 3 || s.Complete != 1 || s.Excluded != 1 || !slices.Equal(s.ExcludedStems, []string{"c"}) ||
		s.Train+s.Test != 3 || s.HoldoutFraction != DefaultHoldoutFraction {
		t.Fatalf("summary %+v", s)
	}
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Labels == nil || m.Labels.Excluded != 1 || m.Files[0].Name != "ground_truth.json" || len(m.Files) != 4 {
		t.Fatalf("manifest %+v", m)
	}
	b, _ := json.Marshal(m)
	if !strings.Contains(string(b), `"excluded":1`) {
		t.Errorf("manifest JSON lacks the excluded count: %s", b)
	}
	img, err := d.Image(0)
	if err != nil || img.W != 64 {
		t.Fatalf("image: %v", err)
	}
	// Open recognises a label file, with its options.
	d2, err := Open(file, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if d2.Split() != "train" || d2.Len() != s.Train {
		t.Fatalf("Open(label file, train): %s, %d items", d2.Split(), d2.Len())
	}
}

func TestLabelsEmptyFileAndAllEmpty(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "l.json")
	if err := WriteLabels(f, nil); err != nil {
		t.Fatal(err)
	}
	if e, err := ReadLabels(f); err != nil || len(e) != 0 {
		t.Fatalf("empty file: %v %v", e, err)
	}
	if _, err := OpenLabels(f, LabelOptions{}); err == nil || !strings.Contains(err.Error(), "none of its 0 stems") {
		t.Fatalf("no labelled stem: %v", err)
	}
	WriteLabels(f, []LabelEntry{{Stem: "x", Image: "x.png"}, {Stem: "y"}})
	if _, err := OpenLabels(f, LabelOptions{}); err == nil || !strings.Contains(err.Error(), "none of its 2 stems") {
		t.Fatalf("all empty: %v", err)
	}
}

func TestLabelsHoldout(t *testing.T) {
	dir := t.TempDir()
	var entries []LabelEntry
	for i := range 40 {
		stem := "WIN_" + string(rune('A'+i/10)) + string(rune('0'+i%10))
		entries = append(entries, LabelEntry{Stem: stem, Image: stem + ".png", Points: fullPoints()})
		writeGrayPNG(t, filepath.Join(dir, stem+".png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	}
	f := filepath.Join(dir, "labels.json")
	if err := WriteLabels(f, entries); err != nil {
		t.Fatal(err)
	}
	split := func(o LabelOptions) (train, test []string) {
		t.Helper()
		for _, s := range []string{"train", "test"} {
			o.Split = s
			d, err := OpenLabels(f, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range d.Items() {
				if s == "train" {
					train = append(train, it.ID)
				} else {
					test = append(test, it.ID)
				}
			}
		}
		return train, test
	}
	tr, te := split(LabelOptions{HoldoutSeed: 1})
	if len(te) != 12 || len(tr) != 28 {
		t.Fatalf("default fraction: %d train, %d test", len(tr), len(te))
	}
	tr2, te2 := split(LabelOptions{HoldoutSeed: 1})
	if !slices.Equal(te, te2) || !slices.Equal(tr, tr2) {
		t.Fatal("the held-out split is not deterministic")
	}
	if _, te3 := split(LabelOptions{HoldoutSeed: 2}); slices.Equal(te, te3) {
		t.Fatal("another seed holds out the same images")
	}
	if _, te4 := split(LabelOptions{HoldoutFraction: 0.5, HoldoutSeed: 1}); len(te4) != 20 {
		t.Fatalf("fraction 0.5: %d test", len(te4))
	}
	// A file of names: stems or image file names, comments, blank lines.
	hf := filepath.Join(dir, "heldout.txt")
	os.WriteFile(hf, []byte("# held out\nWIN_A0\n\nimages\\WIN_B3.png\r\nWIN_D9.jpg\n"), 0o644)
	tr, te = split(LabelOptions{HoldoutFile: hf})
	if !slices.Equal(te, []string{"WIN_A0", "WIN_B3", "WIN_D9"}) || len(tr) != 37 {
		t.Fatalf("holdout file: test %v, %d train", te, len(tr))
	}
	d, _ := OpenLabels(f, LabelOptions{HoldoutFile: hf})
	if m, _ := d.Manifest(); m.Files[1].Name != "heldout.txt" {
		t.Errorf("the holdout file is not in the manifest: %+v", m.Files[:2])
	}
	os.WriteFile(hf, []byte("WIN_A0\nWIN_Z9\n"), 0o644)
	if _, err := OpenLabels(f, LabelOptions{HoldoutFile: hf}); err == nil || !strings.Contains(err.Error(), "heldout.txt:2: \"WIN_Z9\" names no stem") {
		t.Fatalf("unknown name: %v", err)
	}
	for _, o := range []LabelOptions{{HoldoutFraction: 1}, {HoldoutFraction: -0.1}, {HoldoutFraction: 0.2, HoldoutFile: hf}} {
		if _, err := OpenLabels(f, o); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "holdout_") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := OpenLabels(f, LabelOptions{Options: Options{Split: "val"}}); err == nil || !strings.Contains(err.Error(), `unknown split "val"`) {
		t.Errorf("unknown split: %v", err)
	}
}

func TestLabelsImagePaths(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "photos")
	os.MkdirAll(filepath.Join(imgs, "sub"), 0o755)
	writeGrayPNG(t, filepath.Join(imgs, "sub", "a.png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	writeGrayPNG(t, filepath.Join(imgs, "b.png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	writeGrayPNG(t, filepath.Join(imgs, "c.png"), image.NewGray(image.Rect(0, 0, 64, 48)))
	f := filepath.Join(dir, "labels", "gt.json")
	os.MkdirAll(filepath.Dir(f), 0o755)
	WriteLabels(f, []LabelEntry{
		{Stem: "a", Image: `sub\a.png`, Points: fullPoints()},               // relative to the images directory
		{Stem: "b", Image: `C:\Users\lab\data\b.png`, Points: fullPoints()}, // a Windows absolute path: its name
		{Stem: "c", Points: fullPoints()},                                   // no path: <stem>.png
	})
	d, err := OpenLabels(f, LabelOptions{Images: imgs})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{filepath.Join(imgs, "sub", "a.png"), filepath.Join(imgs, "b.png"), filepath.Join(imgs, "c.png")} {
		if got := d.Item(i).Path; got != want {
			t.Errorf("item %d: path %s, want %s", i, got, want)
		}
	}
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Files[1].Name != filepath.Join("..", "photos", "sub", "a.png") {
		t.Errorf("manifest names %q", m.Files[1].Name)
	}
	// Without the images directory, the paths are relative to the label
	// file's: a clear error naming the file, the stem and what was tried.
	_, err = OpenLabels(f, LabelOptions{})
	if errs.KindOf(err) != errs.IO || !strings.Contains(err.Error(), `gt.json: stem "a": image "sub\\a.png" not found (tried `+filepath.Join(dir, "labels", "sub", "a.png")) {
		t.Fatalf("missing image: %v", err)
	}
	if e, _ := err.(*errs.Error); e == nil || !strings.Contains(e.Hint, "images") {
		t.Errorf("no hint about the images directory: %v", err)
	}
	if _, err := OpenLabels(f, LabelOptions{Images: filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "images directory") {
		t.Errorf("missing images directory: %v", err)
	}
	// An image that is not an image.
	os.WriteFile(filepath.Join(imgs, "c.png"), []byte("not a png"), 0o644)
	if _, err := OpenLabels(f, LabelOptions{Images: imgs}); err == nil || !strings.Contains(err.Error(), `stem "c"`) {
		t.Errorf("bad image: %v", err)
	}
}

func TestLabelsBadFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "gt.json")
	for _, c := range []struct{ src, want string }{
		{`{"a": {"image": "a.png", "coordinates": {}}`, "gt.json:1:44: malformed JSON"},
		{`[1, 2]`, "gt.json:1:1: the label file must be a JSON object"},
		{"{\"a\": {\"coordinates\": {}},\n \"a\": {\"coordinates\": {}}}", `gt.json:2:2: stem "a": duplicate stem (first at line 1, column 2)`},
		{`{"a": [1]}`, `gt.json:1:7: stem "a": the entry must be an object`},
		{`{"a": {"image": 5, "coordinates": {}}}`, `gt.json:1:17: stem "a": "image" must be a path string, got the number 5`},
		{`{"a": {"image": "a.png"}}`, `stem "a": missing "coordinates"`},
		{`{"a": {"coordinates": [0, 1]}}`, `gt.json:1:23: stem "a": "coordinates" must be an object of 12 integers, got an array`},
		{"{\"a\": {\"coordinates\": {\n  \"longi_left_lower_x\": \"12\"}}}", `gt.json:2:25: stem "a": coordinates.longi_left_lower_x must be a whole number of pixels >= 0 (0: not labelled), got "12"`},
		{`{"a": {"coordinates": {"longi_left_lower_x": 12.5}}}`, `coordinates.longi_left_lower_x must be a whole number`},
		{`{"a": {"coordinates": {"collar_left_upper_y": -3}}}`, `coordinates.collar_left_upper_y must be a whole number of pixels >= 0`},
		{`{"a": {"coordinates": {"longi_lft_lower_x": 3}}}`, `gt.json:1:24: stem "a": unknown coordinate "longi_lft_lower_x"`},
		{`{"": {"coordinates": {}}}`, `empty stem`},
	} {
		os.WriteFile(f, []byte(c.src), 0o644)
		_, err := ReadLabels(f)
		if errs.KindOf(err) != errs.IO || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got  %v\n want %q", c.src, err, c.want)
		}
	}
	// null and absent coordinates are "not labelled"; unknown entry fields are ignored.
	os.WriteFile(f, []byte(`{"a": {"image": "a.png", "note": "x", "coordinates": {"longi_left_lower_x": null, "longi_left_lower_y": 3}}}`), 0o644)
	if e, err := ReadLabels(f); err != nil || e[0].Points != (WeldPoints{LongiLeftLower: WeldPoint{0, 3}}) {
		t.Fatalf("%v %+v", err, e)
	}
	if _, err := ReadLabels(filepath.Join(dir, "none.json")); errs.KindOf(err) != errs.IO || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
	// The writer refuses what the reader would.
	for _, es := range [][]LabelEntry{{{Stem: ""}}, {{Stem: "a"}, {Stem: "a"}}, {{Stem: "a", Points: WeldPoints{CollarLeftLower: WeldPoint{-1, 2}}}}} {
		if err := WriteLabels(f, es); errs.KindOf(err) != errs.BadArg {
			t.Errorf("WriteLabels(%+v): %v", es, err)
		}
	}
}
