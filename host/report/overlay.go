package report

import (
	"image"
	"image/color"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// LoadImage decodes a PNG or JPEG file and returns it lightened to grey, so
// that coloured line overlays stand out on it. The header's size is checked
// first against the process's pixel limit (BOHOST_MAX_PIXELS, else
// imgbuf.DefaultMaxPixels): a larger image is an io error naming the file.
func LoadImage(path string) (image.Image, error) {
	const op = "report.image"
	img, _, err := imgbuf.DecodeFile(path, 0)
	if err != nil {
		return nil, errs.Wrap(errs.IO, op, err)
	}
	return faded(img), nil
}

// faded converts img to grey and maps it to [96, 255] so dark pixels do not
// swallow thin coloured lines.
func faded(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			out.Pix[(y-b.Min.Y)*out.Stride+(x-b.Min.X)] = uint8(96 + int(g)*159/255)
		}
	}
	return out
}

// overlayColors are the colours of line sets: detected lines in
// vermillion, ground truth in blue, other sets in turn after them.
var overlayColors = []color.Color{palette[1], palette[0], palette[2], palette[3], palette[4]}

// overlayColor picks a set's colour by its name: "detected…" vermillion,
// "ground truth…" or "gt…" blue, anything else the next free colour.
func overlayColor(name string, other *int) color.Color {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "detected"):
		return overlayColors[0]
	case strings.HasPrefix(n, "ground truth"), strings.HasPrefix(n, "gt"):
		return overlayColors[1]
	}
	c := overlayColors[2+*other%(len(overlayColors)-2)]
	*other++
	return c
}

// Overlay draws the image at imgPath (PNG or JPEG, shown in light grey) with
// each named set of segments (pixel coordinates, origin top-left) in its own
// colour and a legend, and writes it to out (format from the extension).
// Sets are drawn in name order; names starting "detected" are vermillion,
// "ground truth" or "gt" blue.
func Overlay(imgPath string, sets map[string][]imgbuf.Segment, out string) error {
	return OverlayTitled(imgPath, "", sets, out)
}

// OverlayTitled is Overlay with a title above the image.
func OverlayTitled(imgPath, title string, sets map[string][]imgbuf.Segment, out string) error {
	img, err := LoadImage(imgPath)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	f := NewImageFigure(title, img)
	other := 0
	for _, n := range names {
		f.SetColor(n, overlayColor(n, &other))
		f.Segments(n, sets[n])
	}
	w, h := overlaySize(img)
	return f.Save(out, w, h)
}

// overlaySize is a 6 in wide page area with the image's aspect ratio plus
// room for the title and the legend.
func overlaySize(img image.Image) (w, h vg.Length) {
	b := img.Bounds()
	w = DefaultWidth
	ar := 0.75
	if b.Dx() > 0 && b.Dy() > 0 {
		ar = float64(b.Dy()) / float64(b.Dx())
	}
	if ar > 1.5 {
		ar = 1.5
	}
	h = vg.Length(float64(w-vg.Points(12))*ar) + vg.Points(50)
	return w, h
}
