//go:build !linux

package fault

import (
	"os"
	"syscall"
	"time"
)

func defaultAction(sig syscall.Signal) {}

// die sends sig to the process; the Go runtime may turn it into exit status 2.
func die(sig syscall.Signal) {
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(2 * time.Second)
	os.Exit(128 + int(sig))
}
