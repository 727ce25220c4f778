package bindings

import (
	"bohost/host/errs"
	"bohost/host/fault"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// Fault is bohost.fault: functions that really crash, for tests of crash
// handling and for bohost diagnose. They work only where faults are
// enabled (a run with faults = true enables them in its workers, or
// BOHOST_FAULTS=1); otherwise each raises kind bad_state.
type Fault struct{}

func (Fault) Name() string { return "bohost.fault" }

func (Fault) Open(rt *lua.Runtime) *glua.LTable {
	check := func(L *glua.LState, op string) {
		if !fault.Enabled() && rt.Getenv(fault.EnvVar) == "1" {
			fault.Enable(true)
		}
		if !fault.Enabled() {
			lua.Raise(L, op, errs.New(errs.BadState, op, "faults are disabled").
				WithHint("they work in workers of a run with faults = true, or with BOHOST_FAULTS=1"))
		}
	}
	do := func(op string, f func(L *glua.LState) error) glua.LGFunction {
		return func(L *glua.LState) int {
			check(L, op)
			if err := f(L); err != nil {
				return lua.Raise(L, op, err)
			}
			return 0
		}
	}
	return rt.Funcs("fault", []lua.Func{
		{Name: "enabled", Sig: "fault.enabled() -> bool", Desc: "whether faults are enabled in this process", Fn: func(L *glua.LState) int {
			L.Push(glua.LBool(fault.Enabled() || rt.Getenv(fault.EnvVar) == "1"))
			return 1
		}},
		{Name: "segv", Sig: "fault.segv()", Desc: "kills this process with a real SIGSEGV (an invalid memory write)", Fn: do("fault.segv", func(*glua.LState) error { return fault.Segv() })},
		{Name: "abort", Sig: "fault.abort()", Desc: "kills this process with SIGABRT, as a failed native assert does", Fn: do("fault.abort", func(*glua.LState) error { return fault.Abort() })},
		{Name: "exit", Sig: "fault.exit(code)", Desc: "ends this process at once with the exit status code (0..255)", Fn: do("fault.exit", func(L *glua.LState) error {
			c := L.CheckInt(1)
			if c < 0 || c > 255 {
				return errs.New(errs.BadArg, "fault.exit", "code must be in [0, 255], got %d", c)
			}
			return fault.Exit(c)
		})},
		{Name: "alloc", Sig: "fault.alloc(bytes)", Desc: "allocates and touches bytes of memory, kept until fault.release()", Fn: do("fault.alloc", func(L *glua.LState) error {
			n := L.CheckNumber(1)
			if n < 0 {
				return errs.New(errs.BadArg, "fault.alloc", "bytes must be >= 0, got %v", n)
			}
			return fault.Alloc(int64(n))
		})},
		{Name: "release", Sig: "fault.release()", Desc: "drops the memory held by fault.alloc", Fn: do("fault.release", func(*glua.LState) error { fault.Release(); return nil })},
		{Name: "hang", Sig: "fault.hang()", Desc: "blocks forever, ignoring Ctrl-C, like a stuck native call", Fn: do("fault.hang", func(*glua.LState) error { return fault.Hang() })},
	})
}
