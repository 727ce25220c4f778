package cv

import (
	"bufio"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"os"
	"strconv"
	"sync"

	"gocv.io/x/gocv"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// Decode reads an image file with OpenCV (cv::imread, IMREAD_GRAYSCALE) and
// returns it as 8-bit grey. Colour images are converted with OpenCV's BGR→grey
// weights. A missing, unreadable or undecodable file is an io error naming it.
func Decode(path string) (*imgbuf.Gray, error) {
	const op = "cv.decode"
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.New(errs.IO, op, "cannot read image %s: no such file", quote(path))
	case err != nil:
		return nil, errs.New(errs.IO, op, "cannot read image %s: %v", quote(path), err)
	case fi.IsDir():
		return nil, errs.New(errs.IO, op, "cannot read image %s: is a directory", quote(path))
	}
	// imread reports permission problems the same way as bad data; tell them apart.
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.New(errs.IO, op, "cannot read image %s: %v", quote(path), err)
	}
	f.Close()
	// The size from the header, before OpenCV allocates anything: OpenCV
	// 4.6 throws (and, through gocv, aborts the process) for images over its
	// own limits, and allocates up to 1 GiB below them.
	h, err := imgbuf.CheckFile(path, 0)
	if err != nil {
		if he := (*imgbuf.HeaderError)(nil); errors.As(err, &he) {
			return nil, errs.New(errs.IO, op, "cannot decode image %s (%d bytes): %v", quote(path), fi.Size(), he).
				WithHint("the size is read from the header first: PNG, JPEG, GIF, BMP, WebP, TIFF, PBM/PGM/PPM/PAM/PFM and Sun raster are checked; other formats are refused")
		}
		return nil, errs.Wrap(errs.IO, op, err)
	}
	if err := checkOpenCVLimits(path, h); err != nil {
		return nil, err
	}
	m := gocv.IMRead(path, gocv.IMReadGrayScale)
	defer m.Close()
	if m.Empty() {
		return nil, errs.New(errs.IO, op, "cannot decode image %s (%d bytes): not a format OpenCV reads, or corrupt", quote(path), fi.Size()).
			WithHint("OpenCV reads PNG, JPEG, BMP, TIFF, PGM/PPM and WebP")
	}
	return MatToGray(m)
}

// checkOpenCVLimits refuses what OpenCV's validateInputImageSize would
// refuse with an exception (which gocv does not catch: the process aborts):
// a side over OPENCV_IO_MAX_IMAGE_WIDTH/HEIGHT (default 2^20) or more than
// OPENCV_IO_MAX_IMAGE_PIXELS pixels (default 2^30). OpenCV reads those
// variables once, when it is loaded; so does this, on first use.
func checkOpenCVLimits(path string, h imgbuf.Header) error {
	cvLimitsOnce.Do(func() {
		cvMaxW = cvEnvLimit("OPENCV_IO_MAX_IMAGE_WIDTH", 1<<20)
		cvMaxH = cvEnvLimit("OPENCV_IO_MAX_IMAGE_HEIGHT", 1<<20)
		cvMaxPx = cvEnvLimit("OPENCV_IO_MAX_IMAGE_PIXELS", 1<<30)
	})
	if int64(h.Width) > cvMaxW || int64(h.Height) > cvMaxH || int64(h.Width)*int64(h.Height) > cvMaxPx {
		return errs.New(errs.IO, "cv.decode", "cannot decode image %s: it is %d x %d, over OpenCV's limits (%d x %d, %d pixels)",
			quote(path), h.Width, h.Height, cvMaxW, cvMaxH, cvMaxPx).
			WithHint("OpenCV's limits are set by OPENCV_IO_MAX_IMAGE_WIDTH, _HEIGHT and _PIXELS")
	}
	return nil
}

var (
	cvLimitsOnce            sync.Once
	cvMaxW, cvMaxH, cvMaxPx int64
)

