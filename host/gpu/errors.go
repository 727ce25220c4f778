package gpu

import (
	"errors"

	"bohost/host/errs"
)

// Sentinel causes, wrapped in an *errs.Error of kind errs.Unavailable; test
// them with errors.Is.
var (
	// ErrNoCUDA: this binary was built without -tags cuda.
	ErrNoCUDA = errors.New("gpu: this build has no CUDA support")
	// ErrNoDriver: the CUDA driver library (libcuda.so.1, or $BOHOST_LIBCUDA)
	// could not be loaded, lacks a needed symbol, or cuInit failed.
	ErrNoDriver = errors.New("gpu: CUDA driver not available")
	// ErrNoDevice: the driver loaded but reports no device with that ordinal.
	ErrNoDevice = errors.New("gpu: no CUDA device")
)

// Hints attached to the unavailable errors.
const (
	hintRebuild = "rebuild with -tags cuda on a machine with an NVIDIA driver"
	hintDriver  = "install the NVIDIA driver (libcuda.so.1) or set BOHOST_LIBCUDA to its path; use device \"cpu\" meanwhile"
	hintDevice  = "check nvidia-smi and CUDA_VISIBLE_DEVICES; use device \"cpu\" meanwhile"
	hintOOM     = "raise the cap (SetMemoryCap / SetMemoryFraction), free buffers or EmptyCache, or use smaller images"
)

// unavailable wraps a sentinel cause into the user-facing error.
func unavailable(op string, cause error, msg string) *errs.Error {
	e := &errs.Error{Kind: errs.Unavailable, Op: op, Msg: msg, Err: cause}
	switch {
	case errors.Is(cause, ErrNoCUDA):
		e.Hint = hintRebuild
	case errors.Is(cause, ErrNoDevice):
		e.Hint = hintDevice
	default:
		e.Hint = hintDriver
	}
	return e
}

// errDeviceOOM is returned (wrapped) by an allocator whose device is out of
// memory; the pool then empties its cache, retries once, and reports kind oom.
var errDeviceOOM = errors.New("device out of memory")

// wrap is errs.Wrap that keeps a nil error an untyped nil.
func wrap(kind, op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(kind, op, err)
}
