package gpu

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"bohost/host/errs"
)

// procBuf builds what a driver writes for procs with entries of stride
// bytes into a buffer of room entries of the largest layout, pre-filled
// with the sentinel as deviceProcs does: pid, usedGpuMemory (^0 for
// bytes < 0), and for the longer layouts gpuInstanceId and
// computeInstanceId (0xFFFFFFFF: no MIG) and usedGpuCcProtectedMemory (0).
func procBuf(stride, room int, procs []procMem) []byte {
	buf := make([]byte, room*procInfoMaxSize)
	for i := range buf {
		buf[i] = procSentinel
	}
	for i, p := range procs {
		e := buf[i*stride:]
		binary.LittleEndian.PutUint32(e[0:], uint32(p.pid)) // bytes 4..7 are padding, left as they were
		used := uint64(p.bytes)
		if p.bytes < 0 {
			used = nvmlValueNotAvailable
		}
		binary.LittleEndian.PutUint64(e[8:], used)
		if stride >= 24 {
			binary.LittleEndian.PutUint32(e[16:], 0xFFFFFFFF)
			binary.LittleEndian.PutUint32(e[20:], 0xFFFFFFFF)
		}
		if stride >= 32 {
			binary.LittleEndian.PutUint64(e[24:], 0)
		}
	}
	return buf
}

// TestNVMLDecodeLayouts decodes hand-built arrays of each nvmlProcessInfo
// layout, the entry size read off the bytes written whatever size the
// header declares for the call (the R535 _v3 wrote 32-byte entries where
// nvml.h says 24).
func TestNVMLDecodeLayouts(t *testing.T) {
	procs := []procMem{{pid: 4242, bytes: 512 << 20}, {pid: 7, bytes: -1}, {pid: 1 << 22, bytes: 80 << 30}}
	for _, stride := range []int{procInfoV1Size, procInfoV2Size, procInfoR535} {
		for _, declared := range []int{procInfoV1Size, procInfoV2Size} {
			buf := procBuf(stride, 8, procs)
			s := entryStride(buf, len(procs), declared)
			if s != stride {
				t.Errorf("stride %d declared %d: entryStride = %d", stride, declared, s)
				continue
			}
			got, err := decodeProcInfos(buf, len(procs), s)
			if err != nil || !reflect.DeepEqual(got, procs) {
				t.Errorf("stride %d: decoded %+v, %v; want %+v", stride, got, err, procs)
			}
		}
		// MIG instance ids of 0: still written bytes, not the sentinel.
		buf := procBuf(stride, 4, procs[:1])
		if stride >= 24 {
			binary.LittleEndian.PutUint64(buf[16:], 0)
		}
		if s := entryStride(buf, 1, procInfoV2Size); s != stride {
			t.Errorf("stride %d with zero instance ids: entryStride = %d", stride, s)
		}
	}
	// One entry filling the whole buffer (no sentinel left).
	if s := entryStride(procBuf(24, 1, procs[:1])[:24], 1, 16); s != 24 {
		t.Errorf("full buffer: entryStride = %d, want 24", s)
	}
}

func TestNVMLEntryStrideFallback(t *testing.T) {
	buf := procBuf(24, 4, nil)
	if s := entryStride(buf, 0, procInfoV2Size); s != procInfoV2Size {
		t.Errorf("no entries: %d, want the declared 24", s)
	}
	// Bytes that fit no layout (a driver that wrote 40 bytes for one entry,
	// or wrote nothing): the declared size.
	for i := 0; i < 40; i++ {
		buf[i] = 0
	}
	if s := entryStride(buf, 1, procInfoV1Size); s != procInfoV1Size {
		t.Errorf("40 bytes for 1 entry: %d, want the declared 16", s)
	}
	if s := entryStride(procBuf(24, 4, nil), 2, procInfoV2Size); s != procInfoV2Size {
		t.Errorf("nothing written for 2 entries: %d, want the declared 24", s)
	}
}

