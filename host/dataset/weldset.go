package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// A generated weld set in the welding study's label format: the weld scenes
// (weld.go) written as image files plus ground_truth.json, the file
// OpenLabels reads. Each scene's label is the study's 12 coordinates of its
// drawn geometry (WeldLabel); some labels are partial or empty, as in the
// study's collection.

// Defaults of WeldSetOptions: the study's image size, and the acceptance's
// 40 images.
const (
	DefaultWeldSetN      = 40
	DefaultWeldSetWidth  = 3264
	DefaultWeldSetHeight = 2448
	DefaultJPEGQuality   = 92
	// WeldLabelFile is the label file WriteWeldSet writes in its directory.
	WeldLabelFile = "ground_truth.json"
	// WeldSetFile describes a generated set (options, counts, version) beside it.
	WeldSetFile = "weld_set.json"
)

// Label kinds of a generated weld set (WeldSetLabel.Kind): how many of the
// six points were labelled.
const (
	LabelComplete = "complete" // all six points
	LabelPartial  = "partial"  // one to five points (a segment or more may be missing)
	LabelEmpty    = "empty"    // none: OpenLabels excludes the image and counts it
)

// WeldSetOptions configures WriteWeldSet. Zero fields take the defaults.
type WeldSetOptions struct {
	N      int    `json:"n"`      // number of images, default 40, in [1, 100000]
	Width  int    `json:"width"`  // default 3264, in [32, 4096]
	Height int    `json:"height"` // default 2448, in [32, 4096]
	Seed   uint64 `json:"seed"`   // scene i and its label are a pure function of (Seed, i, Width, Height)
	Format string `json:"format"` // "jpeg" (default; the study's photographs are JPEG) or "png" (lossless)
	// Quality is the JPEG quality in [1, 100] (default 92); unused for PNG.
	Quality int `json:"quality,omitempty"`
	// Progress, when set, is called after each image is written (done of n).
	Progress func(done, n int) `json:"-"`
}

func (o WeldSetOptions) withDefaults() WeldSetOptions {
	if o.N == 0 {
		o.N = DefaultWeldSetN
	}
	if o.Width == 0 {
		o.Width = DefaultWeldSetWidth
	}
	if o.Height == 0 {
		o.Height = DefaultWeldSetHeight
	}
	if o.Format == "" || o.Format == "jpg" {
		o.Format = "jpeg"
	}
	if o.Quality == 0 && o.Format == "jpeg" {
		o.Quality = DefaultJPEGQuality
	}
	return o
}

// Validate reports a bad option, naming it, its range and the value.
func (o WeldSetOptions) Validate() error {
	const op = "dataset.write_weld_set"
	q := o.Quality
	o = o.withDefaults()
	switch {
	case o.N < 1 || o.N > 100000:
		return errs.New(errs.BadArg, op, "n must be in [1, 100000], got %d", o.N)
	case o.Width < 32 || o.Width > 4096:
		return errs.New(errs.BadArg, op, "width must be in [32, 4096], got %d", o.Width)
	case o.Height < 32 || o.Height > 4096:
		return errs.New(errs.BadArg, op, "height must be in [32, 4096], got %d", o.Height)
	case o.Format != "jpeg" && o.Format != "png":
		return errs.New(errs.BadArg, op, `format must be "jpeg" (or "jpg") or "png", got %q`, o.Format)
	case q != 0 && (o.Format != "jpeg" || q < 1 || q > 100):
		if o.Format != "jpeg" {
			return errs.New(errs.BadArg, op, "quality is for JPEG images; format is %q", o.Format)
		}
		return errs.New(errs.BadArg, op, "quality must be in [1, 100], got %d", q)
	}
	return nil
}

func (o WeldSetOptions) synth() SynthOptions {
	return SynthOptions{N: o.N, Width: o.Width, Height: o.Height, Seed: o.Seed, Scene: SceneWeld, CacheImages: -1}
}

// WeldSetLabel is one image of a generated weld set.
type WeldSetLabel struct {
	Stem   string     `json:"stem"`  // "weld-0007": the scene index
	Image  string     `json:"image"` // as written in the label file: images\weld-0007.jpg
	Kind   string     `json:"kind"`  // LabelComplete, LabelPartial or LabelEmpty
	Scene  string     `json:"scene"` // the scene's difficulty: moderate, textured or faint
	Points WeldPoints `json:"-"`     // the label's 12 coordinates (0: not labelled), as in the label file
}

