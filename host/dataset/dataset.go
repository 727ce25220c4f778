package dataset

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// Item describes one image of a data set. It is cheap: the pixels are loaded
// by Dataset.Image.
type Item struct {
	Index         int              // position in this Dataset (0-based)
	ID            string           // file stem ("P1020171") or "synth-0007"
	Path          string           // image file path; "" for synthetic items
	Width, Height int              // from the annotation (checked against the image); with Options.Downscale, the reduced image's
	Lines         []imgbuf.Segment // ground-truth segments, 0-based pixel coordinates (of the reduced image with Options.Downscale)
	Boxes         []imgbuf.Box     // optional regions of interest (annotation "boxes"; synthetic: structures)
}

// Options configures Open.
type Options struct {
	// Split selects the images: "" or "all" (default) takes every image;
	// any other name (York Urban has "train" and "test") is looked up in
	// dir/split.json.
	Split string
	// CacheImages bounds the LRU cache of decoded images: 0 means the
	// default, as many as fit in DefaultCacheBytes but at least
	// DefaultCacheImages; a positive value is a count; a negative value
	// disables caching.
	CacheImages int
	// MaxPixels bounds every image's width × height, checked from the
	// header before any pixel is decoded: an image over it is an io error
	// naming the file. 0 means BOHOST_MAX_PIXELS when that is set, else
	// imgbuf.DefaultMaxPixels (2^26 = 67,108,864, 8192 × 8192).
	MaxPixels int64
	// Downscale reduces every image by this integer factor (0 or 1: none;
	// at most MaxDownscale): Image decodes the file and returns its
	// Downscale by the factor (ceil(W/f) × ceil(H/f)), and the items'
	// Width, Height, Lines and Boxes are in pixels of the reduced image
	// (DownscaleSegments). MaxPixels still bounds the file as stored. The
	// factor is part of the Manifest and its hash.
	Downscale int
}

// MaxDownscale is the largest Options.Downscale.
const MaxDownscale = 64

// The default cache (CacheImages 0) keeps decoded images up to
// DefaultCacheBytes of pixels, and never fewer than DefaultCacheImages. A
// run scores every x on the same W set of images, so the cache must hold the
// whole set: 8 images cycled through 16 or more missed on almost every call
// (each miss decodes a file or renders a scene again). 128 MiB is 436
// images of 640 x 480 or 16 of 3264 x 2448.
const (
	DefaultCacheImages       = 8
	DefaultCacheBytes  int64 = 128 << 20
)

// Validate reports a bad option, naming it.
func (o Options) Validate() error {
	if strings.TrimSpace(o.Split) != o.Split {
		return errs.New(errs.BadArg, "dataset.open", "split %q has surrounding spaces", o.Split)
	}
	if _, err := imgbuf.ResolveLimit(o.MaxPixels); err != nil {
		return errs.Wrap(errs.BadArg, "dataset.open", err)
	}
	if o.Downscale < 0 || o.Downscale > MaxDownscale {
		return errs.New(errs.BadArg, "dataset.open", "downscale must be an integer factor in [1, %d] (0 or absent: none), got %d", MaxDownscale, o.Downscale)
	}
	return nil
}

// cache returns the image cache Options.CacheImages asks for.
func (o Options) cache() *lru {
	switch {
	case o.CacheImages == 0:
		return newLRU(0, DefaultCacheBytes, DefaultCacheImages)
	case o.CacheImages < 0:
		return newLRU(0, 0, 0)
	}
	return newLRU(o.CacheImages, 0, 0)
}

// Dataset is an ordered, read-only set of images with ground-truth segments.
// Its methods are safe for concurrent use.
type Dataset struct {
	dir    string
	split  string
	items  []Item
	splits map[string][]string // split name -> IDs (as in split.json, or the synthetic halves)
	files  []string            // files behind the data set, relative to dir, for Manifest
	synth  *SynthOptions       // non-nil for Synthetic
	gen    *generator
	cache  *lru
	maxPx  int64         // Options.MaxPixels
	labels *LabelSummary // non-nil for OpenLabels
	down   int           // Options.Downscale when > 1, else 0
	full   [][2]int      // with down: each item's size as stored (width, height)
}

// Downscale is the factor the images are reduced by (1: none).
func (d *Dataset) Downscale() int { return max(d.down, 1) }