func cvEnvLimit(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// GaussianBlur blurs img with a Gaussian of standard deviation sigma pixels
// (kernel size chosen by OpenCV from sigma, reflected borders). sigma must be
// in (0, 100].
func GaussianBlur(img *imgbuf.Gray, sigma float64) (*imgbuf.Gray, error) {
	const op = "cv.gaussian_blur"
	if !(sigma > 0 && sigma <= 100) {
		return nil, errs.New(errs.BadArg, op, "sigma must be in (0, 100], got %g", sigma)
	}
	src, err := GrayToMat(img)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.GaussianBlur(src, &dst, image.Point{}, sigma, sigma, gocv.BorderReflect101)
	return MatToGray(dst)
}

// Sobel returns the x and y derivatives of img from OpenCV's 3×3 Sobel operator
// (float32, unscaled, reflected borders): gx is positive where brightness
// increases to the right, gy where it increases downwards.
func Sobel(img *imgbuf.Gray) (gx, gy *imgbuf.Float, err error) {
	const op = "cv.sobel"
	src, err := GrayToMat(img)
	if err != nil {
		return nil, nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	dx, dy := gocv.NewMat(), gocv.NewMat()
	defer dx.Close()
	defer dy.Close()
	gocv.Sobel(src, &dx, gocv.MatTypeCV32F, 1, 0, 3, 1, 0, gocv.BorderReflect101)
	gocv.Sobel(src, &dy, gocv.MatTypeCV32F, 0, 1, 3, 1, 0, gocv.BorderReflect101)
	if gx, err = MatToFloat(dx); err != nil {
		return nil, nil, err
	}
	if gy, err = MatToFloat(dy); err != nil {
		return nil, nil, err
	}
	return gx, gy, nil
}

// Canny returns OpenCV's Canny edge map of img (255 on edges, 0 elsewhere) with
// hysteresis thresholds lo <= hi (aperture 3, L1 gradient).
func Canny(img *imgbuf.Gray, lo, hi float64) (*imgbuf.Gray, error) {
	const op = "cv.canny"
	if err := checkCanny(op, lo, hi); err != nil {
		return nil, err
	}
	src, err := GrayToMat(img)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Canny(src, &dst, float32(lo), float32(hi))
	return MatToGray(dst)
}

func checkCanny(op string, lo, hi float64) error {
	if !(lo >= 0 && lo <= 10000) {
		return errs.New(errs.BadArg, op, "Canny low threshold must be in [0, 10000], got %g", lo)
	}
	if !(hi >= lo && hi <= 10000) {
		return errs.New(errs.BadArg, op, "Canny high threshold must be in [low=%g, 10000], got %g", lo, hi)
	}
	return nil
}

// Resize scales img to w×h: area averaging when shrinking both sides, bilinear
// otherwise.
func Resize(img *imgbuf.Gray, w, h int) (*imgbuf.Gray, error) {
	return resize("cv.resize", w, h, func() (gocv.Mat, error) { return GrayToMat(img) }, MatToGray)
}

// ResizeFloat scales a float image (edge logits, gradients) to w×h, bilinear
// (area averaging when shrinking both sides).
func ResizeFloat(img *imgbuf.Float, w, h int) (*imgbuf.Float, error) {
	return resize("cv.resize_float", w, h, func() (gocv.Mat, error) { return FloatToMat(img) }, MatToFloat)
}

// resize is Resize and ResizeFloat: toMat makes the source Mat, fromMat
// converts the result back; both Mats are closed on every path.
func resize[T any](op string, w, h int, toMat func() (gocv.Mat, error), fromMat func(gocv.Mat) (T, error)) (T, error) {
	var zero T
	if err := checkSize(op, w, h); err != nil {
		return zero, err
	}
	src, err := toMat()
	if err != nil {
		return zero, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	w0, h0 := src.Cols(), src.Rows()
	if w == w0 && h == h0 {
		return fromMat(src)
	}
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Resize(src, &dst, image.Pt(w, h), 0, 0, interp(w0, h0, w, h))
	return fromMat(dst)
}

func interp(w0, h0, w, h int) gocv.InterpolationFlags {
	if w < w0 && h < h0 {
		return gocv.InterpolationArea
	}
	return gocv.InterpolationLinear
}

func checkSize(op string, w, h int) error {
	if w < 1 || w > maxSide {
		return sizeErr(op, "width", w)
	}
	if h < 1 || h > maxSide {
		return sizeErr(op, "height", h)
	}
	return nil
}

// Layer is one set of segments drawn by DrawSegments.
type Layer struct {
	Segments  []imgbuf.Segment
	Color     color.RGBA // drawn opaque; the zero value means red
	Thickness int        // line width in pixels; 0 means 1
}

// DrawSegments returns an RGB copy of img with the layers' segments drawn on it,
// in order (later layers on top). Endpoints are rounded to the nearest pixel;
// segments partly or wholly outside the image are clipped. Thickness must be in
// [0, 50].
func DrawSegments(img *imgbuf.Gray, layers ...Layer) (*image.RGBA, error) {
	const op = "cv.draw_segments"
	for i, l := range layers {
		if l.Thickness < 0 || l.Thickness > 50 {
			return nil, errs.New(errs.BadArg, op, "layers[%d].Thickness must be in [0, 50], got %d", i, l.Thickness)
		}
		for j, s := range l.Segments {
			if !num.Finite(s.X1, s.Y1, s.X2, s.Y2) || math.Abs(s.X1)+math.Abs(s.Y1)+math.Abs(s.X2)+math.Abs(s.Y2) > 1e8 {
				return nil, errs.New(errs.BadArg, op, "layers[%d].Segments[%d] must have finite coordinates within ±1e8, got %v", i, j, s)
			}
		}
	}
	src, err := GrayToMat(img)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	defer src.Close()
	bgr := gocv.NewMat()
	defer bgr.Close()
	gocv.CvtColor(src, &bgr, gocv.ColorGrayToBGR)
	for _, l := range layers {
		c := l.Color
		if c == (color.RGBA{}) {
			c = color.RGBA{R: 255}
		}
		// gocv.Line takes RGBA and converts to OpenCV's BGR order itself.
		c.A = 255
		th := l.Thickness
		if th == 0 {
			th = 1
		}
		for _, s := range l.Segments {
			gocv.Line(&bgr, image.Pt(round(s.X1), round(s.Y1)), image.Pt(round(s.X2), round(s.Y2)), c, th)
		}
	}
	out, err := bgr.ToImage()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, op, err)
	}
	rgba, ok := out.(*image.RGBA)
	if !ok {
		return nil, errs.New(errs.Internal, op, "unexpected image type %T", out)
	}
	return rgba, nil
}

func round(v float64) int { return int(math.Round(v)) }

// WritePNG writes img to path as PNG (pure Go encoder), replacing the file.
func WritePNG(path string, img image.Image) error {
	const op = "cv.write_png"
	f, err := os.Create(path)
	if err != nil {
		return errs.New(errs.IO, op, "cannot create %s: %v", quote(path), err)
	}
	w := bufio.NewWriter(f)
	if err := png.Encode(w, img); err != nil {
		f.Close()
		return errs.New(errs.IO, op, "cannot encode PNG %s: %v", quote(path), err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return errs.New(errs.IO, op, "cannot write %s: %v", quote(path), err)
	}
	if err := f.Close(); err != nil {
		return errs.New(errs.IO, op, "cannot write %s: %v", quote(path), err)
	}
	return nil
}

// GrayFromImage converts any image.Image to 8-bit grey with OpenCV's
// BGR→grey weights (0.299 R + 0.587 G + 0.114 B, rounded), the conversion
// Decode applies to colour files. Alpha is ignored (colours are taken as
// image.Color.RGBA returns them, i.e. premultiplied). Sub-images are handled:
// the result's (0, 0) is img.Bounds().Min.
func GrayFromImage(img image.Image) (*imgbuf.Gray, error) {
	const op = "cv.gray_from_image"
	if img == nil {
		return nil, errs.New(errs.BadArg, op, "nil image")
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if err := checkSize(op, w, h); err != nil {
		return nil, err
	}
	if g, ok := img.(*image.Gray); ok {
		out := imgbuf.NewGray(w, h)
		for y := 0; y < h; y++ {
			copy(out.Pix[y*w:(y+1)*w], g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return out, nil
	}
	bgr := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer bgr.Close()
	data, err := bgr.DataPtrUint8()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, op, err)
	}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			data[i], data[i+1], data[i+2] = uint8(bl>>8), uint8(g>>8), uint8(r>>8)
			i += 3
		}
	}
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(bgr, &grey, gocv.ColorBGRToGray)
	return MatToGray(grey)
}
