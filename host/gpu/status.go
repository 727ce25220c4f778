package gpu

import "fmt"

// The paths AirLine's per-pixel stages can take.
const (
	PathCUDA = "cuda" // on device 0, through the CUDA driver
	PathCPU  = "cpu"  // host/airline's reference implementation
)

// Status says which path this machine offers AirLine's stages, and why:
// PathCUDA when the driver loads and reports a device, else PathCPU with the
// reason ("libcuda.so.1 not found (no NVIDIA driver)"). bohost diagnose
// prints it, and a run records it as its "gpu" event.
type Status struct {
	Path          string   // PathCUDA or PathCPU
	Reason        string   // why, in one line, without the path
	Library       string   // the driver library tried (libcuda.so.1 or $BOHOST_LIBCUDA)
	DriverVersion int      // the driver's CUDA version, 1000*major + 10*minor; 0 when unknown
	Devices       []Device // the CUDA devices; nil on the CPU path
	Err           error    // on the CPU path: the unavailable error that the entry points return
}

// Probe loads the driver (once per process) and lists its devices; it does
// not open a context, so it costs no device memory. It never panics or
// exits.
func Probe() Status {
	return probeWith(libcudaPath(), loadDriver)
}

func probeWith(lib string, load func() (driver, error)) Status {
	const op = "gpu.probe"
	s := Status{Path: PathCPU, Library: lib}
	d, err := load()
	if err != nil {
		s.Reason, s.Err = reasonOf(err), err
		return s
	}
	if v, err := d.version(); err == nil {
		s.DriverVersion = v
	}
	ds, err := d.devices()
	switch {
	case err != nil:
		s.Err = noDriver(op, "the CUDA driver cannot list its devices", err.Error())
		s.Reason = reasonOf(s.Err) + ": " + err.Error()
		return s
	case len(ds) == 0:
		s.Err = unavailable(op, ErrNoDevice, fmt.Sprintf("%s loaded (driver CUDA %s), but it reports no device", lib, cudaVersion(s.DriverVersion)), "")
		s.Reason = reasonOf(s.Err) + " (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
		return s
	}
	s.Path, s.Devices = PathCUDA, ds
	d0 := ds[0]
	s.Reason = fmt.Sprintf("device 0 %s, driver CUDA %s, compute %d.%d", d0.Name, cudaVersion(s.DriverVersion), d0.Major, d0.Minor)
	if len(ds) > 1 {
		s.Reason += fmt.Sprintf(" (%d devices; bohost uses device 0)", len(ds))
	}
	return s
}

// String is the one-line verdict: "CUDA: device 0 NVIDIA H200, driver CUDA
// 13.0, compute 9.0" or "CPU: libcuda.so.1 not found (no NVIDIA driver)".
func (s Status) String() string {
	if s.Path == PathCUDA {
		return "CUDA: " + s.Reason
	}
	return "CPU: " + s.Reason
}

// Evaluator says which path an AirLine evaluator whose device option is
// device ("cpu", "cuda", "auto" = cuda where available; "" reads as the
// default "cpu") takes on this machine, and why, in one line starting with
// "CUDA: " or "CPU: ". A CUDA device that the evaluator leaves unused is
// named, so that using the CPU on a GPU machine is never silent.
func (s Status) Evaluator(device string) (path, line string) {
	cuda := s.Path == PathCUDA
	switch {
	case (device == "cuda" || device == "auto") && cuda:
		return PathCUDA, s.String() + "; AirLine stages on the GPU"
	case device == "cuda" || device == "auto":
		return PathCPU, s.String() + `; device = "` + device + `" falls back to the CPU path (same results)`
	case cuda:
		return PathCPU, `CPU: evaluator device = "cpu", though CUDA is available (` + s.Reason + `): set device = "cuda" to run AirLine stages on the GPU`
	}
	return PathCPU, `CPU: evaluator device = "cpu" (no GPU path either: ` + s.Reason + ")"
}

// cudaVersion formats a driver version (13000 -> "13.0"); "?" for 0.
func cudaVersion(v int) string {
	if v <= 0 {
		return "?"
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}
