package gpu

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// stubC is a stand-in libcuda.so.1 for CI machines without a GPU: device
// memory is malloc'ed host memory (64 MiB "device", CUDA_ERROR_OUT_OF_MEMORY
// beyond), modules are accepted unless they contain "bad ptx" (then the JIT
// error log is filled), and the only kernel is "probe", which writes its
// (CUdeviceptr, int, float, double, long long) arguments and launch
// dimensions into the buffer of its first argument. With -DBH_HOST_EMU the
// kernels of kernels/*.cu are compiled for the host and every launch runs
// them thread by thread (a CPU emulation of the device that checks the
// kernels and the Go side of each stage together). With -DMINIMAL it only
// exports cuInit, cuDriverGetVersion and cuDeviceGetCount (0 devices).
const stubC = `
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#ifdef BH_HOST_EMU
#include "color.cu"
#include "blur.cu"
#include "sobel.cu"
#include "edges.cu"
#include "orient.cu"
int bh_emu_tid[2], bh_emu_ntid[2], bh_emu_ctaid[2];
#define A(i, T) (*(T *)p[i])
#define EACH(call) \
	for (unsigned y_ = 0; y_ < gy; y_++) \
		for (unsigned x_ = 0; x_ < gx; x_++) \
			for (unsigned ty_ = 0; ty_ < by; ty_++) \
				for (unsigned tx_ = 0; tx_ < bx; tx_++) { \
					bh_emu_ctaid[0] = x_, bh_emu_ctaid[1] = y_, bh_emu_tid[0] = tx_, bh_emu_tid[1] = ty_; \
					call; \
				}
typedef const bh_u8 *cu8;
typedef const float *cf32;
// emu runs a kernel of kernels/*.cu on the host, thread after thread.
static int emu(const char *f, unsigned gx, unsigned gy, unsigned bx, unsigned by, void **p) {
	bh_emu_ntid[0] = bx, bh_emu_ntid[1] = by;
	if (!strcmp(f, "bh_rgba_to_gray")) EACH(bh_rgba_to_gray(A(0, cu8), A(1, int), A(2, bh_u8 *), A(3, int), A(4, int)))
	else if (!strcmp(f, "bh_u8_to_f32")) EACH(bh_u8_to_f32(A(0, cu8), A(1, float *), A(2, int)))
	else if (!strcmp(f, "bh_blur_h")) EACH(bh_blur_h(A(0, cu8), A(1, float *), A(2, int), A(3, int), A(4, cf32), A(5, int)))
	else if (!strcmp(f, "bh_blur_v")) EACH(bh_blur_v(A(0, cf32), A(1, float *), A(2, int), A(3, int), A(4, cf32), A(5, int)))
	else if (!strcmp(f, "bh_sobel")) EACH(bh_sobel(A(0, cf32), A(1, float *), A(2, float *), A(3, float *), A(4, int), A(5, int)))
	else if (!strcmp(f, "bh_nms")) EACH(bh_nms(A(0, cf32), A(1, cf32), A(2, cf32), A(3, bh_u8 *), A(4, int), A(5, int), A(6, int), A(7, int), A(8, float)))
	else if (!strcmp(f, "bh_hyst")) EACH(bh_hyst(A(0, bh_u8 *), A(1, cf32), A(2, int), A(3, int), A(4, float), A(5, int *)))
	else if (!strcmp(f, "bh_logit")) EACH(bh_logit(A(0, cf32), A(1, cu8), A(2, float *), A(3, int), A(4, int), A(5, float), A(6, double), A(7, double)))
	else if (!strcmp(f, "bh_orient")) EACH(bh_orient(A(0, cf32), A(1, float *), A(2, int), A(3, int), A(4, int), A(5, const int *), A(6, const int *), A(7, const int *)))
	else return 500;
	return 0;
}
#endif
#ifdef __cplusplus
extern "C" {
#endif
typedef int CUresult;
CUresult cuInit(unsigned f) { (void)f; return 0; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = NDEV; return 0; }
#ifndef MINIMAL
#ifndef TOTAL_MIB
#define TOTAL_MIB 64
#endif
#define TOTAL ((size_t)TOTAL_MIB << 20)
static size_t used;
CUresult cuDeviceGet(int *d, int o) { if (o < 0 || o >= NDEV) return 101; *d = o; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { (void)d; strncpy(s, "bohost stub GPU", n); return 0; }
CUresult cuDeviceTotalMem_v2(size_t *b, int d) { (void)d; *b = TOTAL; return 0; }
CUresult cuDeviceGetAttribute(int *v, int a, int d) { (void)d; *v = a == 75 ? 9 : 0; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { (void)d; *c = (void *)0x1234; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { (void)d; return 0; }
CUresult cuCtxSetCurrent(void *c) { (void)c; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = TOTAL - used; *t = TOTAL; return 0; }
CUresult cuMemAlloc_v2(uint64_t *p, size_t n) {
	if (used + n > TOTAL) return 2;
	size_t *b = (size_t *)malloc(n + 16);
	if (!b) return 2;
	b[0] = n; used += n; *p = (uint64_t)(uintptr_t)(b + 2); return 0;
}
CUresult cuMemFree_v2(uint64_t p) { size_t *b = (size_t *)(uintptr_t)p - 2; used -= b[0]; free(b); return 0; }
CUresult cuMemcpyHtoD_v2(uint64_t d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, uint64_t s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuModuleLoadDataEx(void **m, const void *img, unsigned n, int *opt, void **val) {
	if (strstr((const char *)img, "bad ptx")) {
		for (unsigned i = 0; i < n; i++) if (opt[i] == 5) strcpy((char *)val[i], "ptxas fatal: stub rejects bad ptx");
		return 218;
	}
	*m = (void *)0x5678; return 0;
}
CUresult cuModuleUnload(void *m) { (void)m; return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) { (void)m; *f = strdup(name); return 0; }
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned sh, void *st, void **p, void **ex) {
	(void)sh; (void)st; (void)ex; (void)gz; (void)bz;
#ifdef BH_HOST_EMU
	if (strcmp((const char *)f, "probe") != 0) return emu((const char *)f, gx, gy, bx, by, p);
#else
	if (strcmp((const char *)f, "probe") != 0) return 500;
#endif
	char *out = (char *)(uintptr_t)*(uint64_t *)p[0];
	memcpy(out, p[1], 4); memcpy(out + 4, p[2], 4); memcpy(out + 8, p[3], 8); memcpy(out + 16, p[4], 8);
	unsigned dims[6] = {gx, gy, gz, bx, by, bz};
	memcpy(out + 24, dims, sizeof dims);
	return 0;
}
static const char *names(int r) {
	switch (r) {
	case 0: return "CUDA_SUCCESS";
	case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
	case 101: return "CUDA_ERROR_INVALID_DEVICE";
	case 218: return "CUDA_ERROR_INVALID_PTX";
	case 500: return "CUDA_ERROR_NOT_FOUND";
	}
	return 0;
}
CUresult cuGetErrorName(int r, const char **s) { *s = names(r); return *s ? 0 : 1; }
CUresult cuGetErrorString(int r, const char **s) {
	switch (r) {
	case 2: *s = "out of memory"; return 0;
	case 218: *s = "a PTX JIT compilation failed"; return 0;
	case 500: *s = "named symbol not found"; return 0;
	}
	*s = names(r); return *s ? 0 : 1;
}
#endif
#ifdef __cplusplus
}
#endif
`

