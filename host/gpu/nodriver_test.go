package gpu

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/errs"
)

// wantNoDriver checks the error every entry point returns where the driver
// library cannot be loaded: unavailable, wrapping ErrNoDriver, with the
// driver hint and the loader's reason, and never a word about rebuilding.
func wantNoDriver(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	switch {
	case !errors.As(err, &e):
		t.Errorf("%s: %v, want an *errs.Error", what, err)
	case e.Kind != errs.Unavailable:
		t.Errorf("%s: kind %q, want unavailable (%v)", what, e.Kind, err)
	case !errors.Is(err, ErrNoDriver):
		t.Errorf("%s: %v does not wrap ErrNoDriver", what, err)
	case e.Hint != hintDriver:
		t.Errorf("%s: hint %q, want %q", what, e.Hint, hintDriver)
	case !strings.HasPrefix(e.Op, "gpu."):
		t.Errorf("%s: op %q, want gpu.*", what, e.Op)
	case !strings.Contains(err.Error(), "not found"):
		t.Errorf("%s: %v does not say the driver library was not found", what, err)
	case strings.Contains(err.Error(), "rebuild") || strings.Contains(err.Error(), "-tags"):
		t.Errorf("%s: %v speaks of a build without CUDA: the binding is in every build", what, err)
	}
}

// TestNoDriver runs this test binary again with BOHOST_LIBCUDA naming a
// library that does not exist, so that the no-driver path of the default
// build is checked on every machine, a GPU machine included: every entry
// point degrades to kind unavailable with the reason, nothing panics or
// exits, and Probe says "CPU: ... not found".
func TestNoDriver(t *testing.T) {
	if os.Getenv("BOHOST_GPU_NODRIVER_CHILD") != "1" {
		missing := filepath.Join(t.TempDir(), "libcuda.so.1")
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNoDriver$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "BOHOST_GPU_NODRIVER_CHILD=1", LibCUDAEnv+"="+missing)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNoDriver") {
			t.Fatalf("child with %s=%s: %v\n%s", LibCUDAEnv, missing, err, out)
		}
		return
	}
	lib := os.Getenv(LibCUDAEnv)
	if Available() {
		t.Fatal("Available() = true without a driver")
	}
	s := Probe()
	wantReason := lib + " (" + LibCUDAEnv + ") not found"
	if s.Path != PathCPU || s.Reason != wantReason || s.Library != lib || s.String() != "CPU: "+wantReason {
		t.Errorf("Probe() = %+v (%q), want the CPU path because %q", s, s, wantReason)
	}
	wantNoDriver(t, "Probe().Err", s.Err)
	for _, dev := range []string{"cuda", "auto"} {
		if p, line := s.Evaluator(dev); p != PathCPU || !strings.HasPrefix(line, "CPU: "+wantReason) || !strings.Contains(line, "falls back to the CPU path") {
			t.Errorf("Evaluator(%q) = %s, %q", dev, p, line)
		}
	}
	if p, line := s.Evaluator("cpu"); p != PathCPU || line != `CPU: evaluator device = "cpu" (no GPU path either: `+wantReason+")" {
		t.Errorf(`Evaluator("cpu") = %s, %q`, p, line)
	}
	_, err := Memory()
	wantNoDriver(t, "Memory", err)
	_, err = Devices()
	wantNoDriver(t, "Devices", err)
	_, err = DriverVersion()
	wantNoDriver(t, "DriverVersion", err)
	c, err := Open(0)
	wantNoDriver(t, "Open", err)
	if c != nil {
		t.Error("Open returned a context without a driver")
	}
	_, err = Default()
	wantNoDriver(t, "Default", err)
	wantNoDriver(t, "SetMemoryCap", SetMemoryCap(1<<20))
	wantNoDriver(t, "SetMemoryFraction", SetMemoryFraction(0.5))
	wantNoDriver(t, "EmptyCache", EmptyCache())
	wantNoDriver(t, "Synchronize", Synchronize())
	wantNoDriver(t, "ResetPeak", ResetPeak())
	if l := Leaks(); l != nil {
		t.Errorf("Leaks() = %v without a driver, want nil", l)
	}
	if !isUnavailable(err) {
		t.Errorf("isUnavailable(%v) = false", err)
	}
}

