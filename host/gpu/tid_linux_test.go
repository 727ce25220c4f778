package gpu

import "syscall"

func threadID() int { return syscall.Gettid() }