// applyDownscale maps the items to the image reduced by f (Options.Downscale),
// keeping their sizes as stored for the check in Image.
func (d *Dataset) applyDownscale(f int) {
	if f <= 1 {
		return
	}
	d.down = f
	d.full = make([][2]int, len(d.items))
	for i := range d.items {
		it := &d.items[i]
		d.full[i] = [2]int{it.Width, it.Height}
		it.Width, it.Height = (it.Width+f-1)/f, (it.Height+f-1)/f
		it.Lines = DownscaleSegments(it.Lines, f)
		if it.Boxes != nil {
			bs := make([]imgbuf.Box, len(it.Boxes))
			for k, b := range it.Boxes {
				bs[k] = imgbuf.Box{X0: b.X0 / f, Y0: b.Y0 / f, X1: (b.X1 + f - 1) / f, Y1: (b.Y1 + f - 1) / f}
			}
			it.Boxes = bs
		}
	}
}

// Len is the number of images.
func (d *Dataset) Len() int { return len(d.items) }

// Item returns item i (0 <= i < Len); out of range returns the zero Item
// with Index -1. Lines and Boxes are shared: do not modify them.
func (d *Dataset) Item(i int) Item {
	if i < 0 || i >= len(d.items) {
		return Item{Index: -1}
	}
	return d.items[i]
}

// Items returns all items in order (a fresh slice; Lines are shared).
func (d *Dataset) Items() []Item { return slices.Clone(d.items) }

// Dir is the directory the data set was opened from ("" for synthetic).
func (d *Dataset) Dir() string { return d.dir }

// Split is the split this Dataset was opened with ("all" when none).
func (d *Dataset) Split() string { return d.split }

// Image returns the gray pixels of item i, decoding (or generating) them on
// first use and keeping at most CacheImages decoded images in an LRU cache.
// With Options.Downscale the file is decoded, checked and reduced at once,
// and only the reduced image is kept. The caller owns the returned image
// (it is a copy of the cached one).
func (d *Dataset) Image(i int) (*imgbuf.Gray, error) {
	if i < 0 || i >= len(d.items) {
		return nil, errs.New(errs.BadArg, "dataset.image", "index must be in [0, %d), got %d", len(d.items), i)
	}
	if g, ok := d.cache.get(i); ok {
		return cloneGray(g), nil
	}
	it := d.items[i]
	var g *imgbuf.Gray
	var err error
	if d.gen != nil {
		g = d.gen.render(d.globalIndex(it)).img
	} else {
		g, err = decodeFile(it.Path, d.maxPx)
		if err != nil {
			return nil, err
		}
		w, h := it.Width, it.Height
		if d.down > 1 {
			w, h = d.full[i][0], d.full[i][1]
		}
		if g.W != w || g.H != h {
			return nil, errs.New(errs.IO, "dataset.image",
				"%s: decoded image is %dx%d but its annotation says width=%d height=%d",
				it.Path, g.W, g.H, w, h)
		}
		if d.down > 1 {
			if g, err = Downscale(g, d.down); err != nil {
				return nil, err
			}
		}
	}
	d.cache.put(i, g)
	return cloneGray(g), nil
}

func cloneGray(g *imgbuf.Gray) *imgbuf.Gray {
	return &imgbuf.Gray{W: g.W, H: g.H, Pix: slices.Clone(g.Pix)}
}

// imageExts are the image file extensions Open picks up (case-insensitive).
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// annotation is the per-image JSON file.
type annotation struct {
	Width  *int        `json:"width"`
	Height *int        `json:"height"`
	Lines  [][]float64 `json:"lines"`
	Boxes  [][]int     `json:"boxes"`
}