// TestThisMachine checks the verdict of this very process on this machine,
// whatever it has: the CUDA path with a device, or the CPU path for a
// run-time reason (no driver, no device), never for the way it was built.
func TestThisMachine(t *testing.T) {
	s := Probe()
	t.Logf("%s", s)
	switch s.Path {
	case PathCUDA:
		if !Available() || len(s.Devices) == 0 || s.Err != nil || !strings.HasPrefix(s.String(), "CUDA: device 0 ") {
			t.Errorf("CUDA path, but %+v (Available %v)", s, Available())
		}
	case PathCPU:
		if Available() || s.Err == nil || !isUnavailable(s.Err) || s.Reason == "" {
			t.Errorf("CPU path, but %+v (Available %v)", s, Available())
		}
		if strings.Contains(s.String(), "rebuild") || strings.Contains(s.String(), "-tags") {
			t.Errorf("%s: the binding is in every build, the reason must be the machine's", s)
		}
		if _, err := os.Stat("/dev/nvidiactl"); err != nil && os.Getenv(LibCUDAEnv) == "" && !errors.Is(s.Err, ErrNoDriver) {
			t.Errorf("no NVIDIA device node here, yet %v does not wrap ErrNoDriver", s.Err)
		}
	default:
		t.Errorf("Path %q", s.Path)
	}
}

func TestDlopenReason(t *testing.T) {
	t.Setenv(LibCUDAEnv, "")
	for _, c := range []struct{ msg, want string }{
		{"libcuda.so.1: cannot open shared object file: No such file or directory", "libcuda.so.1 not found (no NVIDIA driver)"},
		{"libcuda.so.1: wrong ELF class: ELFCLASS32", "cannot load libcuda.so.1"},
	} {
		if got := dlopenReason("libcuda.so.1", LibCUDAEnv, errors.New(c.msg)); got != c.want {
			t.Errorf("dlopenReason(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
	t.Setenv(LibCUDAEnv, "/opt/x/libcuda.so")
	if got := dlopenReason("/opt/x/libcuda.so", LibCUDAEnv, errors.New("/opt/x/libcuda.so: cannot open shared object file: No such file or directory")); got != "/opt/x/libcuda.so (BOHOST_LIBCUDA) not found" {
		t.Errorf("with %s set: %q", LibCUDAEnv, got)
	}
	// The real loader, on a path that cannot exist.
	_, err := loadCUDA(filepath.Join(t.TempDir(), "libcuda.so.1"))
	wantNoDriver(t, "loadCUDA", err)
}

// devicesDriver is the fake driver with a chosen device list.
type devicesDriver struct {
	*fakeDriver
	devs []Device
}

func (d *devicesDriver) devices() ([]Device, error) { return d.devs, nil }

func TestProbeVerdicts(t *testing.T) {
	h200 := Device{Name: "NVIDIA H200", TotalBytes: 141 << 30, Major: 9, Minor: 0}
	f := &devicesDriver{fakeDriver: newFakeDriver(1 << 20)}
	f.devs = []Device{h200}
	s := probeWith("libcuda.so.1", func() (driver, error) { return f, nil })
	want := "CUDA: device 0 NVIDIA H200, driver CUDA 13.0, compute 9.0"
	if s.Path != PathCUDA || s.String() != want || s.Err != nil || s.DriverVersion != 13000 || len(s.Devices) != 1 {
		t.Errorf("one device: %+v (%q), want %q", s, s, want)
	}
	if p, line := s.Evaluator("cuda"); p != PathCUDA || line != want+"; AirLine stages on the GPU" {
		t.Errorf(`Evaluator("cuda") = %s, %q`, p, line)
	}
	if p, line := s.Evaluator("auto"); p != PathCUDA || !strings.HasPrefix(line, "CUDA: ") {
		t.Errorf(`Evaluator("auto") = %s, %q`, p, line)
	}
	// A GPU the evaluator leaves unused is named: the CPU path is never silent.
	for _, dev := range []string{"cpu", ""} {
		p, line := s.Evaluator(dev)
		if p != PathCPU || !strings.Contains(line, "NVIDIA H200") || !strings.Contains(line, `set device = "cuda"`) {
			t.Errorf("Evaluator(%q) = %s, %q", dev, p, line)
		}
	}

	f.devs = []Device{h200, h200}
	if s := probeWith("libcuda.so.1", func() (driver, error) { return f, nil }); !strings.HasSuffix(s.Reason, "(2 devices; bohost uses device 0)") {
		t.Errorf("two devices: %q", s)
	}

	f.devs = nil
	s = probeWith("libcuda.so.1", func() (driver, error) { return f, nil })
	if s.Path != PathCPU || s.String() != "CPU: libcuda.so.1 loaded (driver CUDA 13.0), but it reports no device (check nvidia-smi and CUDA_VISIBLE_DEVICES)" ||
		!errors.Is(s.Err, ErrNoDevice) || !errs.Is(s.Err, errs.Unavailable) {
		t.Errorf("no device: %+v (%q)", s, s)
	}

	s = probeWith("libcuda.so.1", func() (driver, error) {
		return nil, noDriver("gpu.driver", "libcuda.so.1 lacks cuMemAlloc_v2 (driver too old, or not libcuda)", "")
	})
	if s.Path != PathCPU || s.String() != "CPU: libcuda.so.1 lacks cuMemAlloc_v2 (driver too old, or not libcuda)" || !errors.Is(s.Err, ErrNoDriver) {
		t.Errorf("old driver: %+v (%q)", s, s)
	}
}
