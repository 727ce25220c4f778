package fault

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on Linux
// (amd64, arm64, riscv64: handler, flags, restorer, 64-bit mask).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// defaultAction sets sig's disposition to SIG_DFL behind the Go runtime's back.
func defaultAction(sig syscall.Signal) {
	var act kernelSigaction // handler 0 = SIG_DFL
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
}

// die resets sig to its default action and sends it to the calling thread.
func die(sig syscall.Signal) {
	defaultAction(sig)
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
	time.Sleep(2 * time.Second)
	// Not reached. Exit like a shell reports a signal death.
	os.Exit(128 + int(sig))
}
