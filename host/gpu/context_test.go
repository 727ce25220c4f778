package gpu

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"bohost/host/airline"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// fakeDriver is host memory behind the driver interface: it checks that
// every device call comes from the thread that bound the context, and it has
// no kernels (launch fails like a driver would).
type fakeDriver struct {
	*fakeAlloc
	mu       sync.Mutex
	mem      map[uint64][]byte
	tid      int
	bound    bool
	wrongTID int
	unbinds  int
	panicOn  string
}

func newFakeDriver(size uint64) *fakeDriver {
	return &fakeDriver{fakeAlloc: newFakeAlloc(size), mem: map[uint64][]byte{}}
}

func (f *fakeDriver) onThread(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bound && threadID() != f.tid {
		f.wrongTID++
	}
	if f.panicOn == call {
		f.panicOn = ""
		panic("fake driver panic in " + call)
	}
}

func (f *fakeDriver) version() (int, error) { return 13000, nil }
func (f *fakeDriver) devices() ([]Device, error) {
	return []Device{{Ordinal: 0, Name: "fake", TotalBytes: int64(f.size), Major: 9}}, nil
}
func (f *fakeDriver) bind(int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tid, f.bound = threadID(), true
	return nil
}
func (f *fakeDriver) unbind(int) error { f.onThread("unbind"); f.unbinds++; return nil }
func (f *fakeDriver) alloc(n uint64) (uint64, error) {
	f.onThread("alloc")
	p, err := f.fakeAlloc.alloc(n)
	if err == nil {
		f.mem[p] = make([]byte, n)
	}
	return p, err
}
func (f *fakeDriver) free(p uint64) error {
	f.onThread("free")
	delete(f.mem, p)
	return f.fakeAlloc.free(p)
}
func (f *fakeDriver) memInfo() (uint64, uint64, error) {
	f.onThread("memInfo")
	return f.size - f.used, f.size, nil
}
func (f *fakeDriver) htod(dst uint64, src unsafe.Pointer, n uint64) error {
	f.onThread("htod")
	copy(f.mem[dst], unsafe.Slice((*byte)(src), n))
	return nil
}
func (f *fakeDriver) dtoh(dst unsafe.Pointer, src uint64, n uint64) error {
	f.onThread("dtoh")
	copy(unsafe.Slice((*byte)(dst), n), f.mem[src])
	return nil
}
func (f *fakeDriver) synchronize() error { f.onThread("synchronize"); return nil }
func (f *fakeDriver) loadModule(name string, ptx []byte) (uintptr, error) {
	f.onThread("loadModule")
	if !bytes.Contains(ptx, []byte(".entry")) {
		return 0, fmt.Errorf("fake: module %s has no entry", name)
	}
	return 1, nil
}
func (f *fakeDriver) unloadModule(uintptr) error { return nil }
func (f *fakeDriver) function(mod uintptr, name string) (uintptr, error) {
	f.onThread("function")
	return 2, nil
}
func (f *fakeDriver) launch(fn uintptr, grid, block [3]uint32, params []unsafe.Pointer) error {
	f.onThread("launch")
	return errors.New("fake: no kernels on this device")
}