// Open reads a directory in York Urban's layout: images (*.jpg, *.jpeg,
// *.png) each with an annotation <stem>.json beside it, and an optional
// split.json ({"train":[stems...],"test":[stems...]}). Every image must have
// its JSON (an image without one is an error naming both files); JSON files
// without an image (split.json, manifests, notes) are ignored. Items are
// ordered by file name. Annotations are parsed and image headers checked
// now; pixels are decoded lazily by Image.
func Open(dir string, opts Options) (*Dataset, error) {
	const op = "dataset.open"
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if IsLabelFile(dir) {
		return OpenLabels(dir, LabelOptions{Options: opts})
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, errs.New(errs.IO, op, "data directory %s: %v", dir, unwrapPathErr(err))
	}
	if !st.IsDir() {
		return nil, errs.New(errs.IO, op, "data directory %s is not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	present := map[string]bool{}
	var images []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		present[e.Name()] = true
		if imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			images = append(images, e.Name())
		}
	}
	sort.Strings(images)
	if len(images) == 0 {
		return nil, errs.New(errs.IO, op, "data directory %s holds no images (*.jpg, *.jpeg, *.png)", dir)
	}
	stems := map[string]string{}
	for _, name := range images {
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if prev, dup := stems[stem]; dup {
			return nil, errs.New(errs.IO, op, "%s: images %s and %s share the annotation %s.json", dir, prev, name, stem)
		}
		stems[stem] = name
		if !present[stem+".json"] {
			return nil, errs.New(errs.IO, op, "image %s has no annotation %s",
				filepath.Join(dir, name), filepath.Join(dir, stem+".json")).
				WithHint("every image needs a same-name .json with width, height and lines")
		}
	}

	d := &Dataset{dir: dir, split: "all", cache: opts.cache(), maxPx: opts.MaxPixels}
	if present["split.json"] {
		d.splits, err = readSplit(filepath.Join(dir, "split.json"), stems)
		if err != nil {
			return nil, err
		}
	}
	keep := func(string) bool { return true }
	if s := opts.Split; s != "" && s != "all" {
		ids, ok := d.splits[s]
		if !ok {
			names := []string{`"all"`}
			for k := range d.splits {
				names = append(names, fmt.Sprintf("%q", k))
			}
			sort.Strings(names[1:])
			where := "no split.json in " + dir
			if d.splits != nil {
				where = "split.json has " + strings.Join(names[1:], ", ")
			}
			return nil, errs.New(errs.BadArg, op, "unknown split %q: valid are %s (%s)", s, strings.Join(names, ", "), where)
		}
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		keep = func(id string) bool { return set[id] }
		d.split = s
	}
	if d.splits != nil {
		d.files = append(d.files, "split.json")
	}
	for _, name := range images {
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if !keep(stem) {
			continue
		}
		it, err := readItem(dir, name, stem, opts.MaxPixels)
		if err != nil {
			return nil, err
		}
		it.Index = len(d.items)
		d.items = append(d.items, it)
		d.files = append(d.files, name, stem+".json")
	}
	d.applyDownscale(opts.Downscale)
	return d, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readSplit(path string, stems map[string]string) (map[string][]string, error) {
	const op = "dataset.open"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, jsonError(op, path, b, err, `{"train":[names...],"test":[names...]}`)
	}
	for k, ids := range m {
		for j, id := range ids {
			if _, ok := stems[id]; !ok {
				return nil, errs.New(errs.IO, op, "%s: %s[%d] = %q names no image in the directory", path, k, j, id)
			}
		}
	}
	return m, nil
}

func readItem(dir, name, stem string, maxPixels int64) (Item, error) {
	const op = "dataset.open"
	jpath := filepath.Join(dir, stem+".json")
	ipath := filepath.Join(dir, name)
	b, err := os.ReadFile(jpath)
	if err != nil {
		return Item{}, errs.Wrap(errs.IO, op, err)
	}
	var a annotation
	if err := json.Unmarshal(b, &a); err != nil {
		return Item{}, jsonError(op, jpath, b, err, `{"width":W,"height":H,"lines":[[x1,y1,x2,y2],...]}`)
	}
	switch {
	case a.Width == nil:
		return Item{}, errs.New(errs.IO, op, "%s: missing field \"width\"", jpath)
	case a.Height == nil:
		return Item{}, errs.New(errs.IO, op, "%s: missing field \"height\"", jpath)
	case *a.Width <= 0 || *a.Height <= 0:
		return Item{}, errs.New(errs.IO, op, "%s: width and height must be > 0, got width=%d height=%d", jpath, *a.Width, *a.Height)
	case a.Lines == nil:
		return Item{}, errs.New(errs.IO, op, "%s: missing field \"lines\"", jpath)
	}
	it := Item{ID: stem, Path: ipath, Width: *a.Width, Height: *a.Height}
	it.Lines = make([]imgbuf.Segment, len(a.Lines))
	for k, l := range a.Lines {
		if len(l) != 4 {
			return Item{}, errs.New(errs.IO, op, "%s: lines[%d] must have 4 numbers [x1,y1,x2,y2], got %d", jpath, k, len(l))
		}
		for _, v := range l {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Item{}, errs.New(errs.IO, op, "%s: lines[%d] has a non-finite coordinate", jpath, k)
			}
		}
		it.Lines[k] = imgbuf.Segment{X1: l[0], Y1: l[1], X2: l[2], Y2: l[3]}
	}
	for k, bx := range a.Boxes {
		if len(bx) != 4 {
			return Item{}, errs.New(errs.IO, op, "%s: boxes[%d] must have 4 integers [x0,y0,x1,y1], got %d", jpath, k, len(bx))
		}
		it.Boxes = append(it.Boxes, imgbuf.Box{X0: bx[0], Y0: bx[1], X1: bx[2], Y1: bx[3]})
	}
	// The header alone: its size is checked against the pixel limit and the
	// annotation now, before anything is decoded.
	hd, err := imgbuf.CheckFile(ipath, maxPixels)
	if err != nil {
		return Item{}, errs.Wrap(errs.IO, op, err)
	}
	if !imgbuf.GoDecodes(hd.Format) {
		return Item{}, errs.New(errs.IO, op, "%s: the file is %s, but data sets read PNG, JPEG or GIF", ipath, imgbuf.FormatName(hd.Format))
	}
	if hd.Width != it.Width || hd.Height != it.Height {
		return Item{}, errs.New(errs.IO, op, "%s: image is %dx%d but %s says width=%d height=%d",
			ipath, hd.Width, hd.Height, jpath, it.Width, it.Height)
	}
	return it, nil
}

