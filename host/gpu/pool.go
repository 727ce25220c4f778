package gpu

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"

	"bohost/host/errs"
)

// allocator is the raw device allocator under the pool: the CUDA driver
// (cuMemAlloc_v2 / cuMemFree_v2) or, in tests, a fake. An allocation the
// device cannot satisfy returns an error wrapping errDeviceOOM.
type allocator interface {
	alloc(bytes uint64) (ptr uint64, err error)
	free(ptr uint64) error
}

// minClass is the smallest block the pool hands out.
const minClass = 512

// sizeClass rounds n up to its block size: 512 B at least, otherwise the
// next multiple of a quarter of the power of two below n (at most 25% slack).
// Blocks are cached and reused per class.
func sizeClass(n uint64) uint64 {
	if n <= minClass {
		return minClass
	}
	p := uint64(1) << (bits.Len64(n-1) - 1) // p < n <= 2p
	step := p / 4
	return (n + step - 1) / step * step
}

// liveBlock is a block handed out and not yet freed.
type liveBlock struct {
	id    uint64
	bytes uint64 // requested
	class uint64
	site  string
}

// pool is a caching allocator with an optional cap on reserved bytes (live
// plus cached). It is not safe for concurrent use: the Context calls it only
// from its owner goroutine.
type pool struct {
	a      allocator
	cap    uint64 // 0 = none
	used   uint64 // bytes of live blocks (class sizes)
	cached uint64 // bytes of cached blocks
	peak   uint64 // max used since the last resetPeak
	nextID uint64
	free   map[uint64][]uint64 // class -> cached pointers (LIFO)
	live   map[uint64]liveBlock
}

func newPool(a allocator) *pool {
	return &pool{a: a, free: map[uint64][]uint64{}, live: map[uint64]liveBlock{}}
}

// alloc returns a block of at least n bytes: a cached block of n's class
// when there is one, else a new one from the allocator. Past the cap it
// first returns the cache to the allocator, then fails with kind oom; a
// device out-of-memory is handled the same way.
func (p *pool) alloc(n uint64, site string) (uint64, error) {
	const op = "gpu.alloc"
	if n == 0 {
		return 0, errs.New(errs.BadArg, op, "bytes must be >= 1, got 0")
	}
	if n > 1<<60 {
		return 0, errs.New(errs.BadArg, op, "bytes must be <= 2^60, got %d", n)
	}
	c := sizeClass(n)
	if l := p.free[c]; len(l) > 0 {
		ptr := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.cached -= c
		p.track(ptr, n, c, site)
		return ptr, nil
	}
	if p.cap > 0 && p.used+p.cached+c > p.cap {
		if err := p.emptyCache(); err != nil {
			return 0, err
		}
		if p.used+c > p.cap {
			return 0, (&errs.Error{Kind: errs.OOM, Op: op, Msg: fmt.Sprintf(
				"allocating %d bytes (block %d) would exceed the memory cap: %d bytes in use + %d > cap %d",
				n, c, p.used, c, p.cap)}).WithHint(hintOOM)
		}
	}
	ptr, err := p.a.alloc(c)
	if errors.Is(err, errDeviceOOM) {
		if e := p.emptyCache(); e != nil {
			return 0, e
		}
		ptr, err = p.a.alloc(c)
	}
	if err != nil {
		if errors.Is(err, errDeviceOOM) {
			return 0, (&errs.Error{Kind: errs.OOM, Op: op, Err: err, Msg: fmt.Sprintf(
				"the device has no room for %d bytes (block %d) with %d bytes in use by this pool: %v",
				n, c, p.used, err)}).WithHint(hintOOM)
		}
		return 0, wrap(errs.Failed, op, err)
	}
	p.track(ptr, n, c, site)
	return ptr, nil
}

func (p *pool) track(ptr, n, c uint64, site string) {
	p.nextID++
	p.live[ptr] = liveBlock{id: p.nextID, bytes: n, class: c, site: site}
	p.used += c
	if p.used > p.peak {
		p.peak = p.used
	}
}

// release returns a live block to the cache, or straight to the allocator
// when keeping it would leave the pool above its cap.
func (p *pool) release(ptr uint64) error {
	b, ok := p.live[ptr]
	if !ok {
		return errs.New(errs.BadState, "gpu.free", "device pointer %#x is not a live block of this context (freed twice?)", ptr)
	}
	delete(p.live, ptr)
	p.used -= b.class
	if p.cap > 0 && p.used+p.cached+b.class > p.cap {
		return wrap(errs.Failed, "gpu.free", p.a.free(ptr))
	}
	p.free[b.class] = append(p.free[b.class], ptr)
	p.cached += b.class
	return nil
}

// emptyCache returns every cached block to the allocator. It keeps going
// after a failure and reports the first one.
func (p *pool) emptyCache() error {
	var first error
	for c, l := range p.free {
		for _, ptr := range l {
			if err := p.a.free(ptr); err != nil && first == nil {
				first = err
			}
			p.cached -= c
		}
		delete(p.free, c)
	}
	return wrap(errs.Failed, "gpu.empty_cache", first)
}

// releaseAll frees live and cached blocks (used when the context closes).
func (p *pool) releaseAll() error {
	first := p.emptyCache()
	for ptr, b := range p.live {
		if err := p.a.free(ptr); err != nil && first == nil {
			first = wrap(errs.Failed, "gpu.close", err)
		}
		p.used -= b.class
		delete(p.live, ptr)
	}
	return first
}

// setCap sets the cap (0: none) and trims the cache to it.
func (p *pool) setCap(c uint64) error {
	p.cap = c
	if c > 0 && p.used+p.cached > c {
		return p.emptyCache()
	}
	return nil
}

// Leak describes a buffer that is still allocated.
type Leak struct {
	ID    uint64 // allocation number, in order of allocation
	Bytes int64  // requested size
	Block int64  // size of the block held (its size class)
	Site  string // where it was allocated (file:line, or the stage name)
}

func (p *pool) leaks() []Leak {
	if len(p.live) == 0 {
		return nil
	}
	out := make([]Leak, 0, len(p.live))
	for _, b := range p.live {
		out = append(out, Leak{ID: b.id, Bytes: int64(b.bytes), Block: int64(b.class), Site: b.site})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
