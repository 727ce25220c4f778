package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// The welding study's label format (../shared/notes/welding.md): one JSON
// file mapping an image stem to
//
//	{"image": "images\\WIN_20250604_14_05_41_Pro.jpg",
//	 "coordinates": {"longi_left_lower_x": 812, "longi_left_lower_y": 1630, ... 12 integer keys}}
//
// with the keys {longi_left, longi_right, collar_left}_{lower, upper}_{x, y}
// and 0 meaning "not labelled".

// Segment roles of a welding label, in the order of Item.Lines.
const (
	RoleLongiLeft  = "longi_left"  // left longitudinal: its lower → upper point
	RoleLongiRight = "longi_right" // right longitudinal: lower → upper
	RoleCollarLeft = "collar_left" // collar: lower → upper
	RoleFillet     = "fillet"      // fillet weld: left longitudinal's lower point → right longitudinal's lower point
)

// DefaultHoldoutFraction is the fraction of the labelled images held out
// (split "test") when neither a held-out file nor a fraction is given: about
// the study's 246 of 846.
const DefaultHoldoutFraction = 0.3

// WeldPoint is a labelled point in pixels of the image as stored. A point
// is labelled when X != 0 (the study's rule; Y = 0 is a valid row).
type WeldPoint struct{ X, Y int }

// WeldPoints are the six points of one image's welding label; the zero
// WeldPoint is "not labelled".
type WeldPoints struct {
	LongiLeftLower, LongiLeftUpper   WeldPoint
	LongiRightLower, LongiRightUpper WeldPoint
	CollarLeftLower, CollarLeftUpper WeldPoint
}

// weldKeys are the points' JSON key prefixes, in WeldPoints field order.
var weldKeys = [6]string{"longi_left_lower", "longi_left_upper", "longi_right_lower", "longi_right_upper", "collar_left_lower", "collar_left_upper"}

func (p *WeldPoints) at(i int) *WeldPoint {
	return [6]*WeldPoint{&p.LongiLeftLower, &p.LongiLeftUpper, &p.LongiRightLower, &p.LongiRightUpper, &p.CollarLeftLower, &p.CollarLeftUpper}[i]
}

// Segments returns the labelled segments and their roles, in the order
// longi_left, longi_right, collar_left (each lower → upper), fillet (left
// longitudinal's lower point → right longitudinal's lower point). A segment
// exists when the x coordinates of both its end points are non-zero.
func (p WeldPoints) Segments() ([]imgbuf.Segment, []string) {
	var segs []imgbuf.Segment
	var roles []string
	add := func(role string, a, b WeldPoint) {
		if a.X != 0 && b.X != 0 {
			segs = append(segs, imgbuf.Segment{X1: float64(a.X), Y1: float64(a.Y), X2: float64(b.X), Y2: float64(b.Y)})
			roles = append(roles, role)
		}
	}
	add(RoleLongiLeft, p.LongiLeftLower, p.LongiLeftUpper)
	add(RoleLongiRight, p.LongiRightLower, p.LongiRightUpper)
	add(RoleCollarLeft, p.CollarLeftLower, p.CollarLeftUpper)
	add(RoleFillet, p.LongiLeftLower, p.LongiRightLower)
	return segs, roles
}

// LabelEntry is one stem of a label file.
type LabelEntry struct {
	Stem   string     // the key, e.g. "WIN_20250604_14_05_41_Pro"
	Image  string     // the "image" path as written (Windows or POSIX separators)
	Points WeldPoints // the 12 coordinates
}

// LabelOptions configures OpenLabels.
type LabelOptions struct {
	// Split "" or "all" (default) takes every labelled image, "train" the
	// images not held out, "test" the held-out ones. CacheImages and
	// MaxPixels are as for Open.
	Options
	// Images is the directory the "image" paths are resolved against
	// (default: the label file's directory). A path is tried as written
	// there, then by its file name alone.
	Images string
	// HoldoutFile names the held-out images (split "test"): one stem (or
	// image file name) per line; blank lines and lines starting with # are
	// ignored. Without it, HoldoutFraction of the labelled images are held
	// out, chosen by HoldoutSeed (deterministic: the images with the
	// smallest FNV-1a hash of seed and stem).
	HoldoutFile     string
	HoldoutFraction float64 // in (0, 1); 0: DefaultHoldoutFraction
	HoldoutSeed     uint64
}

