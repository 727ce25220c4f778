//go:build cuda

package gpu

// Tests and benchmarks that need a real NVIDIA device: the only files behind
// the cuda build tag, which no production file has (TestBindingInEveryBuild).
// They skip (with the reason) where the driver or a device is missing, so
// `go test -tags cuda` passes on CPU machines; scripts/gpu-check.sh runs
// them on the GPU machine from a test binary built here (make
// gpu-check-binary; -test.run CUDA -test.bench .), and TestStubDeviceSuite
// below runs them against the emulating stub driver on any machine with g++.

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"bohost/host/airline"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

const MiB = 1 << 20

// deviceCtx returns the context of device 0, or skips without a device.
func deviceCtx(tb testing.TB) *Context {
	tb.Helper()
	c, err := Default()
	if err != nil {
		if isUnavailable(err) {
			tb.Skipf("no CUDA device here (%v)", err)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.SetMemoryCap(0); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// envInt reads a positive integer override, e.g. BOHOST_GPU_EVALS.
func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		tb.Fatalf("%s must be an integer >= 0, got %q", name, s)
	}
	return v
}

// warm loads every kernel module (the PTX JIT) so that later memory
// figures do not include the modules' code.
func warm(tb testing.TB, c *Context) time.Duration {
	tb.Helper()
	t0 := time.Now()
	err := c.do("warm", func() error {
		for k := range kernelModule {
			if _, err := c.kernel(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return time.Since(t0)
}

func TestCUDADevice(t *testing.T) {
	c := deviceCtx(t)
	v, err := DriverVersion()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("driver CUDA %d.%d, %d device(s)", v/1000, v%1000/10, len(ds))
	for _, d := range ds {
		t.Logf("device %d: %s, compute %d.%d, %d MiB", d.Ordinal, d.Name, d.Major, d.Minor, d.TotalBytes/MiB)
	}
	for _, m := range PTXModules() {
		src, from, err := PTXSource(m)
		if err != nil {
			t.Fatal(err)
		}
		target := "?"
		for _, l := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(l, ".target") || strings.HasPrefix(l, ".version") {
				target = strings.TrimSpace(target + " " + l)
			}
		}
		t.Logf("PTX %s: %s (%s)", m, from, strings.TrimPrefix(target, "? "))
	}
	t.Logf("JIT of all modules: %v", warm(t, c))
	if err := c.Synchronize(); err != nil {
		t.Fatal(err)
	}
	m, err := c.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != ds[0].TotalBytes || m.Free <= 0 || m.Free > m.Total {
		t.Fatalf("memory %+v inconsistent with device total %d", m, ds[0].TotalBytes)
	}
	t.Logf("memory: %+v", m)
}

// TestCUDAStagesMatchCPU compares every stage with host/airline on the
// synthetic data set and York Urban (when present): integer outputs bit-exact,
// floats within floatTol, and logs how many values are not bit-identical.
// BOHOST_GPU_SYNTH / BOHOST_GPU_YORK set the image counts (12 / 20).
func TestCUDAStagesMatchCPU(t *testing.T) {
	c := deviceCtx(t)
	var floats, ints cmpResult
	imgs := stageImages(t, envInt(t, "BOHOST_GPU_SYNTH", 12), envInt(t, "BOHOST_GPU_YORK", 20))
	for _, im := range imgs {
		f, i := compareStages(t, c, im.name, im.img)
		floats.add(f)
		ints.add(i)
	}
	ints.add(compareToGray(t, c, 640, 480, 1))
	t.Logf("%d images: %d float values, %d not bit-identical, max relative error %.3g; %d integer values, %d differ",
		len(imgs), floats.n, floats.inexact, floats.maxErr, ints.n, ints.inexact)
	if l := c.Leaks(); l != nil {
		t.Errorf("stages leaked %+v", l)
	}
}

func TestCUDAMemoryCapOOM(t *testing.T) {
	c := deviceCtx(t)
	warm(t, c)
	if err := c.SetMemoryCap(64 * MiB); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Alloc(100 * MiB); !errs.Is(err, errs.OOM) {
		t.Fatalf("100 MiB under a 64 MiB cap: %v, want oom", err)
	}
	b, err := c.Alloc(32 * MiB)
	if err != nil {
		t.Fatalf("32 MiB under a 64 MiB cap: %v", err)
	}
	if err := b.Free(); err != nil {
		t.Fatal(err)
	}
	// A stage past the cap fails cleanly and frees what it had.
	big := imgbuf.NewGray(4000, 3000)
	if err := c.SetMemoryCap(16 * MiB); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClassicalEdges(big, airline.EdgeParams{Sigma: 1, NMS: true}); !errs.Is(err, errs.OOM) {
		t.Fatalf("12 Mpx edge map under a 16 MiB cap: %v, want oom", err)
	}
	if l := c.Leaks(); l != nil {
		t.Fatalf("failed stage leaked %+v", l)
	}
	if err := c.SetMemoryCap(0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClassicalEdges(big, airline.EdgeParams{Sigma: 1, NMS: true}); err != nil {
		t.Fatalf("same stage without the cap: %v", err)
	}
	// Beyond the device itself: the driver's out-of-memory, as kind oom.
	m, err := c.Memory()
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Alloc(m.Total + 1<<30)
	if !errs.Is(err, errs.OOM) {
		t.Fatalf("allocating more than the device (%d MiB): %v, want oom", m.Total/MiB, err)
	}
	t.Logf("over-device allocation: %v", err)
	if _, err := c.Memory(); err != nil {
		t.Fatalf("context unusable after the oom: %v", err)
	}
}

func TestCUDAEmptyCache(t *testing.T) {
	c := deviceCtx(t)
	warm(t, c)
	if err := c.EmptyCache(); err != nil {
		t.Fatal(err)
	}
	m0, err := c.Memory()
	if err != nil {
		t.Fatal(err)
	}
	var bufs []*Buffer
	for i := 0; i < 16; i++ {
		b, err := c.Alloc(64 * MiB)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Write(make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
	}
	for _, b := range bufs {
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
	}
	m1, _ := c.Memory()
	if m1.Cached != 1<<30 || m1.Used != 0 || m0.Free-m1.Free < 1<<30-MiB {
		t.Fatalf("after freeing 1 GiB: %+v (start %+v): want 1 GiB cached and held from the driver", m1, m0)
	}
	if err := c.EmptyCache(); err != nil {
		t.Fatal(err)
	}
	m2, _ := c.Memory()
	if d := m2.Free - m0.Free; d < -MiB || d > MiB || m2.Cached != 0 {
		t.Fatalf("after EmptyCache the driver's free memory is %d bytes from its start value (%+v vs %+v), want within 1 MiB", d, m2, m0)
	}
	t.Logf("free: start %d MiB, with 1 GiB cached %d MiB, after EmptyCache %d MiB (peak %d MiB)", m0.Free/MiB, m1.Free/MiB, m2.Free/MiB, m2.Peak/MiB)
}

// TestCUDAFlatMemory runs the classical edge and orientation stages
// BOHOST_GPU_EVALS times (default 1000) and requires flat device memory.
func TestCUDAFlatMemory(t *testing.T) {
	c := deviceCtx(t)
	n := envInt(t, "BOHOST_GPU_EVALS", 1000)
	img := stageImages(t, 1, 0)[0].img
	p := airline.EdgeParams{Sigma: 1, NMS: true, Low: 20, High: 60}
	eval := func() {
		e, err := c.ClassicalEdges(img, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Orientation(e, 6, 9); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		eval()
	}
	if err := c.ResetPeak(); err != nil {
		t.Fatal(err)
	}
	m0, _ := c.Memory()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		eval()
	}
	el := time.Since(t0)
	m1, _ := c.Memory()
	if d := m1.Free - m0.Free; d < -MiB || d > MiB || m1.Used != 0 || m1.Cached != m0.Cached {
		t.Fatalf("memory not flat over %d evaluations: start %+v, end %+v", n, m0, m1)
	}
	if l := c.Leaks(); l != nil {
		t.Fatalf("leaks %+v", l)
	}
	t.Logf("%d evaluations (edges + orientation, 640x480) in %v (%.2f ms each); pool cached %d MiB, peak %d MiB, device free %d MiB before and after",
		n, el, float64(el.Microseconds())/1000/float64(max(n, 1)), m1.Cached/MiB, m1.Peak/MiB, m1.Free/MiB)
}

// BenchmarkCUDAStages times each stage per 640x480 image on the CPU
// (host/airline) and on the device (including transfers). gpu-check.sh turns
// the pairs into a table of ratios.
func BenchmarkCUDAStages(b *testing.B) {
	img := stageImages(b, 1, 0)[0].img
	p := airline.EdgeParams{Sigma: 1, NMS: true, Low: 20, High: 60}
	edge := airline.ClassicalEdges(img, p)
	blur := airline.Blur(img, 1)
	run := func(s Stages) map[string]func() error {
		return map[string]func() error{
			"blur":        func() error { _, err := s.Blur(img, 1); return err },
			"sobel":       func() error { _, _, _, err := s.Sobel(blur); return err },
			"edges":       func() error { _, err := s.ClassicalEdges(img, p); return err },
			"orientation": func() error { _, err := s.Orientation(edge, 6, 9); return err },
		}
	}
	var gpu Stages
	if c, err := Default(); err == nil {
		gpu = c
	} else if !isUnavailable(err) {
		b.Fatal(err)
	}
	for _, stage := range []string{"blur", "sobel", "edges", "orientation"} {
		for _, dev := range []string{"cpu", "gpu"} {
			b.Run(stage+"/"+dev, func(b *testing.B) {
				var s Stages = CPU{}
				if dev == "gpu" {
					if gpu == nil {
						b.Skip("no CUDA device")
					}
					s = gpu
				}
				f := run(s)[stage]
				if err := f(); err != nil { // warm-up (JIT, pool)
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestStubDeviceSuite runs the device tests (TestCUDA*) in a child process
// against a 4 GiB emulating stub, so their logic is exercised on CI too;
// only the GPU machine gives them real meaning (scripts/gpu-check.sh).
func TestStubDeviceSuite(t *testing.T) {
	if os.Getenv("BOHOST_GPU_STUB_CHILD") == "1" {
		t.Skip("already in a child process")
	}
	lib := buildStub(t, "emu4g", "-DNDEV=1", "-DBH_HOST_EMU", "-DTOTAL_MIB=4096")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCUDA", "-test.v")
	cmd.Env = append(os.Environ(), "BOHOST_GPU_STUB_CHILD=1", LibCUDAEnv+"="+lib,
		"BOHOST_GPU_SYNTH=1", "BOHOST_GPU_YORK=0", "BOHOST_GPU_EVALS=10")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "--- SKIP") || strings.Count(string(out), "--- PASS: TestCUDA") < 5 {
		t.Fatalf("device tests on the emulating stub: %v\n%s", err, out)
	}
}
