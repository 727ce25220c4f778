package gpu

import (
	"errors"

	"bohost/host/errs"
)

// Sentinel causes, wrapped in an *errs.Error of kind errs.Unavailable; test
// them with errors.Is. The binding is in every build: "no CUDA here" is
// always one of these, decided at run time.
var (
	// ErrNoDriver: the CUDA driver library (libcuda.so.1, or $BOHOST_LIBCUDA)
	// could not be loaded, lacks a needed symbol, or cuInit failed.
	ErrNoDriver = errors.New("gpu: CUDA driver not available")
	// ErrNoDevice: the driver loaded but reports no device with that ordinal.
	ErrNoDevice = errors.New("gpu: no CUDA device")
)

// Hints attached to the unavailable errors.
const (
	hintDriver = "install the NVIDIA driver (libcuda.so.1) or set BOHOST_LIBCUDA to its path; use device \"cpu\" meanwhile"
	hintDevice = "check nvidia-smi and CUDA_VISIBLE_DEVICES; use device \"cpu\" meanwhile"
	hintOOM    = "raise the cap (SetMemoryCap / SetMemoryFraction), free buffers or EmptyCache, or use smaller images"
)

// whyNot is the cause of an unavailable error: the short reason Probe
// reports ("libcuda.so.1 not found (no NVIDIA driver)"), wrapping a
// sentinel.
type whyNot struct {
	reason   string
	sentinel error
}

func (w *whyNot) Error() string { return w.reason }
func (w *whyNot) Unwrap() error { return w.sentinel }

// unavailable returns the user-facing error: reason, then detail (e.g. the
// loader's message) when there is one.
func unavailable(op string, sentinel error, reason, detail string) *errs.Error {
	msg := reason
	if detail != "" {
		msg += ": " + detail
	}
	e := &errs.Error{Kind: errs.Unavailable, Op: op, Msg: msg, Err: &whyNot{reason: reason, sentinel: sentinel}}
	if errors.Is(sentinel, ErrNoDevice) {
		e.Hint = hintDevice
	} else {
		e.Hint = hintDriver
	}
	return e
}

// noDriver is unavailable wrapping ErrNoDriver.
func noDriver(op, reason, detail string) *errs.Error {
	return unavailable(op, ErrNoDriver, reason, detail)
}

// reasonOf is the short reason of an unavailable error from this package,
// or err's text for any other error.
func reasonOf(err error) string {
	var w *whyNot
	if errors.As(err, &w) {
		return w.reason
	}
	return err.Error()
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
