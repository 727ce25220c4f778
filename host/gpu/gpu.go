package gpu

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"bohost/host/errs"
)

// Device describes one CUDA device.
type Device struct {
	Ordinal      int
	Name         string
	TotalBytes   int64 // device memory
	Major, Minor int   // compute capability
}

// MemInfo is a snapshot of device memory: the pool's figures and the
// driver's (cuMemGetInfo_v2, which counts every process on the device).
type MemInfo struct {
	Used   int64 // bytes in live buffers of this context (block sizes)
	Cached int64 // bytes held in the pool's cache, reusable without the driver
	Peak   int64 // largest Used since the context opened or ResetPeak
	Free   int64 // driver: free bytes on the device
	Total  int64 // driver: total bytes on the device
	Cap    int64 // the pool's cap on Used+Cached; 0 = none
}

// Available reports whether a CUDA driver is loaded and has at least one
// device. It never panics or exits.
func Available() bool {
	d, err := loadDriver()
	if err != nil {
		return false
	}
	ds, err := d.devices()
	return err == nil && len(ds) > 0
}

// DriverVersion returns the driver's CUDA version as 1000*major + 10*minor
// (13000 for CUDA 13.0).
func DriverVersion() (int, error) {
	d, err := driverFor("gpu.driver_version")
	if err != nil {
		return 0, err
	}
	return d.version()
}

// Devices lists the CUDA devices.
func Devices() ([]Device, error) {
	d, err := driverFor("gpu.devices")
	if err != nil {
		return nil, err
	}
	return d.devices()
}

// driverFor is loadDriver with the error's Op set to op.
func driverFor(op string) (driver, error) {
	d, err := loadDriver()
	var e *errs.Error
	if errors.As(err, &e) {
		c := *e
		c.Op = op
		return nil, &c
	}
	return d, err
}

var (
	regMu sync.Mutex
	reg   = map[int]*Context{}
)

// Open returns the Context of device ordinal, starting it on first use: one
// Context per device per process, shared by all callers until Close.
func Open(ordinal int) (*Context, error) {
	d, err := driverFor("gpu.open")
	if err != nil {
		return nil, err
	}
	regMu.Lock()
	defer regMu.Unlock()
	if c := reg[ordinal]; c != nil {
		return c, nil
	}
	c, err := openWith(d, ordinal)
	if err != nil {
		return nil, err
	}
	reg[ordinal] = c
	return c, nil
}

// Default is Open(0).
func Default() (*Context, error) { return Open(0) }

// Context is a device's primary CUDA context with its memory pool and
// kernels. All device work runs on one owner goroutine locked to its OS
// thread (the context is current there); methods send work to it and wait,
// so a Context is safe for concurrent use, and calls are serialised.
type Context struct {
	dev Device
	drv driver

	mu     sync.RWMutex // guards closed against sends on work
	closed bool
	work   chan func()
	done   chan struct{}

	// Owned by the owner goroutine.
	unbound bool // Close ran: the primary context is released
	pool    *pool
	modules map[string]uintptr // PTX name -> module
	funcs   map[string]uintptr // kernel name -> function
}

// openWith starts the owner goroutine of device ordinal on d.
func openWith(d driver, ordinal int) (*Context, error) {
	const op = "gpu.open"
	ds, err := d.devices()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= len(ds) {
		if len(ds) == 0 {
			return nil, unavailable(op, ErrNoDevice, "the CUDA driver reports no device", "")
		}
		return nil, errs.New(errs.BadArg, op, "device ordinal must be in [0, %d], got %d", len(ds)-1, ordinal)
	}
	c := &Context{
		dev: ds[ordinal], drv: d,
		work: make(chan func()), done: make(chan struct{}),
		pool: newPool(d), modules: map[string]uintptr{}, funcs: map[string]uintptr{},
	}
	ready := make(chan error, 1)
	go c.loop(ready)
	if err := <-ready; err != nil {
		return nil, wrap(errs.Unavailable, op, err)
	}
	return c, nil
}

func (c *Context) loop(ready chan<- error) {
	// The thread stays locked for the goroutine's life; it exits with it.
	runtime.LockOSThread()
	if err := c.drv.bind(c.dev.Ordinal); err != nil {
		close(c.done)
		ready <- err
		return
	}
	ready <- nil
	for f := range c.work {
		f()
	}
	close(c.done)
}

