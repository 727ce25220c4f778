// Package fault holds functions that really fail, for tests of bohost's crash
// handling and for `bohost diagnose`: a real SIGSEGV, a real SIGABRT, an exit
// with a chosen code, memory that really grows the resident set, and a hang.
//
// They are disabled unless explicitly allowed, by Enable(true) or by the
// environment variable BOHOST_FAULTS=1; otherwise each returns an *errs.Error
// of kind bad_state and does nothing. The Lua layer can expose them (for
// example bohost.fault.segv()) only in a diagnose or test build of a script.
//
//	fault.Enable(true)
//	fault.Segv()          // does not return: the process dies by SIGSEGV
//	fault.Abort()         // does not return: the process dies by SIGABRT
//	fault.Exit(3)         // does not return: exit status 3
//	fault.Alloc(1 << 30)  // 1 GiB allocated and touched, kept until Release
//	fault.Hang()          // does not return: sleeps forever, ignoring contexts
//
// Segv and Abort set the signal's disposition back to the default with a raw
// rt_sigaction(2) (the Go runtime's own handler would otherwise turn the fault
// into a panic or a "fatal error" exit with status 2) and then fault or send
// the signal to the calling thread, so the parent sees
// WaitStatus.Signaled() with the right signal, exactly as for a crash in
// native code (OpenCV, a CUDA driver).
package fault