func TestNVMLDecodeErrors(t *testing.T) {
	buf := procBuf(24, 2, []procMem{{1, 1}, {2, 2}})
	if _, err := decodeProcInfos(buf[:40], 2, 24); err == nil || !strings.Contains(err.Error(), "do not fit 40 bytes") {
		t.Errorf("short buffer: %v", err)
	}
	if _, err := decodeProcInfos(buf, 1, 8); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("stride 8: %v", err)
	}
	if _, err := decodeProcInfos(buf, -1, 24); err == nil {
		t.Error("negative count: no error")
	}
	if got, err := decodeProcInfos(nil, 0, 24); err != nil || len(got) != 0 {
		t.Errorf("no entries: %v, %v", got, err)
	}
	// An absurd usedGpuMemory (past 2^62) is not a figure.
	binary.LittleEndian.PutUint64(buf[8:], 1<<63)
	if got, _ := decodeProcInfos(buf, 1, 24); got[0].bytes != -1 {
		t.Errorf("usedGpuMemory 2^63 decoded as %d, want -1", got[0].bytes)
	}
}

func TestNVMLSumByPID(t *testing.T) {
	m := map[int]int64{}
	sumByPID(m, []procMem{{10, 100}, {20, 5}, {30, -1}})                    // device 0
	sumByPID(m, []procMem{{10, 1000}, {30, 7}, {20, -1}, {40, 0}, {50, 1}}) // device 1
	sumByPID(m, []procMem{{50, 2}})                                         // device 2
	want := map[int]int64{10: 1100, 20: -1, 30: -1, 40: 0, 50: 3}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("sum = %v, want %v", m, want)
	}
}

func TestNVMLReturnNames(t *testing.T) {
	for code, want := range map[nvmlReturn]string{
		0: "NVML_SUCCESS", 4: "NVML_ERROR_NO_PERMISSION", 7: "NVML_ERROR_INSUFFICIENT_SIZE",
		9: "NVML_ERROR_DRIVER_NOT_LOADED", 13: "NVML_ERROR_FUNCTION_NOT_FOUND", 999: "NVML_ERROR_UNKNOWN", 12345: "NVML_ERROR_UNKNOWN_CODE",
	} {
		if name, text := nvmlReturnName(code); name != want || text == "" {
			t.Errorf("code %d: %q %q, want %q", code, name, text, want)
		}
	}
	e := newNVMLError("nvmlInit_v2", 9, nil)
	if e.Error() != "nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9): NVIDIA driver is not loaded" {
		t.Errorf("without nvmlErrorString: %q", e)
	}
	e = newNVMLError("nvmlInit_v2", 9, func(nvmlReturn) string { return "Driver Not Loaded" })
	if e.Error() != "nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded" {
		t.Errorf("with nvmlErrorString: %q", e)
	}
	if e := newNVMLError("x", 4, func(nvmlReturn) string { return " " }); !strings.HasSuffix(e.Error(), "permission for the operation") {
		t.Errorf("blank nvmlErrorString: %q", e)
	}
}

// wantNoNVML checks the error of a call where NVML cannot be used.
func wantNoNVML(t *testing.T, what string, err error, reason string) {
	t.Helper()
	var e *errs.Error
	switch {
	case !errors.As(err, &e):
		t.Errorf("%s: %v, want an *errs.Error", what, err)
	case e.Kind != errs.Unavailable || e.Op != "gpu.nvml" || e.Hint != hintNVML:
		t.Errorf("%s: kind %q op %q hint %q, want unavailable, gpu.nvml, the NVML hint", what, e.Kind, e.Op, e.Hint)
	case !errors.Is(err, ErrNoNVML) || errors.Is(err, ErrNoDriver):
		t.Errorf("%s: %v must wrap ErrNoNVML (and not ErrNoDriver)", what, err)
	case !strings.Contains(reasonOf(err), reason):
		t.Errorf("%s: reason %q, want %q in it", what, reasonOf(err), reason)
	}
}

// TestNVMLMissingLibrary: without the library every call is unavailable at
// once, the load tried only once.
func TestNVMLMissingLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	loads := 0
	l := &nvmlLoader{path: func() string { loads++; return missing }}
	start := time.Now()
	for i := 0; i < 1000; i++ {
		m, err := l.processMemory()
		if m != nil {
			t.Fatalf("call %d: map %v without a library", i, m)
		}
		if i == 0 || i == 999 {
			wantNoNVML(t, "processMemory", err, missing+" not found")
		}
	}
	if loads != 1 {
		t.Errorf("the library path was asked %d times, want once (the failure is cached)", loads)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("1000 calls without the library took %v", d)
	}
}

