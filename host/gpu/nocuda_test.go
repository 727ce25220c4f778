//go:build !cuda

package gpu

import (
	"errors"
	"strings"
	"testing"

	"bohost/host/errs"
)

// wantUnavailable checks the error every entry point returns without CUDA.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	switch {
	case !errors.As(err, &e):
		t.Errorf("%s: %v, want an *errs.Error", what, err)
	case e.Kind != errs.Unavailable:
		t.Errorf("%s: kind %q, want unavailable (%v)", what, e.Kind, err)
	case !errors.Is(err, ErrNoCUDA):
		t.Errorf("%s: %v does not wrap ErrNoCUDA", what, err)
	case e.Hint != hintRebuild || !strings.Contains(err.Error(), "rebuild with -tags cuda"):
		t.Errorf("%s: hint %q, want %q", what, e.Hint, hintRebuild)
	case !strings.HasPrefix(e.Op, "gpu."):
		t.Errorf("%s: op %q, want gpu.*", what, e.Op)
	}
}

func TestNoCUDA(t *testing.T) {
	if CUDABuild {
		t.Fatal("CUDABuild true in a build without -tags cuda")
	}
	if Available() {
		t.Error("Available() = true without CUDA")
	}
	_, err := Memory()
	wantUnavailable(t, "Memory", err)
	_, err = Devices()
	wantUnavailable(t, "Devices", err)
	_, err = DriverVersion()
	wantUnavailable(t, "DriverVersion", err)
	c, err := Open(0)
	wantUnavailable(t, "Open", err)
	if c != nil {
		t.Error("Open returned a context without CUDA")
	}
	_, err = Default()
	wantUnavailable(t, "Default", err)
	wantUnavailable(t, "SetMemoryCap", SetMemoryCap(1<<20))
	wantUnavailable(t, "SetMemoryFraction", SetMemoryFraction(0.5))
	wantUnavailable(t, "EmptyCache", EmptyCache())
	wantUnavailable(t, "Synchronize", Synchronize())
	wantUnavailable(t, "ResetPeak", ResetPeak())
	if l := Leaks(); l != nil {
		t.Errorf("Leaks() = %v without CUDA, want nil", l)
	}
	if got := errs.KindOf(err); got != errs.Unavailable {
		t.Errorf("KindOf = %q", got)
	}
}
