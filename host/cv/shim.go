package cv

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "cvshim.h"
*/
import "C"

import (
	"runtime"
	"strings"
	"unsafe"

	"gocv.io/x/gocv"

	"bohost/host/errs"
)

// errCap is the size of the buffer the shim copies C++ exception texts into.
const errCap = 1024

// shimErr turns a negative shim return code and its message into an error.
func shimErr(op string, code C.int, buf []byte, kind string) error {
	// OpenCV's texts span lines ("... in function 'x'\n> Node ..."): keep one line.
	msg := strings.Join(strings.Fields(C.GoString((*C.char)(unsafe.Pointer(&buf[0])))), " ")
	if code == C.BH_ERR_NOMEM {
		return errs.New(errs.OOM, op, "%s", msg)
	}
	return errs.New(kind, op, "OpenCV: %s", msg)
}

// SetNumThreads sets the number of threads OpenCV uses for its parallel loops
// (cv::setNumThreads): 1 runs single-threaded, 0 disables OpenCV's threading
// as well, and a negative value restores the default (all cores).
func SetNumThreads(n int) { C.bh_set_num_threads(C.int(n)) }

// NumThreads returns OpenCV's current thread count (cv::getNumThreads).
func NumThreads() int { return int(C.bh_get_num_threads()) }

// segmentsFrom runs one of the shim's segment detectors on an 8-bit grey Mat,
// growing the buffer once when the first call reports more segments than fit.
func segmentsFrom(op string, m gocv.Mat, detect func(mat unsafe.Pointer, out *C.float, cap C.int, err *C.char) C.int) ([]segment4, error) {
	buf := make([]segment4, 256)
	errBuf := make([]byte, errCap)
	for {
		n := detect(unsafe.Pointer(m.Ptr()), (*C.float)(unsafe.Pointer(&buf[0])), C.int(len(buf)),
			(*C.char)(unsafe.Pointer(&errBuf[0])))
		runtime.KeepAlive(m)
		if n < 0 {
			return nil, shimErr(op, n, errBuf, errs.Failed)
		}
		if int(n) <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]segment4, int(n))
	}
}

// segment4 matches the shim's 4-float segment layout.
type segment4 [4]float32

func lsdRaw(m gocv.Mat) ([]segment4, error) {
	return segmentsFrom("cv.lsd", m, func(mat unsafe.Pointer, out *C.float, cap C.int, err *C.char) C.int {
		return C.bh_lsd(mat, out, cap, err, errCap)
	})
}

func fldRaw(m gocv.Mat) ([]segment4, error) {
	return segmentsFrom("cv.fld", m, func(mat unsafe.Pointer, out *C.float, cap C.int, err *C.char) C.int {
		return C.bh_fld(mat, out, cap, err, errCap)
	})
}

// net is an owned cv::dnn::Net from the shim.
type net struct{ p unsafe.Pointer }

// loadNet reads an ONNX model under the shim's exception guard.
func loadNet(op, path string) (*net, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	errBuf := make([]byte, errCap)
	var code C.int
	p := C.bh_net_load_onnx(cpath, &code, (*C.char)(unsafe.Pointer(&errBuf[0])), errCap)
	if p == nil {
		e := shimErr(op, code, errBuf, errs.BadArg).(*errs.Error)
		if e.Kind == errs.BadArg {
			e.Msg = "cannot load ONNX model " + quote(path) + ": " + e.Msg
			e.Hint = "the file must be a valid ONNX model that OpenCV 4.6's importer accepts (Conv needs kernel_shape)"
		}
		return nil, e
	}
	liveNets.Add(1)
	return &net{p: p}, nil
}

func (n *net) close() {
	if n != nil && n.p != nil {
		C.bh_net_free(n.p)
		n.p = nil
		liveNets.Add(-1)
	}
}

// forward runs the net on an NCHW float32 blob and returns the named output
// (the default output when name is empty) as its shape and data.
func (n *net) forward(op string, blob []float32, shape [4]int, name string) ([]int, []float32, error) {
	if n == nil || n.p == nil {
		return nil, nil, errs.New(errs.BadState, op, "model is closed")
	}
	out := gocv.NewMat()
	defer out.Close()
	var cname *C.char
	if name != "" {
		cname = C.CString(name)
		defer C.free(unsafe.Pointer(cname))
	}
	errBuf := make([]byte, errCap)
	rc := C.bh_net_forward(n.p, (*C.float)(unsafe.Pointer(&blob[0])),
		C.int(shape[0]), C.int(shape[1]), C.int(shape[2]), C.int(shape[3]),
		cname, unsafe.Pointer(out.Ptr()), (*C.char)(unsafe.Pointer(&errBuf[0])), errCap)
	runtime.KeepAlive(blob)
	if rc != 0 {
		return nil, nil, shimErr(op, rc, errBuf, errs.Failed)
	}
	dims := out.Size()
	data, err := out.DataPtrFloat32()
	if err != nil {
		return nil, nil, errs.Wrap(errs.Internal, op, err)
	}
	return dims, append([]float32(nil), data...), nil
}
