// Package gpu runs AirLine's per-pixel stages on an NVIDIA GPU through a
// small binding of the CUDA driver API, with a capped, caching memory pool.
//
// # Builds
//
// The driver binding (cuda.go) is in every build, with no build tag: the
// driver (libcuda.so.1, or $BOHOST_LIBCUDA) is dlopened at first use with
// github.com/ebitengine/purego, so no CUDA headers, libraries or cgo are
// needed to build, and the same binary uses the GPU where there is one. A
// machine without a driver or a device gets kind unavailable wrapping
// ErrNoDriver or ErrNoDevice, with the reason (no panic, no exit), and
// AirLine's stages run on the CPU. Probe says which path this machine
// offers and why ("CPU: libcuda.so.1 not found (no NVIDIA driver)", "CUDA:
// device 0 NVIDIA H200, driver CUDA 13.0, compute 9.0"); bohost diagnose
// prints it and a run records it. NVML (nvml.go: libnvidia-ml.so.1, or
// $BOHOST_LIBNVML) is loaded the same way, for ProcessGPUMemory: the device
// memory of each process, which monitor.csv's workers_gpu_bytes sums over a
// run's workers; without it the call is unavailable (ErrNoNVML), cached. The cuda build tag only adds the device
// tests. The package and its tests import no gocv.
//
// # API
//
//	func Available() bool
//	func Probe() Status                         // which path (cuda | cpu) and why
//	func (s Status) Evaluator(device string) (path, line string)
//	func DriverVersion() (int, error)
//	func Devices() ([]Device, error)
//	func Open(ordinal int) (*Context, error)   // one shared Context per device
//	func Default() (*Context, error)           // Open(0)
//
//	func (c *Context) SetMemoryCap(bytes int64) error      // 0 = no cap
//	func (c *Context) SetMemoryFraction(f float64) error   // cap = f * device total, f in (0, 1]
//	func (c *Context) Memory() (MemInfo, error)            // Used, Cached, Peak, Free, Total, Cap
//	func (c *Context) EmptyCache() error
//	func (c *Context) ResetPeak() error
//	func (c *Context) Synchronize() error
//	func (c *Context) Leaks() []Leak
//	func (c *Context) Alloc(bytes int64) (*Buffer, error)  // Buffer.Write, Read, Free
//	func (c *Context) LoadKernels() error                  // JIT every PTX module now
//	func (c *Context) Close() error
//
// The package-level SetMemoryCap, SetMemoryFraction, Memory, EmptyCache,
// ResetPeak and Synchronize act on Default(); Leaks covers every open
// context.
//
// The stages have host/airline's signatures plus an error (the Stages
// interface; CPU implements it with host/airline itself):
//
//	func (c *Context) Blur(src *imgbuf.Gray, sigma float64) (*imgbuf.Float, error)
//	func (c *Context) Sobel(src *imgbuf.Float) (gx, gy, mag *imgbuf.Float, err error)
//	func (c *Context) ClassicalEdges(src *imgbuf.Gray, p airline.EdgeParams) (*imgbuf.Float, error)
//	func (c *Context) Orientation(edge *imgbuf.Float, T, K int) ([]float32, error)
//	func (c *Context) OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error)
//	func (c *Context) ToGray(m image.Image) (*imgbuf.Gray, error)  // *image.RGBA, *image.NRGBA
//
// Each stage call uploads its input, runs its kernels, downloads the result
// and returns its device blocks to the pool before it returns, on success
// or error. Invalid arguments are kind bad_arg naming the field; a cap or
// device out-of-memory is kind oom; a driver failure is kind failed with the
// driver's error name and text (cuGetErrorName, cuGetErrorString).
//
// # Design
//
// Owner goroutine. A CUDA context is current per OS thread, so each Context
// has one goroutine locked to its thread (runtime.LockOSThread) that retains
// the device's primary context (cuDevicePrimaryCtxRetain + cuCtxSetCurrent,
// never cuCtxCreate) and runs all device work, sent as closures over a
// channel. Methods are therefore safe for concurrent use and serialised; a
// panic in device code becomes kind internal and the owner keeps running.
//
// Pool. Allocations are rounded up to size classes (512 B, then quarter
// steps between powers of two: at most 25% slack) and freed blocks are
// cached per class for reuse. The cap bounds live plus cached bytes: an
// allocation past it first returns the cache to the driver, then fails with
// kind oom; a driver CUDA_ERROR_OUT_OF_MEMORY is handled the same way.
// EmptyCache returns every cached block (cuMemFree_v2). Memory reports the
// pool's Used/Cached/Peak beside the driver's Free/Total (cuMemGetInfo_v2,
// all processes). Leaks lists live buffers with their allocation site, for
// a report at exit. The pool is written over a two-method allocator
// interface and tested on the CPU with a fake.
//
// Kernels. kernels/*.cu hold the kernels; kernels/genptx.sh compiles them to
// PTX for the low virtual architecture sm_52 / compute_52 (clang without the
// CUDA SDK, or nvcc when present: `go generate ./host/gpu/`), and ptx/*.ptx
// is committed and embedded. cuModuleLoadDataEx JIT-compiles it for the
// actual card (the JIT error log is returned on failure). $BOHOST_PTX_DIR
// loads NAME.ptx from a directory instead. Kernel arguments each get their
// own 8-byte home holding the value in its C size (int/float 4 bytes,
// double/pointers 8; device pointers as CUdeviceptr uint64).
//
// Exactness. The kernels do host/airline's float32/float64 operations in the
// same order, with IEEE rounding, no FMA contraction, IEEE division and
// square root, and Go's own log algorithm (bh_log in kernels/bh_cuda.h), so
// they are meant to be bit-exact; the device tests accept 1e-5 relative for
// floats and require integer outputs (grey values, the kept-pixel set) to
// be identical. Hysteresis, a sequential flood fill on the CPU, runs as
// rounds of a parallel bounded depth-first expansion until nothing changes,
// which accepts exactly the same pixels.
//
// # Tests
//
// Untagged (every go test run): the pool on a fake allocator; the Context's
// owner goroutine, memory controls and error paths on a fake driver; the
// committed PTX (entry points, no contraction, regenerated with clang and
// compared); Probe's verdicts; the no-driver path of the real binding, in a
// child process with $BOHOST_LIBCUDA naming a missing library (TestNoDriver,
// on every machine); a check that the binding is in the default build and
// that no production file has a build constraint (TestBindingInEveryBuild);
// and the purego binding against a stub libcuda.so.1 that the test builds
// with g++ (missing library, missing symbols, no device, memory, cap and
// oom, argument homes, error strings, JIT log, the global loader via
// $BOHOST_LIBCUDA), and a stub that runs the kernels compiled for the host,
// against which every stage is bit-exact with host/airline. With -tags cuda
// (the only use of the tag): the device tests (TestCUDA*) and
// BenchmarkCUDAStages, which skip without a device and are run on a GPU
// machine by scripts/gpu-check.sh (see docs/gpu.md), and
// TestStubDeviceSuite, which runs them against the emulating stub.
package gpu
