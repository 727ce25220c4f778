package cv

import (
	"strconv"
	"sync/atomic"

	"gocv.io/x/gocv"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// liveNets counts open DNN models (EdgeModel, YOLO), for leak checks.
var liveNets atomic.Int64

// LiveModels returns the number of DNN models loaded and not yet closed.
func LiveModels() int { return int(liveNets.Load()) }

func quote(s string) string { return strconv.Quote(s) }

// checkGray validates img for an operation, as a bad_arg error.
func checkGray(op string, img *imgbuf.Gray) error {
	if err := img.Validate(); err != nil {
		return errs.New(errs.BadArg, op, "%v", err)
	}
	return nil
}

func checkFloat(op string, img *imgbuf.Float) error {
	if img == nil {
		return errs.New(errs.BadArg, op, "nil float image")
	}
	if img.W <= 0 || img.H <= 0 || len(img.Pix) != img.W*img.H {
		return errs.New(errs.BadArg, op, "bad float image %dx%d with %d pixels", img.W, img.H, len(img.Pix))
	}
	return nil
}

// GrayToMat copies img into a new CV_8UC1 Mat, which the caller must Close.
// The Mat owns its pixels: img may be changed or collected afterwards.
func GrayToMat(img *imgbuf.Gray) (gocv.Mat, error) {
	if err := checkGray("cv.gray_to_mat", img); err != nil {
		return gocv.Mat{}, err
	}
	m := gocv.NewMatWithSize(img.H, img.W, gocv.MatTypeCV8UC1)
	dst, err := m.DataPtrUint8()
	if err != nil {
		m.Close()
		return gocv.Mat{}, errs.Wrap(errs.Internal, "cv.gray_to_mat", err)
	}
	copy(dst, img.Pix)
	return m, nil
}

// FloatToMat copies img into a new CV_32FC1 Mat, which the caller must Close.
func FloatToMat(img *imgbuf.Float) (gocv.Mat, error) {
	if err := checkFloat("cv.float_to_mat", img); err != nil {
		return gocv.Mat{}, err
	}
	m := gocv.NewMatWithSize(img.H, img.W, gocv.MatTypeCV32FC1)
	dst, err := m.DataPtrFloat32()
	if err != nil {
		m.Close()
		return gocv.Mat{}, errs.Wrap(errs.Internal, "cv.float_to_mat", err)
	}
	copy(dst, img.Pix)
	return m, nil
}

// MatToGray copies a CV_8UC1 Mat into a new Gray. m is not closed.
func MatToGray(m gocv.Mat) (*imgbuf.Gray, error) {
	const op = "cv.mat_to_gray"
	if m.Empty() {
		return nil, errs.New(errs.BadArg, op, "empty Mat")
	}
	if m.Type() != gocv.MatTypeCV8UC1 {
		return nil, errs.New(errs.BadArg, op, "Mat type must be CV_8UC1, got %v", m.Type())
	}
	if !m.IsContinuous() {
		c := m.Clone()
		defer c.Close()
		return MatToGray(c)
	}
	src, err := m.DataPtrUint8()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, op, err)
	}
	g := imgbuf.NewGray(m.Cols(), m.Rows())
	if len(src) != len(g.Pix) {
		return nil, errs.New(errs.Internal, op, "Mat holds %d bytes for %dx%d", len(src), g.W, g.H)
	}
	copy(g.Pix, src)
	return g, nil
}

// MatToFloat copies a CV_32FC1 Mat into a new Float. m is not closed.
func MatToFloat(m gocv.Mat) (*imgbuf.Float, error) {
	const op = "cv.mat_to_float"
	if m.Empty() {
		return nil, errs.New(errs.BadArg, op, "empty Mat")
	}
	if m.Type() != gocv.MatTypeCV32FC1 {
		return nil, errs.New(errs.BadArg, op, "Mat type must be CV_32FC1, got %v", m.Type())
	}
	if !m.IsContinuous() {
		c := m.Clone()
		defer c.Close()
		return MatToFloat(c)
	}
	src, err := m.DataPtrFloat32()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, op, err)
	}
	f := imgbuf.NewFloat(m.Cols(), m.Rows())
	if len(src) != len(f.Pix) {
		return nil, errs.New(errs.Internal, op, "Mat holds %d floats for %dx%d", len(src), f.W, f.H)
	}
	copy(f.Pix, src)
	return f, nil
}

// sizeErr names an out-of-range output size.
func sizeErr(op, field string, v int) error {
	return errs.New(errs.BadArg, op, "%s must be in [1, %d], got %d", field, maxSide, v)
}

// maxSide bounds image sides accepted by Resize (OpenCV's int arithmetic and memory).
const maxSide = 1 << 15