// TestNVMLNoLibrary runs this test binary again with BOHOST_LIBNVML naming
// a missing library, so that the package-level ProcessGPUMemory is checked
// without NVML on every machine, a GPU machine included.
func TestNVMLNoLibrary(t *testing.T) {
	if os.Getenv("BOHOST_GPU_NONVML_CHILD") != "1" {
		missing := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNVMLNoLibrary$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "BOHOST_GPU_NONVML_CHILD=1", LibNVMLEnv+"="+missing)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNVMLNoLibrary") {
			t.Fatalf("child with %s=%s: %v\n%s", LibNVMLEnv, missing, err, out)
		}
		return
	}
	lib := os.Getenv(LibNVMLEnv)
	for i := 0; i < 3; i++ {
		m, err := ProcessGPUMemory()
		if m != nil {
			t.Fatalf("map %v without a library", m)
		}
		wantNoNVML(t, "ProcessGPUMemory", err, lib+" ("+LibNVMLEnv+") not found")
	}
}

// nvmlStubC is a stand-in libnvidia-ml.so.1: two devices; device 0 runs
// pids 100 (1 MiB) and 200 (2 MiB), device 1 runs pid 100 (4 MiB), pid 300
// (NVML_VALUE_NOT_AVAILABLE) and EXTRA more pids 1000, 1001, ... (1 byte
// each), so that the first buffer of 32 entries is too small. Entries are
// STRIDE bytes; the query is exported as FN. INIT_RC is what nvmlInit_v2
// returns; NO_COUNT leaves nvmlDeviceGetCount_v2 out; DEV1_RC makes the
// query fail on device 1.
const nvmlStubC = `
#include <stdint.h>
#include <string.h>
#ifndef INIT_RC
#define INIT_RC 0
#endif
#ifndef DEV1_RC
#define DEV1_RC 0
#endif
static int devs[2];
int nvmlInit_v2(void) { return INIT_RC; }
#ifndef NO_COUNT
int nvmlDeviceGetCount_v2(unsigned *n) { *n = 2; return 0; }
#endif
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **d) { if (i > 1) return 2; *d = &devs[i]; return 0; }
const char *nvmlErrorString(int r) {
	switch (r) {
	case 3: return "Not Supported";
	case 9: return "Driver Not Loaded";
	}
	return "Unknown Error";
}
static void put(char *e, unsigned pid, unsigned long long used) {
	memcpy(e, &pid, 4);
	memcpy(e + 8, &used, 8);
	if (STRIDE >= 24) { unsigned none = 0xFFFFFFFFu; memcpy(e + 16, &none, 4); memcpy(e + 20, &none, 4); }
	if (STRIDE >= 32) { unsigned long long z = 0; memcpy(e + 24, &z, 8); }
}
int FN(void *d, unsigned *count, void *infos) {
	char *out = (char *)infos;
	unsigned n;
	if (d == &devs[0]) {
		n = 2;
		if (*count < n) { *count = n; return 7; }
		put(out, 100, 1u << 20);
		put(out + STRIDE, 200, 2u << 20);
	} else {
		if (DEV1_RC) return DEV1_RC;
		n = 2 + EXTRA;
		if (*count < n) { *count = n; return 7; }
		put(out, 100, 4u << 20);
		put(out + STRIDE, 300, ~0ull);
		for (unsigned i = 0; i < EXTRA; i++) put(out + (2 + i) * STRIDE, 1000 + i, 1);
	}
	*count = n;
	return 0;
}
`

// buildNVMLStub compiles the stub with defs into its own directory.
func buildNVMLStub(t *testing.T, defs ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		if cc, err = exec.LookPath("cc"); err != nil {
			t.Skip("no C compiler: cannot build the stub libnvidia-ml.so.1")
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "nvml.c")
	if err := os.WriteFile(src, []byte(nvmlStubC), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libnvidia-ml.so.1")
	args := append([]string{"-shared", "-fPIC", "-O1", "-o", lib, src}, defs...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, out)
	}
	return lib
}