var (
	stubOnce sync.Map // variant -> path
	stubDirs sync.Map // directories made by buildStub, removed by TestMain
)

// TestMain removes the stub libraries this process built.
func TestMain(m *testing.M) {
	code := m.Run()
	stubDirs.Range(func(dir, _ any) bool {
		os.RemoveAll(dir.(string))
		return true
	})
	os.Exit(code)
}

// buildStub compiles the stub library once per variant and returns its path.
func buildStub(t *testing.T, variant string, defs ...string) string {
	t.Helper()
	if p, ok := stubOnce.Load(variant); ok {
		return p.(string)
	}
	cc, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not installed: cannot build the stub libcuda.so.1")
	}
	kdir, err := filepath.Abs("kernels")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(kdir, "bh_cuda.h")); err != nil {
		t.Skipf("kernel sources not found at %s (run the test from host/gpu): cannot build the stub libcuda.so.1", kdir)
	}
	dir, err := os.MkdirTemp("", "bohost-stubcuda-")
	if err != nil {
		t.Fatal(err)
	}
	stubDirs.Store(dir, true)
	src := filepath.Join(dir, "stub.cc")
	if err := os.WriteFile(src, []byte(stubC), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, variant, "libcuda.so.1")
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-shared", "-fPIC", "-O2", "-ffp-contract=off", "-I", kdir, "-o", lib, src}, defs...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	stubOnce.Store(variant, lib)
	return lib
}

