package gpu

import (
	"errors"
	"fmt"
	"testing"

	"bohost/host/errs"
)

// fakeAlloc is an in-memory allocator with a device size, counting calls.
type fakeAlloc struct {
	size    uint64 // device bytes; allocations beyond fail with errDeviceOOM
	used    uint64
	next    uint64
	blocks  map[uint64]uint64
	allocs  int
	frees   int
	failErr error // returned by free when set
}

func newFakeAlloc(size uint64) *fakeAlloc {
	return &fakeAlloc{size: size, next: 1 << 32, blocks: map[uint64]uint64{}}
}

func (f *fakeAlloc) alloc(n uint64) (uint64, error) {
	f.allocs++
	if f.used+n > f.size {
		return 0, fmt.Errorf("fake cuMemAlloc of %d bytes: %w", n, errDeviceOOM)
	}
	p := f.next
	f.next += n + 256
	f.blocks[p] = n
	f.used += n
	return p, nil
}

func (f *fakeAlloc) free(p uint64) error {
	f.frees++
	n, ok := f.blocks[p]
	if !ok {
		return fmt.Errorf("fake cuMemFree of unknown pointer %#x", p)
	}
	delete(f.blocks, p)
	f.used -= n
	return f.failErr
}

func TestSizeClass(t *testing.T) {
	for _, c := range []struct{ n, want uint64 }{
		{1, 512}, {512, 512}, {513, 640}, {640, 640}, {641, 768}, {1024, 1024}, {1025, 1280},
		{640 * 480, 327680}, {640 * 480 * 4, 1310720}, {1 << 30, 1 << 30}, {1<<30 + 1, 1<<30 + 1<<28},
	} {
		if got := sizeClass(c.n); got != c.want {
			t.Errorf("sizeClass(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	// Every class holds its request with at most 25% slack (above the minimum).
	for n := uint64(1); n < 1<<20; n = n*5/4 + 1 {
		c := sizeClass(n)
		if c < n || (n > minClass && float64(c) > 1.25*float64(n)) {
			t.Fatalf("sizeClass(%d) = %d: want n <= class <= 1.25 n", n, c)
		}
	}
}

func TestPoolReuseBySizeClass(t *testing.T) {
	f := newFakeAlloc(1 << 30)
	p := newPool(f)
	a, err := p.alloc(1000, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.release(a); err != nil {
		t.Fatal(err)
	}
	if p.used != 0 || p.cached != 1024 {
		t.Fatalf("after free: used %d cached %d, want 0 and 1024", p.used, p.cached)
	}
	// Same class (1000 and 1024 both round to 1024): the cached block comes back.
	b, err := p.alloc(1024, "b")
	if err != nil {
		t.Fatal(err)
	}
	if b != a || f.allocs != 1 {
		t.Fatalf("alloc of the same class got %#x (cached %#x) after %d driver allocs, want the cached block and 1 alloc", b, a, f.allocs)
	}
	// Another class does not take it.
	c, err := p.alloc(2000, "c")
	if err != nil {
		t.Fatal(err)
	}
	if c == a || f.allocs != 2 {
		t.Fatalf("alloc of another class reused %#x or made %d driver allocs, want a new block", c, f.allocs)
	}
	if p.used != 1024+2048 || p.cached != 0 {
		t.Fatalf("used %d cached %d, want %d and 0", p.used, p.cached, 1024+2048)
	}
	if _, err := p.alloc(0, "zero"); !errs.Is(err, errs.BadArg) {
		t.Errorf("alloc(0): %v, want bad_arg", err)
	}
}

func TestPoolCapOOM(t *testing.T) {
	const MiB = 1 << 20
	f := newFakeAlloc(1 << 30)
	p := newPool(f)
	if err := p.setCap(10 * MiB); err != nil {
		t.Fatal(err)
	}
	a, err := p.alloc(4*MiB, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.alloc(4*MiB, "b")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.alloc(4*MiB, "c")
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.OOM || e.Hint == "" {
		t.Fatalf("alloc past the cap: %v, want kind oom with a hint", err)
	}
	if p.used != 8*MiB || f.used != 8*MiB {
		t.Fatalf("failed alloc changed use: pool %d driver %d, want 8 MiB", p.used, f.used)
	}
	// A cached block of another class is returned to the driver to make room.
	if err := p.release(b); err != nil {
		t.Fatal(err)
	}
	if _, err := p.alloc(5*MiB, "d"); err != nil {
		t.Fatalf("alloc after freeing room: %v", err)
	}
	if p.cached != 0 || f.used != 4*MiB+5*MiB {
		t.Fatalf("cache %d, driver %d: want the 4 MiB block given back for the 5 MiB one", p.cached, f.used)
	}
	// Lowering the cap trims the cache; live blocks stay.
	if err := p.release(a); err != nil {
		t.Fatal(err)
	}
	if p.cached != 4*MiB {
		t.Fatalf("cached %d, want 4 MiB", p.cached)
	}
	if err := p.setCap(6 * MiB); err != nil {
		t.Fatal(err)
	}
	if p.cached != 0 || p.used != 5*MiB {
		t.Fatalf("after lowering the cap: cached %d used %d, want 0 and 5 MiB", p.cached, p.used)
	}
	// Cap 0 = none.
	if err := p.setCap(0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.alloc(100*MiB, "big"); err != nil {
		t.Fatalf("alloc without cap: %v", err)
	}
}

func TestPoolDeviceOOM(t *testing.T) {
	const MiB = 1 << 20
	f := newFakeAlloc(10 * MiB)
	p := newPool(f)
	a, _ := p.alloc(6*MiB, "a")
	if err := p.release(a); err != nil { // cached, still held from the driver
		t.Fatal(err)
	}
	// 8 MiB does not fit next to the cached 6 MiB: the pool empties the cache and retries.
	if _, err := p.alloc(8*MiB, "b"); err != nil {
		t.Fatalf("alloc after device OOM with a cache to give back: %v", err)
	}
	if p.cached != 0 {
		t.Fatalf("cached %d after the retry, want 0", p.cached)
	}
	// Nothing left to give back: kind oom wrapping the device error.
	_, err := p.alloc(4*MiB, "c")
	if !errs.Is(err, errs.OOM) || !errors.Is(err, errDeviceOOM) {
		t.Fatalf("alloc beyond the device: %v, want kind oom wrapping errDeviceOOM", err)
	}
}

func TestPoolEmptyCachePeakLeaks(t *testing.T) {
	f := newFakeAlloc(1 << 30)
	p := newPool(f)
	var ptrs []uint64
	for i, n := range []uint64{100, 5000, 70000, 70000} {
		q, err := p.alloc(n, fmt.Sprintf("site%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ptrs = append(ptrs, q)
	}
	want := sizeClass(100) + sizeClass(5000) + 2*sizeClass(70000)
	if p.peak != want {
		t.Fatalf("peak %d, want %d", p.peak, want)
	}
	for _, q := range ptrs[1:] {
		if err := p.release(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.release(ptrs[1]); !errs.Is(err, errs.BadState) {
		t.Fatalf("double free: %v, want bad_state", err)
	}
	if p.peak != want || p.used != 512 {
		t.Fatalf("peak %d used %d after frees, want peak kept at %d and used 512", p.peak, p.used, want)
	}
	p.peak = p.used // ResetPeak
	if err := p.emptyCache(); err != nil {
		t.Fatal(err)
	}
	if p.cached != 0 || f.used != 512 || len(f.blocks) != 1 {
		t.Fatalf("after emptyCache: cached %d, driver holds %d bytes in %d blocks; want 0 and one 512-byte block", p.cached, f.used, len(f.blocks))
	}
	l := p.leaks()
	if len(l) != 1 || l[0].Site != "site0" || l[0].Bytes != 100 || l[0].Block != 512 || l[0].ID != 1 {
		t.Fatalf("leaks %+v, want the 100-byte block from site0", l)
	}
	if err := p.releaseAll(); err != nil {
		t.Fatal(err)
	}
	if f.used != 0 || p.used != 0 || p.leaks() != nil {
		t.Fatalf("after releaseAll: driver %d pool %d, want 0", f.used, p.used)
	}
	// A driver error on free is reported, and the cache is still emptied.
	q, _ := p.alloc(10, "x")
	_ = p.release(q)
	f.failErr = errors.New("fake free failure")
	if err := p.emptyCache(); err == nil || p.cached != 0 {
		t.Fatalf("emptyCache with a failing free: err %v cached %d, want an error and 0", err, p.cached)
	}
}