// TestNVMLStub runs the purego binding against stub libraries: each
// exported query with the layout nvml.h declares for it, the R535 _v3 with
// 32-byte entries, a buffer grown after NVML_ERROR_INSUFFICIENT_SIZE,
// figures summed over the devices, and NVML_VALUE_NOT_AVAILABLE as -1.
func TestNVMLStub(t *testing.T) {
	const MiB = 1 << 20
	for _, c := range []struct {
		fn     string
		stride int
		extra  int
	}{
		{"nvmlDeviceGetComputeRunningProcesses_v3", 24, 40},
		{"nvmlDeviceGetComputeRunningProcesses_v3", 32, 40},
		{"nvmlDeviceGetComputeRunningProcesses_v2", 24, 100},
		{"nvmlDeviceGetComputeRunningProcesses", 16, 0},
	} {
		lib := buildNVMLStub(t, "-DFN="+c.fn, "-DSTRIDE="+strconv.Itoa(c.stride), "-DEXTRA="+strconv.Itoa(c.extra))
		l, err := loadNVML(lib)
		if err != nil {
			t.Fatalf("%s/%d: %v", c.fn, c.stride, err)
		}
		if l.getProcsName != c.fn {
			t.Errorf("bound %s, want %s", l.getProcsName, c.fn)
		}
		m, err := l.processMemory()
		if err != nil {
			t.Fatalf("%s/%d: %v", c.fn, c.stride, err)
		}
		want := map[int]int64{100: 5 * MiB, 200: 2 * MiB, 300: -1}
		for i := 0; i < c.extra; i++ {
			want[1000+i] = 1
		}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("%s/%d: %v, want %v", c.fn, c.stride, m, want)
		}
	}
}

// TestNVMLStubFailures: a library that lacks a function, one whose
// nvmlInit_v2 fails, and a query that fails on one device.
func TestNVMLStubFailures(t *testing.T) {
	lib := buildNVMLStub(t, "-DFN=nvmlDeviceGetComputeRunningProcesses_v3", "-DSTRIDE=24", "-DEXTRA=0", "-DNO_COUNT")
	_, err := loadNVML(lib)
	wantNoNVML(t, "no nvmlDeviceGetCount_v2", err, lib+" lacks nvmlDeviceGetCount_v2 (driver too old, or not NVML)")

	lib = buildNVMLStub(t, "-DFN=someOtherFunction", "-DSTRIDE=24", "-DEXTRA=0")
	_, err = loadNVML(lib)
	wantNoNVML(t, "no process query", err, "lacks nvmlDeviceGetComputeRunningProcesses{_v3,_v2,}")

	lib = buildNVMLStub(t, "-DFN=nvmlDeviceGetComputeRunningProcesses_v3", "-DSTRIDE=24", "-DEXTRA=0", "-DINIT_RC=9")
	ld := &nvmlLoader{path: func() string { return lib }}
	for i := 0; i < 3; i++ {
		_, err = ld.processMemory()
		wantNoNVML(t, "nvmlInit_v2 failing", err, lib+" loaded, but nvmlInit_v2 failed")
		if !strings.Contains(err.Error(), "nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded") {
			t.Errorf("init failure: %v, want NVML's name and text", err)
		}
	}

	lib = buildNVMLStub(t, "-DFN=nvmlDeviceGetComputeRunningProcesses_v3", "-DSTRIDE=24", "-DEXTRA=0", "-DDEV1_RC=3")
	l, err := loadNVML(lib)
	if err != nil {
		t.Fatal(err)
	}
	m, err := l.processMemory()
	if m != nil || !errs.Is(err, errs.Failed) || errors.Is(err, ErrNoNVML) ||
		!strings.Contains(err.Error(), "device 1: nvmlDeviceGetComputeRunningProcesses_v3: NVML_ERROR_NOT_SUPPORTED (3): Not Supported") {
		t.Errorf("query failing on device 1: %v, %v; want kind failed naming the device and the NVML error", m, err)
	}
}
