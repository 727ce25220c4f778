// Package dataset provides the images and ground-truth line segments that
// bohost tunes on: York Urban-style directories opened from disk, and a
// built-in synthetic set that is the default (York Urban cannot be shipped).
//
// # Directories
//
// Open(dir, Options{Split, CacheImages, MaxPixels}) reads York Urban's layout: images
// (*.jpg, *.jpeg, *.png) each with <stem>.json beside it,
//
//	{"width":640,"height":480,"lines":[[x1,y1,x2,y2],...],"boxes":[[x0,y0,x1,y1],...]}
//
// ("boxes" optional; unknown fields ignored) in 0-based pixel coordinates
// (pixel centre (0,0) at the top left), and an optional split.json
// {"train":[stems...],"test":[stems...]}. Rules:
//
//   - every image must have its JSON: an image without one is an error naming
//     both paths; JSON files without an image (split.json, notes) are ignored;
//   - items are ordered by file name; Item.Index is the position in the
//     opened set and Item.ID the file stem;
//   - annotations are parsed and image headers checked at Open (width/height
//     must match the image, and width × height must be within the pixel
//     limit); pixels are decoded lazily by Image;
//   - the pixel limit is MaxPixels, else BOHOST_MAX_PIXELS, else
//     imgbuf.DefaultMaxPixels (2^26 = 67,108,864); it is checked from the
//     header (imgbuf.CheckFile) at Open and again before every decode, so a
//     file whose header promises more pixels than it holds costs nothing. An
//     image over it, like any unreadable image, fails Open with an io error
//     naming the file (the data set is not opened without it);
//   - Split "" or "all" takes every image, any other name must be a key of
//     split.json (an unknown name is a bad_arg error listing the valid ones).
//   - Downscale f > 1 reduces every image by f (Downscale) as Image decodes
//     it, and maps the items' Width, Height, Lines and Boxes to the reduced
//     image (DownscaleSegments); the cache holds only reduced images, and
//     the Manifest records f (OpenLabels takes it too).
//
// Errors are *errs.Error naming the file, the field and, for malformed JSON,
// the line and column (kind io for file problems, bad_arg for options).
//
// # Images and memory
//
// Image(i) decodes with pure Go (image/jpeg, image/png; imgbuf.DecodeFile,
// which checks the header first and decodes PNG, JPEG and GIF) to 8-bit gray using
// OpenCV's COLOR_BGR2GRAY fixed-point weights, Y = (4899R + 9617G + 1868B +
// 8192) >> 14. Decoded images live in an LRU cache of CacheImages entries
// (default: up to DefaultCacheBytes of pixels, at least 8 images; negative
// disables it), so memory does not grow with Len; the
// caller owns the returned copy. Methods are safe for concurrent use.
//
// # Synthetic scenes
//
// Synthetic(SynthOptions{N, Width, Height, Seed, Split}) generates N scenes
// (default 24 at 640x480; Split "train" is scenes 0..ceil(N/2)-1, "test" the
// rest; IDs are "synth-0007" and Path is ""). Scene i is a pure function of
// (Seed, i, Width, Height, Scene and its generator version, SynthOptions.Version):
//
//   - kinds: building facades with window grids (frames, cornices, doors) in
//     perspective, corner buildings with two vanishing points; corridors
//     (one-point perspective: floor, ceiling, walls, back wall, doors,
//     skirting, runner, ceiling lights); boxes on a ground plane seen by a
//     pitched pinhole camera with shaded faces; plus tilted signs (clutter);
//   - soft-edged textured regions (foliage/gravel) that hide what lies under
//     them and whose speckle is not ground truth;
//   - per-image environment: lighting gradient and vignette, gain
//     (0.55–1.45) and contrast (0.35–1.15) about mid-grey, Gaussian blur
//     (none in 30% of images, else sigma 0.4–2.2 px at 640x480) and sensor
//     noise (sigma 0–14 grey levels).
//
// Scene "weld" (SynthOptions.Scene; "" and "v1" are the scenes above)
// selects welded steel assemblies instead (weld.go, WeldGeneratorVersion,
// docs/data-weld.md): a base plate, an upright web plate between the left
// and right longitudinals (near-vertical, 88-93 degrees), a collar and the
// fillet weld bead along the longitudinals' lower points, seen through a
// mildly oblique homography. Their ground truth is the same rule on the
// clean albedo (12 grey levels), mapped into the image; brushed/ground
// grain (parallel scratches), fine grain, spatter, bead ripples, glare and
// bloom, uneven and low light, haze, defocus and motion blur and sensor
// noise are nuisances, never ground truth. In every block of 8 scenes one
// is heavily textured and one faint, the rest moderate.
//
// Polygons are drawn anti-aliased (exact horizontal coverage on 4
// sub-scanlines). The ground truth is exact: it is the set of drawn polygon
// edges, sampled every 0.5 px, keeping the parts where the noise-free,
// texture-free render differs by at least 10 grey levels 1.5 px to either
// side (so occluded parts, invisible edges and edges under texture drop
// out), in runs of at least 8 px (scaled by diagonal/800, minimum 5), with
// collinear overlapping pieces merged. The ground truth of all scenes is
// computed at construction (a noise-free render each, then discarded);
// images are rendered lazily and cached like decoded files.
//
// WriteDir(dir) writes any data set in York Urban's layout (gray PNGs, JSON,
// split.json) so it can be inspected and reopened with Open.
//
// # Label files (the welding study)
//
// OpenLabels(file, LabelOptions{Options, Images, HoldoutFile,
// HoldoutFraction, HoldoutSeed}) reads the welding study's label file,
// {STEM: {"image": PATH, "coordinates": {12 integer keys}}}, and Open
// recognises one too (IsLabelFile: a regular *.json file). Each stem's
// WeldPoints become up to four segments (longi_left, longi_right,
// collar_left, fillet; a segment exists when both end points' x are
// non-zero); stems without one are excluded and counted in LabelSummary
// (Dataset.Labels, Manifest.Labels). Splits "train" and "test" (held out)
// come from a file of names or a seeded fraction (default 0.3). ReadLabels
// parses the file (errors name the file, line, column and stem) and
// WriteLabels writes it. docs/airline.md has the rules.
//
// # Manifest
//
// Manifest() lists every file behind the set (images and JSONs of the split,
// and split.json) with SHA-256 and size, and hashes the list, as
// docs/rundir.md's manifest.json; a synthetic set records its generator
// parameters and version instead.
//
// Entry points:
//
//	func Open(dir string, opts Options) (*Dataset, error)
//	func Synthetic(opts SynthOptions) (*Dataset, error)
//	func OpenLabels(file string, opts LabelOptions) (*Dataset, error)
//	func ReadLabels(file string) ([]LabelEntry, error)
//	func WriteLabels(file string, entries []LabelEntry) error
//	func (d *Dataset) Len() int
//	func (d *Dataset) Item(i int) Item
//	func (d *Dataset) Image(i int) (*imgbuf.Gray, error)
//	func (d *Dataset) Manifest() (Manifest, error)
//	func (d *Dataset) WriteDir(dir string) error
//	func Decode(path string) (*imgbuf.Gray, error)
package dataset