// jsonError turns a decoding error into one naming the file, line and column.
func jsonError(op, path string, b []byte, err error, want string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		l, c := lineCol(b, se.Offset)
		return errs.New(errs.IO, op, "%s:%d:%d: malformed JSON: %v", path, l, c, se)
	case errors.As(err, &te):
		l, c := lineCol(b, te.Offset)
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return errs.New(errs.IO, op, "%s:%d:%d: field %s: JSON %s where %s is expected (want %s)",
			path, l, c, field, te.Value, te.Type, want)
	}
	return errs.New(errs.IO, op, "%s: malformed JSON: %v (want %s)", path, err, want)
}

func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	pre := b[:off]
	line = 1 + bytes.Count(pre, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(pre, '\n')
	return line, col
}

// Decode reads a JPEG or PNG (or GIF) file into an 8-bit gray image with
// OpenCV's COLOR_BGR2GRAY weights in its fixed-point form,
// Y = (4899 R + 9617 G + 1868 B + 8192) >> 14 (0.299, 0.587, 0.114, rounded).
// Gray files are copied as they are; alpha is ignored. The header's size is
// checked first against the process's pixel limit (BOHOST_MAX_PIXELS, else
// imgbuf.DefaultMaxPixels): a larger image is an io error naming the file.
func Decode(path string) (*imgbuf.Gray, error) { return decodeFile(path, 0) }

func decodeFile(path string, maxPixels int64) (*imgbuf.Gray, error) {
	m, _, err := imgbuf.DecodeFile(path, maxPixels)
	if err != nil {
		return nil, errs.Wrap(errs.IO, "dataset.decode", err)
	}
	return ToGray(m), nil
}

// DecodeReader is Decode on a stream (the pixel limit is checked from the
// header as in Decode).
func DecodeReader(r io.Reader) (*imgbuf.Gray, error) {
	m, _, err := imgbuf.Decode(r, "", 0)
	if err != nil {
		return nil, err
	}
	return ToGray(m), nil
}

func luma(r, g, b uint32) uint8 { return uint8((4899*r + 9617*g + 1868*b + 8192) >> 14) }

// ToGray converts any image to gray with the weights of Decode.
func ToGray(m image.Image) *imgbuf.Gray {
	bd := m.Bounds()
	w, h := bd.Dx(), bd.Dy()
	out := imgbuf.NewGray(w, h)
	switch src := m.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(out.Pix[y*w:y*w+w], src.Pix[y*src.Stride:y*src.Stride+w])
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := src.YOffset(bd.Min.X+x, bd.Min.Y+y)
				ci := src.COffset(bd.Min.X+x, bd.Min.Y+y)
				r, g, b := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				out.Pix[y*w+x] = luma(uint32(r), uint32(g), uint32(b))
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride:]
			for x := 0; x < w; x++ {
				out.Pix[y*w+x] = luma(uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride:]
			for x := 0; x < w; x++ {
				out.Pix[y*w+x] = luma(uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(m.At(bd.Min.X+x, bd.Min.Y+y)).(color.NRGBA)
				out.Pix[y*w+x] = luma(uint32(c.R), uint32(c.G), uint32(c.B))
			}
		}
	}
	return out
}

