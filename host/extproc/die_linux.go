package extproc

import (
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// DieBy ends this process by sig with the signal's default action, as if
// the signal had come from outside, so that a parent's wait status names
// it. The Go runtime handles SIGSEGV, SIGABRT and others itself (a panic,
// a goroutine dump and exit status 2), so the default action is restored
// with rt_sigaction directly, the signal unblocked on this thread, and sent
// to it. No core file is written (RLIMIT_CORE 0): the child that really
// crashed wrote its own, if any.
func DieBy(sig syscall.Signal) {
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	runtime.LockOSThread()
	if sig != syscall.SIGKILL && sig != syscall.SIGSTOP {
		var act [4]uint64 // struct sigaction, zero: SIG_DFL, no flags, empty mask
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act[0])), 0, 8, 0, 0)
		mask := uint64(1) << (uint(sig) - 1)
		const sigUnblock = 1
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, sigUnblock, uintptr(unsafe.Pointer(&mask)), 0, 8, 0, 0)
	}
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
	time.Sleep(2 * time.Second)
	os.Exit(128 + int(sig))
}
