package gpu

// A minimal NVML binding (libnvidia-ml.so.1, dlopened at run time with
// purego, like the CUDA driver in cuda.go) for one figure: the device memory
// each process holds, as the driver accounts it (what nvidia-smi lists under
// "Processes"). The monitor sums it over the run's workers into
// monitor.csv's workers_gpu_bytes.
//
// The library is loaded and nvmlInit_v2 run once per process; a machine
// without it gets kind unavailable wrapping ErrNoNVML, cached, so later calls
// return at once. nvmlShutdown is never called: the binding stays
// initialised for the life of the process.
//
// Layouts (nvml.h): nvmlProcessInfo_v1_t {unsigned int pid; unsigned long
// long usedGpuMemory;} is 16 bytes; nvmlProcessInfo_v2_t and
// nvmlProcessInfo_t add unsigned int gpuInstanceId, computeInstanceId (24
// bytes); the R535 drivers' nvmlDeviceGetComputeRunningProcesses_v3 wrote a
// further unsigned long long usedGpuCcProtectedMemory (32 bytes) without a
// version bump. pid (offset 0) and usedGpuMemory (offset 8) are where every
// layout has them, so only the entry size differs: the buffer is sized for
// the largest, filled with a sentinel byte, and the size the driver really
// used is read off the bytes it wrote (entryStride).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"

	"bohost/host/errs"
)

// LibNVMLEnv names the environment variable that overrides the path of the
// NVML library (default "libnvidia-ml.so.1", found by the dynamic loader).
const LibNVMLEnv = "BOHOST_LIBNVML"

// ErrNoNVML is the cause (wrapped in kind unavailable) of every
// ProcessGPUMemory error where NVML cannot be used: the library is missing,
// lacks a needed symbol, or nvmlInit_v2 failed (e.g. no NVIDIA kernel
// driver loaded).
var ErrNoNVML = errors.New("gpu: NVML not available")

const hintNVML = "install the NVIDIA driver (it ships libnvidia-ml.so.1) or set BOHOST_LIBNVML to its path; workers_gpu_bytes stays empty meanwhile"

// nvmlReturn is nvmlReturn_t (a C enum: int).
type nvmlReturn int32

const (
	nvmlSuccess          nvmlReturn = 0
	nvmlInsufficientSize nvmlReturn = 7
)

// nvmlValueNotAvailable is NVML_VALUE_NOT_AVAILABLE (ULLONG_MAX): the
// driver does not know the process's memory (always so under Windows WDDM).
const nvmlValueNotAvailable = ^uint64(0)

// nvmlReturnNames maps the nvmlReturn_t codes of nvml.h to their names and
// the short texts used when nvmlErrorString is not at hand.
var nvmlReturnNames = map[nvmlReturn][2]string{
	0:   {"NVML_SUCCESS", "success"},
	1:   {"NVML_ERROR_UNINITIALIZED", "NVML was not first initialized with nvmlInit"},
	2:   {"NVML_ERROR_INVALID_ARGUMENT", "a supplied argument is invalid"},
	3:   {"NVML_ERROR_NOT_SUPPORTED", "the requested operation is not available on the device"},
	4:   {"NVML_ERROR_NO_PERMISSION", "the current user does not have permission for the operation"},
	5:   {"NVML_ERROR_ALREADY_INITIALIZED", "already initialized"},
	6:   {"NVML_ERROR_NOT_FOUND", "a query to find an object was unsuccessful"},
	7:   {"NVML_ERROR_INSUFFICIENT_SIZE", "an input argument is not large enough"},
	8:   {"NVML_ERROR_INSUFFICIENT_POWER", "a device's external power cables are not properly attached"},
	9:   {"NVML_ERROR_DRIVER_NOT_LOADED", "NVIDIA driver is not loaded"},
	10:  {"NVML_ERROR_TIMEOUT", "user provided timeout passed"},
	11:  {"NVML_ERROR_IRQ_ISSUE", "NVIDIA kernel detected an interrupt issue with a GPU"},
	12:  {"NVML_ERROR_LIBRARY_NOT_FOUND", "NVML shared library couldn't be found or loaded"},
	13:  {"NVML_ERROR_FUNCTION_NOT_FOUND", "local version of NVML doesn't implement this function"},
	14:  {"NVML_ERROR_CORRUPTED_INFOROM", "infoROM is corrupted"},
	15:  {"NVML_ERROR_GPU_IS_LOST", "the GPU has fallen off the bus or has otherwise become inaccessible"},
	16:  {"NVML_ERROR_RESET_REQUIRED", "the GPU requires a reset before it can be used again"},
	17:  {"NVML_ERROR_OPERATING_SYSTEM", "the GPU control device has been blocked by the operating system/cgroups"},
	18:  {"NVML_ERROR_LIB_RM_VERSION_MISMATCH", "RM detects a driver/library version mismatch"},
	19:  {"NVML_ERROR_IN_USE", "an operation cannot be performed because the GPU is currently in use"},
	20:  {"NVML_ERROR_MEMORY", "insufficient memory"},
	21:  {"NVML_ERROR_NO_DATA", "no data"},
	22:  {"NVML_ERROR_VGPU_ECC_NOT_SUPPORTED", "the requested vgpu operation is not available because ECC is enabled"},
	23:  {"NVML_ERROR_INSUFFICIENT_RESOURCES", "ran out of critical resources, other than memory"},
	24:  {"NVML_ERROR_FREQ_NOT_SUPPORTED", "the frequency is not supported"},
	25:  {"NVML_ERROR_ARGUMENT_VERSION_MISMATCH", "the provided version is invalid/unsupported"},
	26:  {"NVML_ERROR_DEPRECATED", "the requested functionality has been deprecated"},
	27:  {"NVML_ERROR_NOT_READY", "the system is not ready for the request"},
	28:  {"NVML_ERROR_GPU_NOT_FOUND", "no GPUs were found"},
	29:  {"NVML_ERROR_INVALID_STATE", "resource not in correct state to perform requested operation"},
	999: {"NVML_ERROR_UNKNOWN", "an internal driver error occurred"},
}

