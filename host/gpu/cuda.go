package gpu

// The CUDA driver binding. It is part of every build: the driver is dlopened
// at run time with purego, so building needs no CUDA headers, libraries or
// cgo, and a machine without a driver gets kind unavailable wrapping
// ErrNoDriver with the reason (Probe), never a panic or an exit.

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibCUDAEnv names the environment variable that overrides the path of the
// CUDA driver library (default "libcuda.so.1", found by the dynamic loader).
const LibCUDAEnv = "BOHOST_LIBCUDA"

func libcudaPath() string { return libPath(LibCUDAEnv, "libcuda.so.1") }

// libPath is the library named by the environment variable env, else def
// (found by the dynamic loader): the CUDA driver's and NVML's.
func libPath(env, def string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	return def
}

var (
	drvOnce sync.Once
	drvVal  *cudaDriver
	drvErr  error
)

// loadDriver loads the process's CUDA driver once (dlopen at run time with
// purego: no CUDA headers or libraries are needed to build).
func loadDriver() (driver, error) {
	drvOnce.Do(func() { drvVal, drvErr = loadCUDA(libcudaPath()) })
	if drvErr != nil {
		return nil, drvErr
	}
	return drvVal, nil
}

// cuResult is CUresult.
type cuResult uint32

const (
	cudaSuccess     cuResult = 0
	cudaErrOOM      cuResult = 2
	cudaErrNoDevice cuResult = 100
)

// CUjit_option values used with cuModuleLoadDataEx.
const (
	cuJitErrorLogBuffer          = 5
	cuJitErrorLogBufferSizeBytes = 6
)

// CUdevice_attribute values.
const (
	cuAttrCCMajor = 75
	cuAttrCCMinor = 76
)

// cudaDriver is the driver API bound from one loaded libcuda with purego:
// about twenty functions, all unchanged from CUDA 11 through 13. CUDA types
// map as CUresult -> uint32, CUdevice -> int32, CUdeviceptr -> uint64, and
// CUcontext/CUmodule/CUfunction/CUstream -> uintptr.
type cudaDriver struct {
	path string
	lib  uintptr

	noDevice bool // cuInit reported CUDA_ERROR_NO_DEVICE

	cuInit                    func(flags uint32) cuResult
	cuDriverGetVersion        func(v *int32) cuResult
	cuDeviceGetCount          func(n *int32) cuResult
	cuDeviceGet               func(dev *int32, ordinal int32) cuResult
	cuDeviceGetName           func(name *byte, n int32, dev int32) cuResult
	cuDeviceTotalMem          func(bytes *uint64, dev int32) cuResult
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) cuResult
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) cuResult
	cuDevicePrimaryCtxRelease func(dev int32) cuResult
	cuCtxSetCurrent           func(ctx uintptr) cuResult
	cuCtxSynchronize          func() cuResult
	cuMemGetInfo              func(free, total *uint64) cuResult
	cuMemAlloc                func(p *uint64, n uint64) cuResult
	cuMemFree                 func(p uint64) cuResult
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, n uint64) cuResult
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, n uint64) cuResult
	cuModuleLoadDataEx        func(mod *uintptr, image unsafe.Pointer, nopt uint32, opts *int32, vals *uintptr) cuResult
	cuModuleUnload            func(mod uintptr) cuResult
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name string) cuResult
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params *unsafe.Pointer, extra *unsafe.Pointer) cuResult
	cuGetErrorString          func(r cuResult, s **byte) cuResult
	cuGetErrorName            func(r cuResult, s **byte) cuResult
}

// symbols lists the bound functions: the library symbol and the field.
func (d *cudaDriver) symbols() []struct {
	name string
	fn   any
} {
	return []struct {
		name string
		fn   any
	}{
		{"cuInit", &d.cuInit},
		{"cuDriverGetVersion", &d.cuDriverGetVersion},
		{"cuDeviceGetCount", &d.cuDeviceGetCount},
		{"cuDeviceGet", &d.cuDeviceGet},
		{"cuDeviceGetName", &d.cuDeviceGetName},
		{"cuDeviceTotalMem_v2", &d.cuDeviceTotalMem},
		{"cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{"cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &d.cuCtxSetCurrent},
		{"cuCtxSynchronize", &d.cuCtxSynchronize},
		{"cuMemGetInfo_v2", &d.cuMemGetInfo},
		{"cuMemAlloc_v2", &d.cuMemAlloc},
		{"cuMemFree_v2", &d.cuMemFree},
		{"cuMemcpyHtoD_v2", &d.cuMemcpyHtoD},
		{"cuMemcpyDtoH_v2", &d.cuMemcpyDtoH},
		{"cuModuleLoadDataEx", &d.cuModuleLoadDataEx},
		{"cuModuleUnload", &d.cuModuleUnload},
		{"cuModuleGetFunction", &d.cuModuleGetFunction},
		{"cuLaunchKernel", &d.cuLaunchKernel},
		{"cuGetErrorString", &d.cuGetErrorString},
		{"cuGetErrorName", &d.cuGetErrorName},
	}
}

