package fault

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bohost/host/errs"
)

// EnvVar is the environment variable that enables faults when set to "1".
const EnvVar = "BOHOST_FAULTS"

var enabled atomic.Bool

// Enable allows (or forbids again) the faults in this process, whatever the
// environment says.
func Enable(on bool) { enabled.Store(on) }

// Enabled reports whether faults are allowed: Enable(true) was called or
// BOHOST_FAULTS=1.
func Enabled() bool { return enabled.Load() || os.Getenv(EnvVar) == "1" }

func check(op string) error {
	if !Enabled() {
		return errs.New(errs.BadState, op, "faults are disabled").
			WithHint("set %s=1 (or call fault.Enable) to allow deliberate crashes", EnvVar)
	}
	return nil
}

// Segv kills the process with a real SIGSEGV from an invalid memory write. It
// returns only an error, when faults are disabled.
func Segv() error {
	if err := check("fault.segv"); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "fault: deliberate SIGSEGV (write through a nil pointer)")
	runtime.LockOSThread()
	defaultAction(syscall.SIGSEGV)
	var p *int
	*p = 1 // faults in hardware; with the default disposition the kernel kills the process
	die(syscall.SIGSEGV)
	return nil
}

// Abort kills the process with SIGABRT, as an uncaught C++ exception or a
// failed assert in native code does.
func Abort() error {
	if err := check("fault.abort"); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "fault: deliberate SIGABRT (abort)")
	runtime.LockOSThread()
	die(syscall.SIGABRT)
	return nil
}

// Exit ends the process at once with the given status (0..255), without
// running deferred functions.
func Exit(code int) error {
	if err := check("fault.exit"); err != nil {
		return err
	}
	if code < 0 || code > 255 {
		return errs.New(errs.BadArg, "fault.exit", "code must be in [0, 255], got %d", code)
	}
	fmt.Fprintf(os.Stderr, "fault: deliberate exit with status %d\n", code)
	os.Exit(code)
	return nil
}

var (
	heldMu sync.Mutex
	held   [][]byte
)

// Alloc allocates n bytes and writes to every page, so the resident set really
// grows by about n, and keeps the memory until Release. It allocates in 8 MiB
// blocks, so a memory cap stops it part way.
func Alloc(n int64) error {
	if err := check("fault.alloc"); err != nil {
		return err
	}
	if n < 0 {
		return errs.New(errs.BadArg, "fault.alloc", "bytes must be >= 0, got %d", n)
	}
	const block = 8 << 20
	page := os.Getpagesize()
	for n > 0 {
		sz := int64(block)
		if n < sz {
			sz = n
		}
		b := make([]byte, sz)
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		heldMu.Lock()
		held = append(held, b)
		heldMu.Unlock()
		n -= sz
	}
	return nil
}

// Held returns the number of bytes Alloc is holding.
func Held() int64 {
	heldMu.Lock()
	defer heldMu.Unlock()
	var s int64
	for _, b := range held {
		s += int64(len(b))
	}
	return s
}

// Release drops the memory held by Alloc (the GC returns it later).
func Release() {
	heldMu.Lock()
	held = nil
	heldMu.Unlock()
}

// Hang blocks the calling goroutine forever, ignoring contexts, like a native
// call stuck in a loop. It returns only an error, when faults are disabled.
func Hang() error {
	if err := check("fault.hang"); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "fault: deliberate hang")
	for {
		time.Sleep(time.Hour)
	}
}
