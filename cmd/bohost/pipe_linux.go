package main

import (
	"syscall"
	"unsafe"
)

// closedForWriting reports whether writes to fd can no longer be read by
// anyone: a pipe or socket whose reading end was closed (poll says POLLERR
// or POLLHUP), as after `bohost ... | head -1`.
func closedForWriting(fd int) bool {
	const pollOut, pollErr, pollHup = 0x4, 0x8, 0x10
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: pollOut}
	var ts syscall.Timespec // zero: do not wait
	n, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return e == 0 && n == 1 && pfd.revent&(pollErr|pollHup) != 0
}