// loadCUDA dlopens the driver library at path, binds its functions and runs
// cuInit(0). Failures are kind unavailable wrapping ErrNoDriver, with the
// reason Probe reports; nothing panics or exits.
func loadCUDA(path string) (*cudaDriver, error) {
	const op = "gpu.driver"
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, noDriver(op, dlopenReason(path, LibCUDAEnv, err), err.Error())
	}
	d := &cudaDriver{path: path, lib: h}
	var missing []string
	for _, s := range d.symbols() {
		addr, err := purego.Dlsym(h, s.name)
		if err != nil || addr == 0 {
			missing = append(missing, s.name)
			continue
		}
		purego.RegisterFunc(s.fn, addr)
	}
	if len(missing) > 0 {
		_ = purego.Dlclose(h)
		return nil, noDriver(op, fmt.Sprintf("%s lacks %s (driver too old, or not libcuda)", path, strings.Join(missing, ", ")), "")
	}
	switch r := d.cuInit(0); r {
	case cudaSuccess:
	case cudaErrNoDevice:
		d.noDevice = true
	default:
		return nil, noDriver(op, fmt.Sprintf("%s loaded, but cuInit failed", path), d.err("cuInit", r).Error())
	}
	return d, nil
}

// dlopenReason says in a few words why a driver library (path, overridden
// by the environment variable env) did not load: "libcuda.so.1 not found
// (no NVIDIA driver)" for the usual case of a machine without one.
func dlopenReason(path, env string, err error) string {
	m := err.Error()
	if strings.Contains(m, "No such file") || strings.Contains(m, "cannot open shared object file") {
		if os.Getenv(env) != "" {
			return fmt.Sprintf("%s (%s) not found", path, env)
		}
		return path + " not found (no NVIDIA driver)"
	}
	return "cannot load " + path
}

// cuError is a failed driver call.
type cuError struct {
	call      string
	code      cuResult
	name, msg string
}

func (e *cuError) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.call, e.name, e.code, e.msg)
}

// Unwrap makes errors.Is(err, errDeviceOOM) true for CUDA_ERROR_OUT_OF_MEMORY.
func (e *cuError) Unwrap() error {
	if e.code == cudaErrOOM {
		return errDeviceOOM
	}
	return nil
}

func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := 0; i < 4096; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// err turns a CUresult into an error with the driver's name and text
// (cuGetErrorName, cuGetErrorString); nil for success.
func (d *cudaDriver) err(call string, r cuResult) error {
	if r == cudaSuccess {
		return nil
	}
	e := &cuError{call: call, code: r, name: "CUDA_ERROR_UNKNOWN_CODE", msg: "unrecognised error code"}
	var p *byte
	if d.cuGetErrorName(r, &p) == cudaSuccess && p != nil {
		e.name = cString(p)
	}
	p = nil
	if d.cuGetErrorString(r, &p) == cudaSuccess && p != nil {
		e.msg = cString(p)
	}
	return e
}

func (d *cudaDriver) version() (int, error) {
	var v int32
	if err := d.err("cuDriverGetVersion", d.cuDriverGetVersion(&v)); err != nil {
		return 0, err
	}
	return int(v), nil
}

