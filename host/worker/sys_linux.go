package worker

import "syscall"

const rlimitData = syscall.RLIMIT_DATA

func dup2(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }

// sysProcAttr puts the worker in its own process group (so a kill takes its
// children too, and a terminal's Ctrl-C reaches only the parent, which shuts
// workers down itself) and asks the kernel to SIGKILL it if the thread that
// started it dies (the pool starts workers from one locked OS thread that
// lives as long as the pool).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