// nvmlReturnName is the nvml.h name of code and a short text
// ("NVML_ERROR_UNKNOWN_CODE" for a code this binding does not know).
func nvmlReturnName(code nvmlReturn) (name, text string) {
	if n, ok := nvmlReturnNames[code]; ok {
		return n[0], n[1]
	}
	return "NVML_ERROR_UNKNOWN_CODE", "unrecognised error code"
}

// nvmlError is a failed NVML call.
type nvmlError struct {
	call      string
	code      nvmlReturn
	name, msg string
}

func (e *nvmlError) Error() string {
	return fmt.Sprintf("%s: %s (%d): %s", e.call, e.name, e.code, e.msg)
}

// newNVMLError names code and describes it with the library's own text
// (errString: nvmlErrorString, or nil) or else the table's.
func newNVMLError(call string, code nvmlReturn, errString func(nvmlReturn) string) *nvmlError {
	name, text := nvmlReturnName(code)
	if errString != nil {
		if s := strings.TrimSpace(errString(code)); s != "" {
			text = s
		}
	}
	return &nvmlError{call: call, code: code, name: name, msg: text}
}

// Entry sizes of the nvmlProcessInfo layouts (see the top of this file).
const (
	procInfoV1Size  = 16 // nvmlProcessInfo_v1_t
	procInfoV2Size  = 24 // nvmlProcessInfo_v2_t = nvmlProcessInfo_t
	procInfoR535    = 32 // _v3 on the R535 drivers: + usedGpuCcProtectedMemory
	procInfoMaxSize = procInfoR535
)

// procSentinel fills the process buffer before a call. The last byte the
// driver writes is the most significant byte of the last entry's last field
// (a small id, 0xFFFFFFFF, or a byte count), so never this value.
const procSentinel = 0xA5

// entryStride returns the size of the n entries the driver wrote into buf
// (filled with procSentinel beforehand): the known size s with n*s equal to
// the offset past the last byte that is not the sentinel. With no entries,
// or bytes that fit no known size, it returns declared, the size nvml.h
// gives for the function called.
func entryStride(buf []byte, n, declared int) int {
	if n <= 0 {
		return declared
	}
	written := len(buf)
	for written > 0 && buf[written-1] == procSentinel {
		written--
	}
	for _, s := range []int{procInfoV1Size, procInfoV2Size, procInfoR535} {
		if s*n == written {
			return s
		}
	}
	return declared
}

// procMem is one entry of a process-info array: pid and usedGpuMemory (-1
// for NVML_VALUE_NOT_AVAILABLE).
type procMem struct {
	pid   int
	bytes int64
}