// do runs f on the owner goroutine and returns its error. A panic in f
// becomes an error of kind internal; the owner keeps running.
func (c *Context) do(op string, f func() error) error {
	if c == nil {
		return errs.New(errs.BadState, op, "nil gpu.Context")
	}
	res := make(chan error, 1)
	run := func() {
		defer func() {
			if r := recover(); r != nil {
				res <- errs.New(errs.Internal, op, "panic on the GPU owner goroutine: %v", r)
			}
		}()
		if c.unbound {
			res <- errs.New(errs.BadState, op, "the GPU context of device %d is closed", c.dev.Ordinal)
			return
		}
		res <- f()
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errs.New(errs.BadState, op, "the GPU context of device %d is closed", c.dev.Ordinal)
	}
	c.work <- run
	c.mu.RUnlock()
	return <-res
}

// Device describes the context's device.
func (c *Context) Device() Device { return c.dev }

// Close frees every buffer of the context (live or cached), unloads the
// kernels, releases the primary context and stops the owner goroutine. Call
// Leaks first to report buffers that were never freed. Close is idempotent.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	var ferr error
	err := c.do("gpu.close", func() error {
		ferr = c.pool.releaseAll()
		for name, m := range c.modules {
			if e := c.drv.unloadModule(m); e != nil && ferr == nil {
				ferr = wrap(errs.Failed, "gpu.close", e)
			}
			delete(c.modules, name)
		}
		clear(c.funcs)
		if e := c.drv.unbind(c.dev.Ordinal); e != nil && ferr == nil {
			ferr = wrap(errs.Failed, "gpu.close", e)
		}
		c.unbound = true
		return nil
	})
	if errs.Is(err, errs.BadState) {
		return nil // already closed
	}
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.work)
	}
	c.mu.Unlock()
	<-c.done
	regMu.Lock()
	if reg[c.dev.Ordinal] == c {
		delete(reg, c.dev.Ordinal)
	}
	regMu.Unlock()
	return ferr
}

// Synchronize waits for all queued device work.
func (c *Context) Synchronize() error {
	return c.do("gpu.synchronize", func() error { return wrap(errs.Failed, "gpu.synchronize", c.drv.synchronize()) })
}

// SetMemoryCap caps the bytes the pool reserves (live plus cached): an
// allocation past it first empties the cache, then fails with kind oom.
// bytes = 0 removes the cap. Lowering the cap below the current use trims
// the cache; live buffers stay.
func (c *Context) SetMemoryCap(bytes int64) error {
	const op = "gpu.set_memory_cap"
	if bytes < 0 {
		return errs.New(errs.BadArg, op, "bytes must be >= 0 (0 = no cap), got %d", bytes)
	}
	return c.do(op, func() error { return c.pool.setCap(uint64(bytes)) })
}

// SetMemoryFraction caps the pool at f times the device's total memory, f
// in (0, 1].
func (c *Context) SetMemoryFraction(f float64) error {
	const op = "gpu.set_memory_fraction"
	if !(f > 0 && f <= 1) {
		return errs.New(errs.BadArg, op, "fraction must be in (0, 1], got %g", f)
	}
	return c.do(op, func() error {
		_, total, err := c.drv.memInfo()
		if err != nil {
			return wrap(errs.Failed, op, err)
		}
		return c.pool.setCap(uint64(math.Floor(f * float64(total))))
	})
}

// EmptyCache returns every cached block to the driver.
func (c *Context) EmptyCache() error {
	return c.do("gpu.empty_cache", func() error { return c.pool.emptyCache() })
}

// ResetPeak sets Peak to the current Used.
func (c *Context) ResetPeak() error {
	return c.do("gpu.reset_peak", func() error { c.pool.peak = c.pool.used; return nil })
}

// Memory returns the pool's and the driver's memory figures.
func (c *Context) Memory() (MemInfo, error) {
	const op = "gpu.memory"
	var m MemInfo
	err := c.do(op, func() error {
		free, total, err := c.drv.memInfo()
		if err != nil {
			return wrap(errs.Failed, op, err)
		}
		p := c.pool
		m = MemInfo{Used: int64(p.used), Cached: int64(p.cached), Peak: int64(p.peak),
			Free: int64(free), Total: int64(total), Cap: int64(p.cap)}
		return nil
	})
	return m, err
}

// Leaks lists the buffers still allocated, oldest first (nil when none, or
// for a closed context).
func (c *Context) Leaks() []Leak {
	var l []Leak
	if c.do("gpu.leaks", func() error { l = c.pool.leaks(); return nil }) != nil {
		return nil
	}
	return l
}