// WeldSetSummary describes a written weld set; it is also written, as JSON,
// to WeldSetFile beside the label file.
type WeldSetSummary struct {
	Format    int            `json:"format"` // 1
	Generator string         `json:"generator_version"`
	Options   WeldSetOptions `json:"options"` // with defaults filled in
	LabelFile string         `json:"label_file"`
	Complete  int            `json:"complete"`
	Partial   int            `json:"partial"`
	Empty     int            `json:"empty"` // OpenLabels excludes these (LabelSummary.Excluded)
	Labels    []WeldSetLabel `json:"labels"`
}

// weldStem names scene i in a generated weld set.
func weldStem(i int) string { return fmt.Sprintf("weld-%04d", i) }

// weldLabelMask says which of the six points (WeldPoints field order) a
// person labelled in scene i. Like the difficulty (weldKind), labels come
// in blocks of weldBlock indices from their own stream of (seed, block):
// one scene per block is not labelled at all, one has only the
// longitudinals (no collar: the study's four-point labels) and one only the
// left longitudinal, sometimes with the collar's lower point (the study's
// two or three points); the others are complete. Points outside the image
// are never labelled either (WeldLabel), which makes some more partial.
func weldLabelMask(seed uint64, i int) [6]bool {
	b := i / weldBlock
	r := rand.New(rand.NewPCG(seed^0x2545f4914f6cdd1d, uint64(b)*0x9e3779b97f4a7c15+29))
	p := r.Perm(weldBlock)
	all := [6]bool{true, true, true, true, true, true}
	switch i % weldBlock {
	case p[0]:
		return [6]bool{}
	case p[1]:
		return [6]bool{true, true, true, true, false, false}
	case p[2]:
		// The third draw of the block's stream picks two or three points.
		return [6]bool{true, true, false, false, r.IntN(2) == 0, false}
	}
	return all
}

// weldGeometry returns scene i's six label points in pixel coordinates of
// the image (not rounded), in WeldPoints field order: the longitudinals'
// lower points are the fillet line's ends (the web plate's bottom corners),
// their upper points the web's top corners; the collar's lower and upper
// points are its left edge's ends. It reads them from the plates weldSpec
// draws (the web is plates[1]: TL, TR, PR, PL; the collar plates[2]: its
// upper left, upper right, lower right, lower left corners) and maps them
// through the scene's view.
func (g *generator) weldGeometry(i int) ([6]vec, *weldSpec) {
	s := g.weldSpec(i)
	web, col := s.plates[1].pts, s.plates[2].pts
	Hm := s.fromImage()
	img := func(p vec) vec { return s.imageOf(Hm, p) }
	return [6]vec{img(web[3]), img(web[0]), img(web[2]), img(web[1]), img(col[3]), img(col[0])}, s
}

// weldLabel is scene i's label: the geometry's points rounded to whole
// pixels, kept where the mask labels them and the point is inside the image
// with x >= 1 (x = 0 would read as "not labelled").
func (g *generator) weldLabel(i int) (WeldPoints, [6]vec) {
	pts, _ := g.weldGeometry(i)
	mask := weldLabelMask(g.opts.Seed, i)
	var wp WeldPoints
	for k, p := range pts {
		x, y := int(math.Round(p.X)), int(math.Round(p.Y))
		if !mask[k] || x < 1 || x > g.opts.Width-1 || y < 0 || y > g.opts.Height-1 {
			continue
		}
		*wp.at(k) = WeldPoint{X: x, Y: y}
	}
	return wp, pts
}

// WeldLabel returns the label a generated weld set gives scene i of the weld
// scenes o selects (o.Scene is taken to be "weld"; o.N is not used): the
// study's six points of the scene's geometry (the three verticals and, from
// the longitudinals' lower points, the fillet line), rounded to whole pixels,
// 0 where not labelled; and its kind. A pure function of (o.Seed, i,
// o.Width, o.Height).
func WeldLabel(o SynthOptions, i int) (WeldPoints, string) {
	o.Scene = SceneWeld
	o = o.withDefaults()
	g := &generator{opts: o}
	wp, _ := g.weldLabel(i)
	return wp, labelKind(wp)
}