// decodeProcInfos reads n entries of size stride from buf: pid (unsigned
// int at offset 0) and usedGpuMemory (unsigned long long at offset 8, the
// same in every layout), little-endian as on every platform the driver
// runs on here. An array shorter than n entries, or a stride under 16, is
// an error.
func decodeProcInfos(buf []byte, n, stride int) ([]procMem, error) {
	if stride < procInfoV1Size {
		return nil, fmt.Errorf("process info entries of %d bytes: at least %d needed", stride, procInfoV1Size)
	}
	if n < 0 || n*stride > len(buf) {
		return nil, fmt.Errorf("%d process info entries of %d bytes do not fit %d bytes", n, stride, len(buf))
	}
	out := make([]procMem, 0, n)
	for i := 0; i < n; i++ {
		e := buf[i*stride:]
		pid := int(binary.LittleEndian.Uint32(e[0:4]))
		used := binary.LittleEndian.Uint64(e[8:16])
		b := int64(-1)
		if used != nvmlValueNotAvailable && used <= 1<<62 {
			b = int64(used)
		}
		out = append(out, procMem{pid: pid, bytes: b})
	}
	return out, nil
}

// sumByPID adds the entries into m (pid → bytes); a pid with any entry whose
// memory is not available gets -1.
func sumByPID(m map[int]int64, procs []procMem) {
	for _, p := range procs {
		cur, seen := m[p.pid]
		switch {
		case p.bytes < 0 || (seen && cur < 0):
			m[p.pid] = -1
		default:
			m[p.pid] = cur + p.bytes
		}
	}
}

// nvmlLib is the bound library.
type nvmlLib struct {
	path string
	lib  uintptr

	nvmlInit          func() nvmlReturn
	nvmlDeviceGetCnt  func(n *uint32) nvmlReturn
	nvmlDeviceGetHdl  func(index uint32, dev *uintptr) nvmlReturn
	nvmlErrorString   func(r nvmlReturn) string
	getProcs          func(dev uintptr, count *uint32, infos unsafe.Pointer) nvmlReturn
	getProcsName      string
	getProcsEntrySize int // the entry size nvml.h declares for getProcsName
}

// nvmlProcFuncs are the compute-process queries, newest first, with the
// entry size nvml.h declares for each.
var nvmlProcFuncs = []struct {
	name string
	size int
}{
	{"nvmlDeviceGetComputeRunningProcesses_v3", procInfoV2Size},
	{"nvmlDeviceGetComputeRunningProcesses_v2", procInfoV2Size},
	{"nvmlDeviceGetComputeRunningProcesses", procInfoV1Size},
}

// nvmlUnavailable is kind unavailable wrapping ErrNoNVML.
func nvmlUnavailable(reason, detail string) *errs.Error {
	msg := reason
	if detail != "" {
		msg += ": " + detail
	}
	return &errs.Error{Kind: errs.Unavailable, Op: "gpu.nvml", Msg: msg, Err: &whyNot{reason: reason, sentinel: ErrNoNVML}, Hint: hintNVML}
}

// loadNVML dlopens the library at path, binds the functions and runs
// nvmlInit_v2. Failures are kind unavailable wrapping ErrNoNVML; nothing
// panics or exits.
func loadNVML(path string) (*nvmlLib, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, nvmlUnavailable(dlopenReason(path, LibNVMLEnv, err), err.Error())
	}
	l := &nvmlLib{path: path, lib: h}
	sym := func(name string) uintptr {
		addr, err := purego.Dlsym(h, name)
		if err != nil {
			return 0
		}
		return addr
	}
	var missing []string
	for _, s := range []struct {
		name string
		fn   any
	}{
		{"nvmlInit_v2", &l.nvmlInit},
		{"nvmlDeviceGetCount_v2", &l.nvmlDeviceGetCnt},
		{"nvmlDeviceGetHandleByIndex_v2", &l.nvmlDeviceGetHdl},
	} {
		if addr := sym(s.name); addr != 0 {
			purego.RegisterFunc(s.fn, addr)
		} else {
			missing = append(missing, s.name)
		}
	}
	for _, f := range nvmlProcFuncs {
		if addr := sym(f.name); addr != 0 {
			purego.RegisterFunc(&l.getProcs, addr)
			l.getProcsName, l.getProcsEntrySize = f.name, f.size
			break
		}
	}
	if l.getProcs == nil {
		missing = append(missing, "nvmlDeviceGetComputeRunningProcesses{_v3,_v2,}")
	}
	if len(missing) > 0 {
		_ = purego.Dlclose(h)
		return nil, nvmlUnavailable(fmt.Sprintf("%s lacks %s (driver too old, or not NVML)", path, strings.Join(missing, ", ")), "")
	}
	if addr := sym("nvmlErrorString"); addr != 0 {
		purego.RegisterFunc(&l.nvmlErrorString, addr)
	}
	if r := l.nvmlInit(); r != nvmlSuccess {
		err := l.err("nvmlInit_v2", r)
		_ = purego.Dlclose(h)
		return nil, nvmlUnavailable(path+" loaded, but nvmlInit_v2 failed", err.Error())
	}
	return l, nil
}