// Buffer is a block of device memory from a Context's pool. Free it
// explicitly; Leaks reports buffers that were not freed.
type Buffer struct {
	ctx   *Context
	ptr   uint64
	bytes int64
	mu    sync.Mutex
	freed bool
}

// Alloc returns a buffer of bytes bytes (contents undefined).
func (c *Context) Alloc(bytes int64) (*Buffer, error) {
	site := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		site = fmt.Sprintf("%s:%d", file, line)
	}
	return c.alloc(bytes, site)
}

func (c *Context) alloc(bytes int64, site string) (*Buffer, error) {
	const op = "gpu.alloc"
	if bytes <= 0 {
		return nil, errs.New(errs.BadArg, op, "bytes must be >= 1, got %d", bytes)
	}
	var ptr uint64
	err := c.do(op, func() error {
		var err error
		ptr, err = c.pool.alloc(uint64(bytes), site)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Buffer{ctx: c, ptr: ptr, bytes: bytes}, nil
}

// Bytes is the buffer's requested size.
func (b *Buffer) Bytes() int64 { return b.bytes }

// Free returns the buffer to its pool's cache. Freeing twice is a no-op.
func (b *Buffer) Free() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.freed {
		return nil
	}
	err := b.ctx.do("gpu.free", func() error { return b.ctx.pool.release(b.ptr) })
	if err == nil || errs.Is(err, errs.BadState) {
		b.freed = true // a closed context already freed it
	}
	if errs.Is(err, errs.BadState) {
		return nil
	}
	return err
}

func (b *Buffer) check(op string, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.freed:
		return errs.New(errs.BadState, op, "buffer already freed")
	case int64(n) > b.bytes:
		return errs.New(errs.BadArg, op, "%d bytes do not fit the %d-byte buffer", n, b.bytes)
	}
	return nil
}

// Write copies src to the start of the buffer.
func (b *Buffer) Write(src []byte) error {
	const op = "gpu.write"
	if err := b.check(op, len(src)); err != nil || len(src) == 0 {
		return err
	}
	return b.ctx.do(op, func() error {
		err := b.ctx.drv.htod(b.ptr, unsafe.Pointer(&src[0]), uint64(len(src)))
		runtime.KeepAlive(src)
		return wrap(errs.Failed, op, err)
	})
}

// Read copies the start of the buffer into dst.
func (b *Buffer) Read(dst []byte) error {
	const op = "gpu.read"
	if err := b.check(op, len(dst)); err != nil || len(dst) == 0 {
		return err
	}
	return b.ctx.do(op, func() error {
		err := b.ctx.drv.dtoh(unsafe.Pointer(&dst[0]), b.ptr, uint64(len(dst)))
		runtime.KeepAlive(dst)
		return wrap(errs.Failed, op, err)
	})
}

// Package-level forms act on the Default context (device 0), opening it on
// first use; without a driver or a device they return the unavailable
// error.

// SetMemoryCap is Default().SetMemoryCap.
func SetMemoryCap(bytes int64) error {
	return onDefault(func(c *Context) error { return c.SetMemoryCap(bytes) })
}

// SetMemoryFraction is Default().SetMemoryFraction.
func SetMemoryFraction(f float64) error {
	return onDefault(func(c *Context) error { return c.SetMemoryFraction(f) })
}

// EmptyCache is Default().EmptyCache.
func EmptyCache() error { return onDefault(func(c *Context) error { return c.EmptyCache() }) }

// Synchronize is Default().Synchronize.
func Synchronize() error { return onDefault(func(c *Context) error { return c.Synchronize() }) }

// ResetPeak is Default().ResetPeak.
func ResetPeak() error { return onDefault(func(c *Context) error { return c.ResetPeak() }) }

// Memory is Default().Memory.
func Memory() (MemInfo, error) {
	var m MemInfo
	err := onDefault(func(c *Context) error {
		var err error
		m, err = c.Memory()
		return err
	})
	return m, err
}

// Leaks lists live buffers of every open context (nil when none is open).
func Leaks() []Leak {
	regMu.Lock()
	cs := make([]*Context, 0, len(reg))
	for _, c := range reg {
		cs = append(cs, c)
	}
	regMu.Unlock()
	var out []Leak
	for _, c := range cs {
		out = append(out, c.Leaks()...)
	}
	return out
}

func onDefault(f func(*Context) error) error {
	c, err := Default()
	if err != nil {
		return err
	}
	return f(c)
}

// isUnavailable reports an error that means "no usable CUDA here".
func isUnavailable(err error) bool {
	return errors.Is(err, ErrNoDriver) || errors.Is(err, ErrNoDevice)
}