func TestStubDriverMissing(t *testing.T) {
	_, err := loadCUDA(filepath.Join(t.TempDir(), "libcuda.so.1"))
	if !errors.Is(err, ErrNoDriver) || !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "hint: install the NVIDIA driver") {
		t.Fatalf("missing library: %v, want unavailable wrapping ErrNoDriver with the driver hint", err)
	}
	lib := buildStub(t, "minimal", "-DNDEV=0", "-DMINIMAL")
	_, err = loadCUDA(lib)
	if !errors.Is(err, ErrNoDriver) || !strings.Contains(err.Error(), "cuMemAlloc_v2") {
		t.Fatalf("library without the memory functions: %v, want ErrNoDriver naming the missing symbols", err)
	}
	if r := reasonOf(err); !strings.HasPrefix(r, lib+" lacks cuDeviceGet, ") || !strings.HasSuffix(r, "(driver too old, or not libcuda)") {
		t.Fatalf("reason %q, want the missing symbols", r)
	}
}

func TestStubDriverNoDevice(t *testing.T) {
	d, err := loadCUDA(buildStub(t, "nodev", "-DNDEV=0"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.version()
	if err != nil || v != 13000 {
		t.Fatalf("version %d, %v; want 13000", v, err)
	}
	ds, err := d.devices()
	if err != nil || len(ds) != 0 {
		t.Fatalf("devices %v, %v; want none", ds, err)
	}
	_, err = openWith(d, 0)
	if !errors.Is(err, ErrNoDevice) || !errs.Is(err, errs.Unavailable) {
		t.Fatalf("open with no device: %v, want unavailable wrapping ErrNoDevice", err)
	}
	if s := probeWith("stub", func() (driver, error) { return d, nil }); s.Path != PathCPU || !errors.Is(s.Err, ErrNoDevice) ||
		s.String() != "CPU: stub loaded (driver CUDA 13.0), but it reports no device (check nvidia-smi and CUDA_VISIBLE_DEVICES)" {
		t.Fatalf("Probe with no device: %+v (%q)", s, s)
	}
}

// openStub opens device 0 of the one-device stub; emu: with the kernels
// emulated on the host (else every kernel launch but "probe" fails).
func openStub(t *testing.T, emu bool) (*Context, *cudaDriver) {
	t.Helper()
	lib := buildStub(t, "nokernels", "-DNDEV=1")
	if emu {
		lib = buildStub(t, "onedev", "-DNDEV=1", "-DBH_HOST_EMU")
	}
	d, err := loadCUDA(lib)
	if err != nil {
		t.Fatal(err)
	}
	c, err := openWith(d, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, d
}

func TestStubDriverContext(t *testing.T) {
	const MiB = 1 << 20
	c, d := openStub(t, false)
	if dev := c.Device(); dev.Name != "bohost stub GPU" || dev.TotalBytes != 64*MiB || dev.Major != 9 {
		t.Fatalf("device %+v", dev)
	}
	if _, err := openWith(d, 3); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "[0, 0]") {
		t.Fatalf("ordinal 3 of 1: %v, want bad_arg naming the range", err)
	}
	m0, err := c.Memory()
	if err != nil || m0.Free != 64*MiB || m0.Total != 64*MiB {
		t.Fatalf("memory %+v, %v", m0, err)
	}

	// Round trip through the driver's memcpy.
	b, err := c.Alloc(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 1<<16)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, len(src))
	if err := b.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(dst); err != nil || string(dst) != string(src) {
		t.Fatalf("round trip differs (%v)", err)
	}

	// Kernel arguments: each in its own home of the right size.
	err = c.do("probe", func() error {
		f, err := c.drv.function(0, "probe")
		if err != nil {
			return err
		}
		ka, err := packArgs(devPtr(b.ptr), int32(-123456), float32(3.25), -2.5e300, int64(-1)<<50)
		if err != nil {
			return err
		}
		return c.drv.launch(f, [3]uint32{7, 8, 9}, [3]uint32{16, 4, 1}, ka.ptrs)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Read(dst[:48]); err != nil {
		t.Fatal(err)
	}
	p := unsafe.Pointer(&dst[0])
	if got := *(*int32)(p); got != -123456 {
		t.Errorf("int argument arrived as %d", got)
	}
	if got := *(*float32)(unsafe.Add(p, 4)); got != 3.25 {
		t.Errorf("float argument arrived as %g", got)
	}
	if got := *(*float64)(unsafe.Add(p, 8)); got != -2.5e300 {
		t.Errorf("double argument arrived as %g", got)
	}
	if got := *(*int64)(unsafe.Add(p, 16)); got != int64(-1)<<50 {
		t.Errorf("long long argument arrived as %d", got)
	}
	if got := unsafe.Slice((*uint32)(unsafe.Add(p, 24)), 6); got[0] != 7 || got[1] != 8 || got[2] != 9 || got[3] != 16 || got[4] != 4 || got[5] != 1 {
		t.Errorf("launch dimensions arrived as %v", got)
	}
	if err := b.Free(); err != nil {
		t.Fatal(err)
	}

	// Cap and device OOM through the real binding: errors, not crashes.
	if err := c.SetMemoryCap(8 * MiB); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Alloc(9 * MiB); !errs.Is(err, errs.OOM) {
		t.Fatalf("9 MiB under an 8 MiB cap: %v, want oom", err)
	}
	if err := c.SetMemoryCap(0); err != nil {
		t.Fatal(err)
	}
	_, err = c.Alloc(65 * MiB)
	if !errs.Is(err, errs.OOM) || !strings.Contains(err.Error(), "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory") {
		t.Fatalf("65 MiB on a 64 MiB device: %v, want oom with the driver's error string", err)
	}
	bufs := make([]*Buffer, 0, 8)
	for i := 0; i < 8; i++ {
		x, err := c.Alloc(3 * MiB)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, x)
	}
	for _, x := range bufs {
		if err := x.Free(); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := c.Memory()
	if m.Free >= m0.Free || m.Cached == 0 {
		t.Fatalf("cached blocks must still hold driver memory: %+v", m)
	}
	if err := c.EmptyCache(); err != nil {
		t.Fatal(err)
	}
	m, _ = c.Memory()
	if m.Free != m0.Free || m.Cached != 0 || m.Used != 0 {
		t.Fatalf("after EmptyCache %+v, want the driver's free memory back at %d", m, m0.Free)
	}

	// A driver error during a stage: kind failed with the driver's name and
	// text, and every block of the stage returned to the pool.
	_, err = c.Blur(imgbuf.NewGray(32, 16), 1)
	if !errs.Is(err, errs.Failed) || !strings.Contains(err.Error(), "CUDA_ERROR_NOT_FOUND (500): named symbol not found") {
		t.Fatalf("stage on the stub: %v, want failed with the driver's error string", err)
	}
	if l := c.Leaks(); l != nil {
		t.Fatalf("failed stage leaked %+v", l)
	}
}

func TestStubDriverJITLog(t *testing.T) {
	c, _ := openStub(t, true)
	dir := t.TempDir()
	for _, m := range PTXModules() {
		if err := os.WriteFile(filepath.Join(dir, m+".ptx"), []byte("// bad ptx\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(PTXDirEnv, dir)
	_, err := c.Orientation(imgbuf.NewFloat(16, 16), 6, 9)
	for _, want := range []string{"CUDA_ERROR_INVALID_PTX", "ptxas fatal: stub rejects bad ptx", filepath.Join(dir, "orient.ptx")} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("loading rejected PTX: %v, want it to name %q", err, want)
		}
	}
}

// TestStubGlobalLoader runs this test binary again with BOHOST_LIBCUDA
// pointing at the stub, so the package-level entry points (the sync.Once
// loader) are exercised on CI too.
func TestStubGlobalLoader(t *testing.T) {
	if os.Getenv("BOHOST_GPU_STUB_CHILD") == "1" {
		if !Available() {
			t.Fatal("Available() = false with the one-device stub")
		}
		if got, want := Probe().String(), "CUDA: device 0 bohost stub GPU, driver CUDA 13.0, compute 9.0"; got != want {
			t.Fatalf("Probe() = %q, want %q", got, want)
		}
		ds, err := Devices()
		if err != nil || len(ds) != 1 || ds[0].Name != "bohost stub GPU" {
			t.Fatalf("Devices() = %+v, %v", ds, err)
		}
		if err := SetMemoryFraction(0.5); err != nil {
			t.Fatal(err)
		}
		m, err := Memory()
		if err != nil || m.Cap != 32<<20 || m.Total != 64<<20 {
			t.Fatalf("Memory() = %+v, %v; want cap 32 MiB of 64", m, err)
		}
		c1, _ := Open(0)
		c2, _ := Default()
		if c1 != c2 {
			t.Fatal("Open(0) and Default() returned different contexts")
		}
		if _, err := Open(1); !errs.Is(err, errs.BadArg) {
			t.Fatalf("Open(1): %v, want bad_arg", err)
		}
		if Leaks() != nil {
			t.Fatal("leaks in a fresh context")
		}
		return
	}
	lib := buildStub(t, "onedev", "-DNDEV=1", "-DBH_HOST_EMU")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestStubGlobalLoader$", "-test.v")
	cmd.Env = append(os.Environ(), "BOHOST_GPU_STUB_CHILD=1", LibCUDAEnv+"="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestStubGlobalLoader") {
		t.Fatalf("child with %s=%s: %v\n%s", LibCUDAEnv, lib, err, out)
	}
	// A library that does not exist: TestNoDriver.
}

// TestStubStages runs every GPU stage through the real binding on the
// stub, whose launches execute kernels/*.cu compiled for the host: the
// kernels and the Go side of each stage must reproduce host/airline bit for
// bit (the device check repeats this on the GPU within floatTol).
func TestStubStages(t *testing.T) {
	c, _ := openStub(t, true)
	var floats, ints cmpResult
	for _, im := range stageImages(t, 2, 0) {
		f, i := compareStages(t, c, im.name, im.img)
		floats.add(f)
		ints.add(i)
	}
	ints.add(compareToGray(t, c, 97, 61, 1))
	t.Logf("emulated kernels vs CPU: %d float values (%d not bit-identical, max rel. error %.3g), %d integer values (%d differ)",
		floats.n, floats.inexact, floats.maxErr, ints.n, ints.inexact)
	if floats.inexact != 0 || ints.inexact != 0 {
		t.Errorf("the emulated kernels must match the CPU bit for bit")
	}
	if l := c.Leaks(); l != nil {
		t.Errorf("stages leaked %+v", l)
	}
	if m, err := c.Memory(); err != nil || m.Used != 0 || m.Cached == 0 {
		t.Errorf("memory after the stages %+v, %v: want nothing in use and the blocks cached", m, err)
	}
}