func (l *nvmlLib) err(call string, r nvmlReturn) error {
	if r == nvmlSuccess {
		return nil
	}
	return newNVMLError(call, r, l.nvmlErrorString)
}

// maxProcEntries bounds the process buffer (entries per device).
const maxProcEntries = 1 << 16

// deviceProcs lists the compute processes on one device, growing the buffer
// while the driver answers NVML_ERROR_INSUFFICIENT_SIZE.
func (l *nvmlLib) deviceProcs(dev uintptr) ([]procMem, error) {
	capacity := 32
	for tries := 0; tries < 8; tries++ {
		words := make([]uint64, capacity*procInfoMaxSize/8) // 8-byte aligned, room for the largest layout
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
		for i := range buf {
			buf[i] = procSentinel
		}
		n := uint32(capacity)
		r := l.getProcs(dev, &n, unsafe.Pointer(&words[0]))
		runtime.KeepAlive(words)
		switch {
		case r == nvmlSuccess:
			if int(n) > capacity {
				return nil, fmt.Errorf("%s: %d processes reported for room for %d", l.getProcsName, n, capacity)
			}
			return decodeProcInfos(buf, int(n), entryStride(buf, int(n), l.getProcsEntrySize))
		case r == nvmlInsufficientSize:
			next := max(int(n)+8, capacity*2) // processes may start between the calls
			if next > maxProcEntries {
				return nil, fmt.Errorf("%s: %d processes on one device: more than %d", l.getProcsName, n, maxProcEntries)
			}
			capacity = next
		default:
			return nil, l.err(l.getProcsName, r)
		}
	}
	return nil, fmt.Errorf("%s: the process list kept growing", l.getProcsName)
}

// processMemory is ProcessGPUMemory on this library.
func (l *nvmlLib) processMemory() (map[int]int64, error) {
	var n uint32
	if err := l.err("nvmlDeviceGetCount_v2", l.nvmlDeviceGetCnt(&n)); err != nil {
		return nil, errs.Wrap(errs.Failed, "gpu.nvml", err)
	}
	out := map[int]int64{}
	for i := uint32(0); i < n; i++ {
		var dev uintptr
		if err := l.err("nvmlDeviceGetHandleByIndex_v2", l.nvmlDeviceGetHdl(i, &dev)); err != nil {
			return nil, errs.Wrap(errs.Failed, "gpu.nvml", fmt.Errorf("device %d: %w", i, err))
		}
		procs, err := l.deviceProcs(dev)
		if err != nil {
			return nil, errs.Wrap(errs.Failed, "gpu.nvml", fmt.Errorf("device %d: %w", i, err))
		}
		sumByPID(out, procs)
	}
	return out, nil
}

// nvmlLoader loads one library once and keeps the outcome, an error
// included.
type nvmlLoader struct {
	path func() string
	once sync.Once
	lib  *nvmlLib
	err  error
}

func (n *nvmlLoader) load() (*nvmlLib, error) {
	n.once.Do(func() { n.lib, n.err = loadNVML(n.path()) })
	return n.lib, n.err
}

func (n *nvmlLoader) processMemory() (map[int]int64, error) {
	l, err := n.load()
	if err != nil {
		return nil, err
	}
	return l.processMemory()
}

var defaultNVML = &nvmlLoader{path: func() string { return libPath(LibNVMLEnv, "libnvidia-ml.so.1") }}

// ProcessGPUMemory returns the device memory of every compute process on
// every NVIDIA device, as the driver accounts it (NVML's usedGpuMemory,
// what nvidia-smi lists per process): pid → bytes summed over the devices,
// -1 for a process whose figure NVML reports as not available. Processes
// that use no device are absent. pids are those NVML reports, which are the
// host's: in a container with its own PID namespace they may not match.
//
// The library (libnvidia-ml.so.1, or $BOHOST_LIBNVML) is loaded and
// initialised at the first call. Where it cannot be, every call returns
// kind unavailable wrapping ErrNoNVML at once (the failure is cached); a
// failing query is kind failed with NVML's error name and text.
func ProcessGPUMemory() (map[int]int64, error) {
	return defaultNVML.processMemory()
}