func (d *cudaDriver) devices() ([]Device, error) {
	if d.noDevice {
		return nil, nil
	}
	var n int32
	if err := d.err("cuDeviceGetCount", d.cuDeviceGetCount(&n)); err != nil {
		return nil, err
	}
	out := make([]Device, 0, n)
	for i := int32(0); i < n; i++ {
		var dev int32
		if err := d.err("cuDeviceGet", d.cuDeviceGet(&dev, i)); err != nil {
			return nil, err
		}
		var name [256]byte
		if err := d.err("cuDeviceGetName", d.cuDeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
			return nil, err
		}
		var total uint64
		if err := d.err("cuDeviceTotalMem_v2", d.cuDeviceTotalMem(&total, dev)); err != nil {
			return nil, err
		}
		var major, minor int32
		if err := d.err("cuDeviceGetAttribute", d.cuDeviceGetAttribute(&major, cuAttrCCMajor, dev)); err != nil {
			return nil, err
		}
		if err := d.err("cuDeviceGetAttribute", d.cuDeviceGetAttribute(&minor, cuAttrCCMinor, dev)); err != nil {
			return nil, err
		}
		out = append(out, Device{Ordinal: int(i), Name: cString(&name[0]), TotalBytes: int64(total), Major: int(major), Minor: int(minor)})
	}
	return out, nil
}

// bind retains the device's primary context (never cuCtxCreate) and makes
// it current on this thread.
func (d *cudaDriver) bind(ordinal int) error {
	var dev int32
	if err := d.err("cuDeviceGet", d.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return err
	}
	var ctx uintptr
	if err := d.err("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain(&ctx, dev)); err != nil {
		return err
	}
	if err := d.err("cuCtxSetCurrent", d.cuCtxSetCurrent(ctx)); err != nil {
		_ = d.cuDevicePrimaryCtxRelease(dev)
		return err
	}
	return nil
}

func (d *cudaDriver) unbind(ordinal int) error {
	var dev int32
	if err := d.err("cuDeviceGet", d.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return err
	}
	_ = d.cuCtxSetCurrent(0)
	return d.err("cuDevicePrimaryCtxRelease_v2", d.cuDevicePrimaryCtxRelease(dev))
}

func (d *cudaDriver) alloc(n uint64) (uint64, error) {
	var p uint64
	if err := d.err("cuMemAlloc_v2", d.cuMemAlloc(&p, n)); err != nil {
		return 0, err
	}
	return p, nil
}

func (d *cudaDriver) free(p uint64) error { return d.err("cuMemFree_v2", d.cuMemFree(p)) }

func (d *cudaDriver) memInfo() (free, total uint64, err error) {
	err = d.err("cuMemGetInfo_v2", d.cuMemGetInfo(&free, &total))
	return free, total, err
}

func (d *cudaDriver) htod(dst uint64, src unsafe.Pointer, n uint64) error {
	return d.err("cuMemcpyHtoD_v2", d.cuMemcpyHtoD(dst, src, n))
}

func (d *cudaDriver) dtoh(dst unsafe.Pointer, src uint64, n uint64) error {
	return d.err("cuMemcpyDtoH_v2", d.cuMemcpyDtoH(dst, src, n))
}

func (d *cudaDriver) synchronize() error { return d.err("cuCtxSynchronize", d.cuCtxSynchronize()) }

// loadModule JIT-compiles PTX (cuModuleLoadDataEx); on failure the error
// carries the JIT's error log.
func (d *cudaDriver) loadModule(name string, ptx []byte) (uintptr, error) {
	img := make([]byte, len(ptx)+1) // NUL-terminated
	copy(img, ptx)
	logBuf := make([]byte, 16<<10)
	opts := []int32{cuJitErrorLogBuffer, cuJitErrorLogBufferSizeBytes}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
	var mod uintptr
	r := d.cuModuleLoadDataEx(&mod, unsafe.Pointer(&img[0]), uint32(len(opts)), &opts[0], &vals[0])
	runtime.KeepAlive(img)
	runtime.KeepAlive(logBuf)
	if err := d.err("cuModuleLoadDataEx", r); err != nil {
		if l := strings.TrimSpace(cString(&logBuf[0])); l != "" {
			return 0, fmt.Errorf("%w; JIT log for %s: %s", err, name, l)
		}
		return 0, err
	}
	return mod, nil
}

func (d *cudaDriver) unloadModule(mod uintptr) error {
	return d.err("cuModuleUnload", d.cuModuleUnload(mod))
}

func (d *cudaDriver) function(mod uintptr, name string) (uintptr, error) {
	var f uintptr
	if err := d.err("cuModuleGetFunction", d.cuModuleGetFunction(&f, mod, name)); err != nil {
		return 0, err
	}
	return f, nil
}

func (d *cudaDriver) launch(fn uintptr, grid, block [3]uint32, params []unsafe.Pointer) error {
	var pp *unsafe.Pointer
	if len(params) > 0 {
		pp = &params[0]
	}
	r := d.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, 0, pp, nil)
	runtime.KeepAlive(params)
	return d.err("cuLaunchKernel", r)
}