func openFake(t *testing.T, size uint64) (*Context, *fakeDriver) {
	t.Helper()
	f := newFakeDriver(size)
	c, err := openWith(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, f
}

func TestContextOwnerThread(t *testing.T) {
	c, f := openFake(t, 1<<30)
	// Many goroutines: all device calls still run on the bound thread.
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				b, err := c.Alloc(int64(100 + g*1000 + i))
				if err != nil {
					errc <- err
					return
				}
				src := []byte(fmt.Sprintf("g%d-i%d", g, i))
				dst := make([]byte, len(src))
				if err := b.Write(src); err != nil {
					errc <- err
				}
				if err := b.Read(dst); err != nil {
					errc <- err
				}
				if !bytes.Equal(src, dst) {
					errc <- fmt.Errorf("round trip %q -> %q", src, dst)
				}
				if err := b.Free(); err != nil {
					errc <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if f.wrongTID != 0 {
		t.Fatalf("%d device calls ran off the owner thread", f.wrongTID)
	}
	m, err := c.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.Used != 0 || m.Cached == 0 || m.Peak == 0 || m.Total != 1<<30 || m.Free != m.Total-m.Cached {
		t.Fatalf("memory %+v: want Used 0, a cache, a peak, and driver Free = Total - Cached", m)
	}
}

func TestContextMemoryControls(t *testing.T) {
	const MiB = 1 << 20
	c, f := openFake(t, 64*MiB)
	if err := c.SetMemoryFraction(0.25); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.Memory(); m.Cap != 16*MiB {
		t.Fatalf("cap %d after SetMemoryFraction(0.25) of 64 MiB, want 16 MiB", m.Cap)
	}
	for _, bad := range []float64{0, -0.1, 1.5} {
		if err := c.SetMemoryFraction(bad); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "(0, 1]") {
			t.Errorf("SetMemoryFraction(%g): %v, want bad_arg naming (0, 1]", bad, err)
		}
	}
	if err := c.SetMemoryCap(-1); !errs.Is(err, errs.BadArg) {
		t.Errorf("SetMemoryCap(-1): %v, want bad_arg", err)
	}
	a, err := c.Alloc(10 * MiB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Alloc(10 * MiB); !errs.Is(err, errs.OOM) {
		t.Fatalf("second 10 MiB under a 16 MiB cap: %v, want oom", err)
	}
	// Beyond the device (no cap): oom from the driver, not a crash.
	if err := c.SetMemoryCap(0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Alloc(100 * MiB); !errs.Is(err, errs.OOM) {
		t.Fatalf("100 MiB on a 64 MiB device: %v, want oom", err)
	}
	if err := a.Free(); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(); err != nil {
		t.Fatalf("second Free: %v, want nil (idempotent)", err)
	}
	if err := a.Write([]byte{1}); !errs.Is(err, errs.BadState) {
		t.Errorf("Write after Free: %v, want bad_state", err)
	}
	m, _ := c.Memory()
	if m.Cached != 10*MiB || m.Free != 54*MiB {
		t.Fatalf("after Free: %+v, want 10 MiB cached and 54 MiB free on the device", m)
	}
	if err := c.EmptyCache(); err != nil {
		t.Fatal(err)
	}
	m, _ = c.Memory()
	if m.Cached != 0 || m.Free != m.Total || f.used != 0 {
		t.Fatalf("after EmptyCache: %+v, want nothing cached and the device free", m)
	}
	if m.Peak != 10*MiB {
		t.Fatalf("peak %d, want 10 MiB", m.Peak)
	}
	if err := c.ResetPeak(); err != nil {
		t.Fatal(err)
	}
	if m, _ = c.Memory(); m.Peak != 0 {
		t.Fatalf("peak %d after ResetPeak, want 0", m.Peak)
	}
	b, _ := c.Alloc(1000)
	if err := b.Write(make([]byte, 1001)); !errs.Is(err, errs.BadArg) {
		t.Errorf("oversized write: %v, want bad_arg", err)
	}
	l := c.Leaks()
	if len(l) != 1 || l[0].Bytes != 1000 || !strings.Contains(l[0].Site, "context_test.go:") {
		t.Fatalf("leaks %+v, want the 1000-byte buffer allocated in context_test.go", l)
	}
	if err := c.Synchronize(); err != nil {
		t.Fatal(err)
	}
}

func TestContextStageErrorsFreeBlocks(t *testing.T) {
	c, _ := openFake(t, 1<<30)
	g := imgbuf.NewGray(64, 48)
	_, err := c.ClassicalEdges(g, airline.EdgeParams{Sigma: 1, NMS: true, High: 50, Low: 20})
	if !errs.Is(err, errs.Failed) || !strings.Contains(err.Error(), "no kernels") || !strings.Contains(err.Error(), "bh_blur_h") {
		t.Fatalf("stage on a device without kernels: %v, want kind failed naming the kernel and the driver's message", err)
	}
	if l := c.Leaks(); l != nil {
		t.Fatalf("a failed stage left %d blocks live: %+v", len(l), l)
	}
	for name, err := range map[string]error{
		"Blur nil":        func() error { _, err := c.Blur(nil, 1); return err }(),
		"Blur bad":        func() error { _, err := c.Blur(&imgbuf.Gray{W: 3, H: 3}, 1); return err }(),
		"Sobel bad":       func() error { _, _, _, err := c.Sobel(&imgbuf.Float{W: 2}); return err }(),
		"Orientation T":   func() error { _, err := c.Orientation(imgbuf.NewFloat(8, 8), 1, 9); return err }(),
		"Orientation K":   func() error { _, err := c.Orientation(imgbuf.NewFloat(8, 8), 6, 8); return err }(),
		"OrientationHalf": func() error { _, err := c.OrientationHalfLen(imgbuf.NewFloat(8, 8), 6, 9, -1); return err }(),
		"ToGray type":     func() error { _, err := c.ToGray(nil); return err }(),
	} {
		if !errs.Is(err, errs.BadArg) {
			t.Errorf("%s: %v, want bad_arg", name, err)
		}
	}
}

func TestContextPanicAndClose(t *testing.T) {
	c, f := openFake(t, 1<<30)
	f.panicOn = "memInfo"
	if _, err := c.Memory(); !errs.Is(err, errs.Internal) {
		t.Fatalf("panic in the driver: %v, want kind internal", err)
	}
	if _, err := c.Memory(); err != nil {
		t.Fatalf("owner goroutine dead after a recovered panic: %v", err)
	}
	b, err := c.Alloc(4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if f.used != 0 || f.unbinds != 1 {
		t.Fatalf("after Close: driver holds %d bytes, %d unbinds; want 0 and 1", f.used, f.unbinds)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Memory(); !errs.Is(err, errs.BadState) {
		t.Fatalf("Memory after Close: %v, want bad_state", err)
	}
	if err := b.Free(); err != nil {
		t.Fatalf("Free after Close: %v, want nil", err)
	}
}

func TestPackArgs(t *testing.T) {
	k, err := packArgs(int32(-7), uint32(9), float32(1.5), int64(-1<<40), uint64(1<<63), 2.25, devPtr(0xdeadbeef00), 42)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{
		uint64(uint32(0xfffffff9)), 9, uint64(0x3fc00000), uint64(0xffffff0000000000), 1 << 63,
		0x4002000000000000, 0xdeadbeef00, 42,
	}
	for i, w := range want {
		if k.homes[i] != w {
			t.Errorf("arg %d: home %#x, want %#x", i, k.homes[i], w)
		}
		if k.ptrs[i] != unsafe.Pointer(&k.homes[i]) {
			t.Errorf("arg %d: pointer is not its own home", i)
		}
	}
	if _, err := packArgs(int(1) << 40); err == nil {
		t.Error("an int beyond int32 must be refused")
	}
	if _, err := packArgs("x"); err == nil {
		t.Error("a string argument must be refused")
	}
}

// A nil *Context (what a failed Open returns) fails cleanly instead of
// panicking.
func TestNilContext(t *testing.T) {
	var c *Context
	g := imgbuf.NewGray(8, 8)
	f := imgbuf.NewFloat(8, 8)
	calls := map[string]error{
		"Memory":         func() error { _, err := c.Memory(); return err }(),
		"SetMemoryCap":   c.SetMemoryCap(1),
		"EmptyCache":     c.EmptyCache(),
		"Synchronize":    c.Synchronize(),
		"Alloc":          func() error { _, err := c.Alloc(8); return err }(),
		"Blur":           func() error { _, err := c.Blur(g, 1); return err }(),
		"Sobel":          func() error { _, _, _, err := c.Sobel(f); return err }(),
		"ClassicalEdges": func() error { _, err := c.ClassicalEdges(g, airline.EdgeParams{}); return err }(),
		"Orientation":    func() error { _, err := c.Orientation(f, 6, 9); return err }(),
	}
	for name, err := range calls {
		if !errs.Is(err, errs.BadState) {
			t.Errorf("nil Context %s: %v, want bad_state", name, err)
		}
	}
	if c.Leaks() != nil || c.Close() != nil {
		t.Error("nil Context: Leaks/Close must be nil")
	}
}