// LabelSummary describes a data set opened from a label file; it is part of
// its Manifest ("labels").
type LabelSummary struct {
	File            string   `json:"file"`             // the label file, relative to the manifest's dir
	Images          string   `json:"images,omitempty"` // LabelOptions.Images
	Stems           int      `json:"stems"`            // entries in the file
	Labelled        int      `json:"labelled"`         // with at least one segment: the data set (all splits)
	Complete        int      `json:"complete"`         // with all four segments
	Excluded        int      `json:"excluded"`         // with no segment: excluded, never scored
	ExcludedStems   []string `json:"excluded_stems"`   // their stems, sorted
	HoldoutFile     string   `json:"holdout_file,omitempty"`
	HoldoutFraction float64  `json:"holdout_fraction,omitempty"`
	HoldoutSeed     uint64   `json:"holdout_seed"`
	Train           int      `json:"train"` // labelled images not held out
	Test            int      `json:"test"`  // held out
}

// IsLabelFile reports whether path names a label file rather than a
// directory: an existing regular file whose name ends in .json.
func IsLabelFile(path string) bool {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// Labels returns the label summary of a data set opened from a label file
// (OpenLabels), nil for any other.
func (d *Dataset) Labels() *LabelSummary {
	if d.labels == nil {
		return nil
	}
	s := *d.labels
	s.ExcludedStems = slices.Clone(s.ExcludedStems)
	return &s
}

func (o LabelOptions) validate() error {
	const op = "dataset.open"
	if err := o.Options.Validate(); err != nil {
		return err
	}
	switch f := o.HoldoutFraction; {
	case math.IsNaN(f) || f < 0 || f >= 1:
		return errs.New(errs.BadArg, op, "holdout_fraction must be in (0, 1) (0 or absent: %g), got %g", DefaultHoldoutFraction, f)
	case f != 0 && o.HoldoutFile != "":
		return errs.New(errs.BadArg, op, "give holdout_file or holdout_fraction, not both")
	}
	return nil
}

// OpenLabels opens the images of a welding label file as a data set: each
// stem's labelled segments (WeldPoints.Segments) become Item.Lines, in role
// order, in pixels of the image as stored; Item.ID is the stem. Stems with
// no labelled segment are excluded (counted in Labels and the Manifest),
// never scored 0. Items are ordered by stem. Every labelled stem's image is
// found and its header checked now (size, format, pixel limit); pixels are
// decoded lazily by Image. Errors name the label file and the stem, with the
// line and column for JSON problems.
func OpenLabels(file string, opts LabelOptions) (*Dataset, error) {
	const op = "dataset.open"
	if err := opts.validate(); err != nil {
		return nil, err
	}
	entries, err := ReadLabels(file)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	sum := &LabelSummary{File: filepath.Base(file), Images: opts.Images, Stems: len(entries), HoldoutSeed: opts.HoldoutSeed}
	if opts.Images != "" {
		if st, err := os.Stat(opts.Images); err != nil || !st.IsDir() {
			return nil, errs.New(errs.IO, op, "images directory %s: %s", opts.Images, statMsg(err, "not a directory"))
		}
	}
	var items []Item
	for _, e := range entries {
		segs, _ := e.Points.Segments()
		if len(segs) == 0 {
			sum.ExcludedStems = append(sum.ExcludedStems, e.Stem)
			continue
		}
		if len(segs) == 4 {
			sum.Complete++
		}
		ipath, err := findImage(file, dir, opts.Images, e)
		if err != nil {
			return nil, err
		}
		hd, err := imgbuf.CheckFile(ipath, opts.MaxPixels)
		if err != nil {
			return nil, errs.New(errs.IO, op, "%s: stem %q: %v", file, e.Stem, err)
		}
		if !imgbuf.GoDecodes(hd.Format) {
			return nil, errs.New(errs.IO, op, "%s: stem %q: %s is %s, but data sets read PNG, JPEG or GIF", file, e.Stem, ipath, imgbuf.FormatName(hd.Format))
		}
		items = append(items, Item{ID: e.Stem, Path: ipath, Width: hd.Width, Height: hd.Height, Lines: segs})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	sort.Strings(sum.ExcludedStems)
	sum.Excluded, sum.Labelled = len(sum.ExcludedStems), len(items)
	if len(items) == 0 {
		return nil, errs.New(errs.IO, op, "%s: none of its %d stems has a labelled segment (a segment needs both end points' x non-zero)", file, len(entries))
	}

	test, err := holdout(file, entries, items, opts, sum)
	if err != nil {
		return nil, err
	}
	d := &Dataset{dir: dir, split: "all", cache: opts.cache(), maxPx: opts.MaxPixels, labels: sum,
		splits: map[string][]string{"train": {}, "test": {}}}
	for _, it := range items {
		k := "train"
		if test[it.ID] {
			k = "test"
		}
		d.splits[k] = append(d.splits[k], it.ID)
	}
	sum.Train, sum.Test = len(d.splits["train"]), len(d.splits["test"])
	switch s := opts.Split; s {
	case "", "all":
	case "train", "test":
		d.split = s
	default:
		return nil, errs.New(errs.BadArg, op, "unknown split %q: valid are \"all\", \"test\", \"train\" (a label file's test split is its held-out images)", s)
	}
	d.files = append(d.files, sum.File)
	if opts.HoldoutFile != "" {
		d.files = append(d.files, relTo(dir, opts.HoldoutFile))
	}
	for _, it := range items {
		if d.split != "all" && test[it.ID] != (d.split == "test") {
			continue
		}
		it.Index = len(d.items)
		d.items = append(d.items, it)
		d.files = append(d.files, relTo(dir, it.Path))
	}
	d.applyDownscale(opts.Downscale)
	return d, nil
}

// relTo names p relative to dir for the manifest (which joins them again).
func relTo(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return r
	}
	return p
}

func statMsg(err error, otherwise string) string {
	if err != nil {
		return unwrapPathErr(err).Error()
	}
	return otherwise
}

// holdout returns the set of held-out stems among items.
func holdout(file string, entries []LabelEntry, items []Item, opts LabelOptions, sum *LabelSummary) (map[string]bool, error) {
	const op = "dataset.open"
	test := map[string]bool{}
	if opts.HoldoutFile != "" {
		sum.HoldoutFile = opts.HoldoutFile
		b, err := os.ReadFile(opts.HoldoutFile)
		if err != nil {
			return nil, errs.New(errs.IO, op, "holdout file %s: %v", opts.HoldoutFile, unwrapPathErr(err))
		}
		known := map[string]bool{}
		for _, e := range entries {
			known[e.Stem] = true
		}
		labelled := map[string]bool{}
		for _, it := range items {
			labelled[it.ID] = true
		}
		for n, line := range strings.Split(string(b), "\n") {
			name := strings.TrimSpace(line)
			if name == "" || strings.HasPrefix(name, "#") {
				continue
			}
			stem := name
			if !known[stem] { // an image file name or path
				base := path.Base(strings.ReplaceAll(name, `\`, "/"))
				stem = strings.TrimSuffix(base, path.Ext(base))
			}
			if !known[stem] {
				return nil, errs.New(errs.IO, op, "%s:%d: %q names no stem of %s", opts.HoldoutFile, n+1, name, file)
			}
			if labelled[stem] {
				test[stem] = true
			}
		}
		return test, nil
	}
	f := opts.HoldoutFraction
	if f == 0 {
		f = DefaultHoldoutFraction
	}
	sum.HoldoutFraction = f
	type ranked struct {
		h    uint64
		stem string
	}
	rs := make([]ranked, len(items))
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], opts.HoldoutSeed)
	for i, it := range items {
		h := fnv.New64a()
		h.Write(seed[:])
		h.Write([]byte(it.ID))
		rs[i] = ranked{h.Sum64(), it.ID}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].h != rs[j].h {
			return rs[i].h < rs[j].h
		}
		return rs[i].stem < rs[j].stem
	})
	for _, r := range rs[:int(math.Round(f*float64(len(rs))))] {
		test[r.stem] = true
	}
	return test, nil
}

var drive = regexp.MustCompile(`^[A-Za-z]:/`)

// findImage resolves entry e's image: "image" with backslashes read as
// separators, relative to the images directory (when given) or the label
// file's directory, then by its file name alone there; without "image",
// <stem>.jpg, .jpeg or .png there.
func findImage(file, labelDir, imagesDir string, e LabelEntry) (string, error) {
	base := labelDir
	if imagesDir != "" {
		base = imagesDir
	}
	p := strings.ReplaceAll(e.Image, `\`, "/")
	var tried []string
	add := func(c string) {
		if !slices.Contains(tried, c) {
			tried = append(tried, c)
		}
	}
	switch {
	case p == "":
		for _, ext := range []string{".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"} {
			add(filepath.Join(base, e.Stem+ext))
		}
	case path.IsAbs(p):
		add(filepath.FromSlash(p))
	case drive.MatchString(p): // a Windows absolute path: its name only
	default:
		add(filepath.Join(base, filepath.FromSlash(p)))
	}
	if p != "" {
		add(filepath.Join(base, path.Base(p)))
	}
	for _, c := range tried {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, nil
		}
	}
	what := fmt.Sprintf("image %q", e.Image)
	if e.Image == "" {
		what = "no \"image\" path, and no image named after it"
	}
	hint := "give the images directory (airline.dataset{labels = ..., images = DIR}, or the objective's images = DIR)"
	if imagesDir != "" {
		hint = "check the images directory " + imagesDir
	}
	return "", errs.New(errs.IO, "dataset.open", "%s: stem %q: %s not found (tried %s)", file, e.Stem, what, strings.Join(tried, ", ")).WithHint("%s", hint)
}

// ReadLabels reads a welding label file: its stems in file order, with the
// image path as written and the 12 coordinates. Errors name the file, the
// line and column, and the stem: malformed JSON, a duplicate stem, an entry
// that is not an object or lacks "coordinates", a coordinate key other than
// the 12, a value that is not a whole number of pixels >= 0. Unknown fields
// of an entry are ignored; an absent coordinate key counts as 0 (not
// labelled), as does null.
func ReadLabels(file string) ([]LabelEntry, error) {
	const op = "dataset.open"
	const want = `{"STEM": {"image": "PATH", "coordinates": {"longi_left_lower_x": N, ...}}, ...}`
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, errs.New(errs.IO, op, "label file %s: %v", file, unwrapPathErr(err))
	}
	if err := json.Unmarshal(b, new(json.RawMessage)); err != nil {
		return nil, jsonError(op, file, b, err, want)
	}
	at := func(off int64, stem, format string, args ...any) error {
		l, c := lineCol(b, off)
		where := fmt.Sprintf("%s:%d:%d: ", file, l, c)
		if stem != "" {
			where += fmt.Sprintf("stem %q: ", stem)
		}
		return errs.New(errs.IO, op, "%s%s", where, fmt.Sprintf(format, args...))
	}
	top, ok := objectFields(b, 0)
	if !ok {
		return nil, at(firstByte(b, 0), "", "the label file must be a JSON object %s", want)
	}
	seen := map[string]int64{}
	out := make([]LabelEntry, 0, len(top))
	for _, f := range top {
		if prev, dup := seen[f.key]; dup {
			l, c := lineCol(b, prev)
			return nil, at(f.keyOff, f.key, "duplicate stem (first at line %d, column %d)", l, c)
		}
		seen[f.key] = f.keyOff
		if f.key == "" {
			return nil, at(f.keyOff, "", "empty stem")
		}
		fields, ok := objectFields(f.raw, f.off)
		if !ok {
			return nil, at(f.off, f.key, "the entry must be an object {\"image\": PATH, \"coordinates\": {...}}, got %s", jsonKind(f.raw))
		}
		e := LabelEntry{Stem: f.key}
		var coords *field
		for i, g := range fields {
			switch g.key {
			case "image":
				if err := json.Unmarshal(g.raw, &e.Image); err != nil {
					return nil, at(g.off, f.key, "\"image\" must be a path string, got %s", jsonKind(g.raw))
				}
			case "coordinates":
				coords = &fields[i]
			}
		}
		if coords == nil {
			return nil, at(f.off, f.key, "missing \"coordinates\"")
		}
		cf, ok := objectFields(coords.raw, coords.off)
		if !ok {
			return nil, at(coords.off, f.key, "\"coordinates\" must be an object of 12 integers, got %s", jsonKind(coords.raw))
		}
		for _, g := range cf {
			pi, axis, known := coordKey(g.key)
			if !known {
				return nil, at(g.keyOff, f.key, "unknown coordinate %q: the keys are {longi_left, longi_right, collar_left}_{lower, upper}_{x, y}", g.key)
			}
			if bytes.Equal(g.raw, []byte("null")) {
				continue
			}
			var v float64
			if err := json.Unmarshal(g.raw, &v); err != nil || v < 0 || v != math.Trunc(v) || v > 1<<30 {
				return nil, at(g.off, f.key, "coordinates.%s must be a whole number of pixels >= 0 (0: not labelled), got %s", g.key, string(g.raw))
			}
			pt := e.Points.at(pi)
			if axis == 'x' {
				pt.X = int(v)
			} else {
				pt.Y = int(v)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// coordKey parses "longi_left_lower_x" into the point index and axis.
func coordKey(k string) (int, byte, bool) {
	if len(k) < 3 || k[len(k)-2] != '_' || (k[len(k)-1] != 'x' && k[len(k)-1] != 'y') {
		return 0, 0, false
	}
	i := slices.Index(weldKeys[:], k[:len(k)-2])
	return i, k[len(k)-1], i >= 0
}

// field is one member of a JSON object: its key, raw value, and the byte
// offsets of both in the whole file.
type field struct {
	key         string
	raw         json.RawMessage
	keyOff, off int64
}

// objectFields lists the members of the JSON object raw (valid JSON) in
// order; base is raw's offset in the file. ok is false when raw is not an
// object.
func objectFields(raw []byte, base int64) ([]field, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if d, isDelim := t.(json.Delim); err != nil || !isDelim || d != '{' {
		return nil, false
	}
	var out []field
	for dec.More() {
		keyOff := base + firstByte(raw, dec.InputOffset())
		kt, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, field{key: kt.(string), raw: v, keyOff: keyOff, off: base + dec.InputOffset() - int64(len(v))})
	}
	return out, true
}

// firstByte is the offset of the first byte at or after off that is neither
// white space nor a separator (',' or ':').
func firstByte(b []byte, off int64) int64 {
	for off < int64(len(b)) && strings.IndexByte(" \t\r\n,:", b[off]) >= 0 {
		off++
	}
	return off
}

func jsonKind(raw []byte) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == '"':
		return "a string"
	case bytes.Equal(t, []byte("null")):
		return "null"
	case bytes.Equal(t, []byte("true")) || bytes.Equal(t, []byte("false")):
		return "a boolean"
	}
	return "the number " + string(raw)
}

// WriteLabels writes entries as a welding label file (the format ReadLabels
// and OpenLabels read), stems in the order given, each entry's 12
// coordinates in a fixed key order. The file is written to a temporary name
// and renamed, so a reader never sees half of it. An empty or duplicate
// stem, or a negative coordinate, is a bad_arg error naming the entry.
func WriteLabels(file string, entries []LabelEntry) error {
	const op = "dataset.write_labels"
	seen := map[string]bool{}
	var buf bytes.Buffer
	buf.WriteString("{")
	for i, e := range entries {
		if e.Stem == "" {
			return errs.New(errs.BadArg, op, "entries[%d]: empty stem", i)
		}
		if seen[e.Stem] {
			return errs.New(errs.BadArg, op, "entries[%d]: duplicate stem %q", i, e.Stem)
		}
		seen[e.Stem] = true
		if i > 0 {
			buf.WriteString(",")
		}
		k, _ := json.Marshal(e.Stem)
		img, _ := json.Marshal(e.Image)
		fmt.Fprintf(&buf, "\n  %s: {\n    \"image\": %s,\n    \"coordinates\": {", k, img)
		for j, key := range weldKeys {
			p := e.Points.at(j)
			if p.X < 0 || p.Y < 0 {
				return errs.New(errs.BadArg, op, "entries[%d] (stem %q): %s = (%d, %d): coordinates must be >= 0 (0: not labelled)", i, e.Stem, key, p.X, p.Y)
			}
			sep := ", "
			if j == 0 {
				sep = ""
			}
			fmt.Fprintf(&buf, "%s\"%s_x\": %s, \"%s_y\": %s", sep, key, strconv.Itoa(p.X), key, strconv.Itoa(p.Y))
		}
		buf.WriteString("}\n  }")
	}
	buf.WriteString("\n}\n")
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return errs.Wrap(errs.IO, op, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return errs.Wrap(errs.IO, op, err)
	}
	return nil
}