// Manifest identifies a data set for a run directory (docs/rundir.md).
type Manifest struct {
	Dir       string         `json:"dir"`                 // data directory, or "synthetic"
	Split     string         `json:"split"`               // the split used
	Files     []ManifestFile `json:"files"`               // files behind the data set (none for synthetic)
	Generator *SynthOptions  `json:"generator,omitempty"` // synthetic only: the generator parameters
	Version   string         `json:"generator_version,omitempty"`
	SHA256    string         `json:"sha256"`              // hash of the list (or of the generator parameters)
	Labels    *LabelSummary  `json:"labels,omitempty"`    // a label file's (OpenLabels): stems, labelled, excluded, split
	Downscale int            `json:"downscale,omitempty"` // Options.Downscale when > 1 (absent: the images as stored)
}

// ManifestFile is one file of a Manifest.
type ManifestFile struct {
	Name   string `json:"name"` // relative to Dir
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Manifest hashes every file behind the data set (the images and JSONs of
// the split, and split.json). The list hash is the SHA-256 of the lines
// "name sha256 bytes\n" in order, then "downscale f\n" when the images are
// reduced (Options.Downscale > 1), so a set opened at another factor is
// another data set. For a synthetic set it records the
// generator parameters and version, and hashes their canonical JSON.
func (d *Dataset) Manifest() (Manifest, error) {
	if d.synth != nil {
		o := *d.synth
		if o.Scene == SceneV1 {
			o.Scene = "" // the same scenes as an unset Scene: the same manifest
		}
		v := o.Version()
		b, _ := json.Marshal(o)
		s := sha256.Sum256(append([]byte(v+"\n"), b...))
		return Manifest{Dir: "synthetic", Split: d.split, Files: []ManifestFile{}, Generator: &o,
			Version: v, SHA256: hex.EncodeToString(s[:])}, nil
	}
	m := Manifest{Dir: d.dir, Split: d.split, Files: make([]ManifestFile, 0, len(d.files)), Labels: d.Labels(), Downscale: d.down}
	list := sha256.New()
	for _, name := range d.files {
		f, err := os.Open(filepath.Join(d.dir, name))
		if err != nil {
			return Manifest{}, errs.New(errs.IO, "dataset.manifest", "%s: %v", filepath.Join(d.dir, name), unwrapPathErr(err))
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return Manifest{}, errs.New(errs.IO, "dataset.manifest", "%s: %v", filepath.Join(d.dir, name), err)
		}
		mf := ManifestFile{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}
		fmt.Fprintf(list, "%s %s %d\n", mf.Name, mf.SHA256, mf.Bytes)
		m.Files = append(m.Files, mf)
	}
	if d.down > 1 {
		fmt.Fprintf(list, "downscale %d\n", d.down)
	}
	m.SHA256 = hex.EncodeToString(list.Sum(nil))
	return m, nil
}

// lru is a bounded cache of decoded images keyed by item index: at most
// cap images (0: no count bound) and, when maxBytes > 0, at most maxBytes of
// pixels unless that would leave fewer than keep images. Neither bound:
// nothing is cached.
type lru struct {
	mu       sync.Mutex
	cap      int
	maxBytes int64
	keep     int
	bytes    int64
	order    *list.List // front = most recent; values are *entry
	byKey    map[int]*list.Element
}

type entry struct {
	key int
	img *imgbuf.Gray
}

func newLRU(n int, maxBytes int64, keep int) *lru {
	return &lru{cap: n, maxBytes: maxBytes, keep: keep, order: list.New(), byKey: map[int]*list.Element{}}
}

func (c *lru) get(k int) (*imgbuf.Gray, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry).img, true
	}
	return nil, false
}

func (c *lru) put(k int, g *imgbuf.Gray) {
	if c.cap <= 0 && c.maxBytes <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		en := e.Value.(*entry)
		c.bytes += int64(len(g.Pix)) - int64(len(en.img.Pix))
		en.img = g
		c.order.MoveToFront(e)
	} else {
		c.byKey[k] = c.order.PushFront(&entry{k, g})
		c.bytes += int64(len(g.Pix))
	}
	for n := c.order.Len(); n > 1 && ((c.cap > 0 && n > c.cap) || (c.maxBytes > 0 && c.bytes > c.maxBytes && n > c.keep)); n = c.order.Len() {
		last := c.order.Back()
		c.order.Remove(last)
		en := last.Value.(*entry)
		delete(c.byKey, en.key)
		c.bytes -= int64(len(en.img.Pix))
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
