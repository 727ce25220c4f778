package bindings

import (
	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/lua"
	"bohost/host/memctl"

	glua "github.com/yuin/gopher-lua"
)

// GPU is bohost.gpu: GPU memory controls over host/gpu's device pool. The
// CUDA driver is loaded at run time (every build has the binding); on a
// machine without an NVIDIA driver or device it still loads:
// gpu.available() is false, gpu.memory() returns nil, err, and the other
// calls raise kind unavailable with a hint.
type GPU struct{}

func (GPU) Name() string { return "bohost.gpu" }

func (GPU) Open(rt *lua.Runtime) *glua.LTable {
	call := func(op string, fn func() error) glua.LGFunction {
		return func(L *glua.LState) int {
			if err := fn(); err != nil {
				return lua.Raise(L, op, err)
			}
			return 0
		}
	}
	return rt.Funcs("gpu", []lua.Func{
		{Name: "available", Sig: "gpu.available() -> bool", Desc: "whether a CUDA device can be used (an NVIDIA driver and a device; bohost diagnose says why not)", Fn: func(L *glua.LState) int {
			L.Push(glua.LBool(gpu.Available()))
			return 1
		}},
		{Name: "devices", Sig: "gpu.devices() -> {{ordinal=, name=, total_bytes=, compute=}, ...}", Desc: "the CUDA devices", Fn: func(L *glua.LState) int {
			ds, err := gpu.Devices()
			if err != nil {
				return lua.Raise(L, "gpu.devices", err)
			}
			t := L.CreateTable(len(ds), 0)
			for i, d := range ds {
				t.RawSetInt(i+1, lua.FromGo(L, map[string]any{"ordinal": d.Ordinal, "name": d.Name, "total_bytes": d.TotalBytes, "compute": float64(d.Major) + float64(d.Minor)/10}))
			}
			L.Push(t)
			return 1
		}},
		{Name: "memory", Sig: "gpu.memory() -> {used=, cached=, peak=, free=, total=, cap=} | nil, err", Desc: "the pool's figures beside the driver's free and total memory; nil, err without a GPU", Fn: func(L *glua.LState) int {
			m, err := gpu.Memory()
			if err != nil {
				L.Push(glua.LNil)
				L.Push(lua.NewError(L, "gpu.memory", err))
				return 2
			}
			L.Push(lua.FromGo(L, map[string]any{"used": m.Used, "cached": m.Cached, "peak": m.Peak, "free": m.Free, "total": m.Total, "cap": m.Cap}))
			return 1
		}},
		{Name: "set_memory_fraction", Sig: "gpu.set_memory_fraction(f)", Desc: "caps the pool at f (0 < f <= 1) of the device's memory; allocations past it fail with kind oom", Fn: func(L *glua.LState) int {
			f := float64(L.CheckNumber(1))
			if !(f > 0 && f <= 1) {
				return lua.Raisef(L, errs.BadArg, "gpu.set_memory_fraction", "fraction must be in (0, 1], got %g", f)
			}
			if err := gpu.SetMemoryFraction(f); err != nil {
				return lua.Raise(L, "gpu.set_memory_fraction", err)
			}
			return 0
		}},
		{Name: "set_memory_cap", Sig: "gpu.set_memory_cap(bytes | \"6GiB\")", Desc: "caps the pool in bytes (0: no cap)", Fn: func(L *glua.LState) int {
			var n int64
			switch v := L.Get(1).(type) {
			case glua.LNumber:
				n = int64(v)
			case glua.LString:
				b, err := memctl.ParseSize(string(v), "cap")
				if err != nil {
					return lua.Raise(L, "gpu.set_memory_cap", err)
				}
				n = b
			default:
				return lua.ArgError(L, "gpu.set_memory_cap", 1, "bytes or a size string expected, got %s", lua.TypeName(v))
			}
			if err := gpu.SetMemoryCap(n); err != nil {
				return lua.Raise(L, "gpu.set_memory_cap", err)
			}
			return 0
		}},
		{Name: "empty_cache", Sig: "gpu.empty_cache()", Desc: "returns the pool's cached blocks to the driver", Fn: call("gpu.empty_cache", gpu.EmptyCache)},
		{Name: "synchronize", Sig: "gpu.synchronize()", Desc: "waits for all GPU work to finish", Fn: call("gpu.synchronize", gpu.Synchronize)},
		{Name: "reset_peak", Sig: "gpu.reset_peak()", Desc: "restarts the peak-memory statistic", Fn: call("gpu.reset_peak", gpu.ResetPeak)},
	})
}