func labelKind(wp WeldPoints) string {
	n := 0
	for k := range weldKeys {
		if wp.at(k).X != 0 {
			n++
		}
	}
	switch n {
	case 0:
		return LabelEmpty
	case 6:
		return LabelComplete
	}
	return LabelPartial
}

// WriteWeldSet renders o.N weld scenes (Synthetic with Scene "weld", the same
// pixels) into dir/images/weld-NNNN.jpg (or .png, 8-bit gray) and writes
// dir/ground_truth.json in the welding study's label format, image paths
// relative with Windows separators as in the study (images\weld-0000.jpg),
// each stem's 12 coordinates from WeldLabel; then dir/weld_set.json (the
// summary). OpenLabels(dir/ground_truth.json) reads the set: the images
// with an empty label are excluded and counted in its manifest.
//
// The label file is written last (atomically), so an interrupted export
// (ctx canceled) leaves no label file that names missing images. dir is
// created if needed; a ground_truth.json already there that WriteWeldSet did
// not write (no weld_set.json beside it) is never replaced.
func WriteWeldSet(ctx context.Context, dir string, o WeldSetOptions) (*WeldSetSummary, error) {
	const op = "dataset.write_weld_set"
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if dir == "" {
		return nil, errs.New(errs.BadArg, op, "no output directory given")
	}
	labelPath := filepath.Join(dir, WeldLabelFile)
	if _, err := os.Stat(labelPath); err == nil {
		if _, err := os.Stat(filepath.Join(dir, WeldSetFile)); err != nil {
			return nil, errs.New(errs.IO, op, "%s exists and was not written by a weld-set export (no %s beside it): not replacing it", labelPath, WeldSetFile).
				WithHint("choose another output directory")
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	ext := ".jpg"
	if o.Format == "png" {
		ext = ".png"
	}
	g := &generator{opts: o.synth().withDefaults()}
	sum := &WeldSetSummary{Format: 1, Generator: WeldGeneratorVersion, Options: o, LabelFile: WeldLabelFile}
	sum.Options.Progress = nil
	entries := make([]LabelEntry, 0, o.N)
	for i := 0; i < o.N; i++ {
		if err := ctx.Err(); err != nil {
			return nil, errs.Wrap(errs.Canceled, op, err)
		}
		stem := weldStem(i)
		wp, _ := g.weldLabel(i)
		lab := WeldSetLabel{Stem: stem, Image: `images\` + stem + ext, Kind: labelKind(wp), Scene: weldKind(o.Seed, i), Points: wp}
		img := g.weldRender(i).img
		path := filepath.Join(dir, "images", stem+ext)
		if err := writeGray(path, img, o.Format, o.Quality); err != nil {
			return nil, errs.New(errs.IO, op, "%s: %v", path, err)
		}
		switch lab.Kind {
		case LabelComplete:
			sum.Complete++
		case LabelPartial:
			sum.Partial++
		default:
			sum.Empty++
		}
		sum.Labels = append(sum.Labels, lab)
		entries = append(entries, LabelEntry{Stem: stem, Image: lab.Image, Points: wp})
		if o.Progress != nil {
			o.Progress(i+1, o.N)
		}
	}
	// weld_set.json first: its presence marks the label file as ours.
	b, _ := json.MarshalIndent(sum, "", " ")
	if err := writeFileAtomic(filepath.Join(dir, WeldSetFile), append(b, '\n')); err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	if err := WriteLabels(labelPath, entries); err != nil {
		return nil, err
	}
	return sum, nil
}

// writeGray writes g as an 8-bit gray JPEG (quality q) or PNG, through a
// temporary name.
func writeGray(path string, g *imgbuf.Gray, format string, q int) error {
	if format == "png" {
		tmp := path + ".tmp"
		if err := writePNG(tmp, g); err != nil {
			os.Remove(tmp)
			return err
		}
		return os.Rename(tmp, path)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	m := &image.Gray{Pix: g.Pix, Stride: g.W, Rect: image.Rect(0, 0, g.W, g.H)}
	if err := jpeg.Encode(f, m, &jpeg.Options{Quality: q}); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
