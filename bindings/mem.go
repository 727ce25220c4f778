package bindings

import (
	"fmt"
	"math"

	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/memctl"

	glua "github.com/yuin/gopher-lua"
)

// Mem is bohost.mem: host memory statistics and controls, and mem.scope, the
// explicit lifetime for native handles.
type Mem struct{}

func (Mem) Name() string { return "bohost.mem" }

func (Mem) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("mem", []lua.Func{
		{Name: "stats", Sig: "mem.stats() -> {heap_bytes=, heap_sys_bytes=, rss_bytes=, peak_rss_bytes=, gc_count=, limit_bytes=, handles=}",
			Desc: "Go heap, resident memory, GC count, soft limit and live native handles of this process", Fn: func(L *glua.LState) int {
				s := memctl.Read()
				t := L.NewTable()
				L.SetField(t, "heap_bytes", glua.LNumber(s.HeapBytes))
				L.SetField(t, "heap_sys_bytes", glua.LNumber(s.HeapSysBytes))
				L.SetField(t, "rss_bytes", glua.LNumber(s.RSSBytes))
				L.SetField(t, "peak_rss_bytes", glua.LNumber(s.PeakRSSBytes))
				L.SetField(t, "gc_count", glua.LNumber(s.GCCount))
				L.SetField(t, "limit_bytes", glua.LNumber(s.LimitBytes))
				h := L.NewTable()
				for k, n := range rt.Handles.Live() {
					L.SetField(h, k, glua.LNumber(n))
				}
				L.SetField(t, "handles", h)
				L.SetField(t, "live_handles", glua.LNumber(rt.Handles.Count()))
				L.Push(t)
				return 1
			}},
		{Name: "collect", Sig: "mem.collect() -> freed_bytes", Desc: "full garbage collection (Lua and Go) and return of free memory to the OS", Fn: func(L *glua.LState) int {
			before := memctl.Read().HeapBytes
			memctl.Collect()
			after := memctl.Read().HeapBytes
			freed := 0.0
			if before > after {
				freed = float64(before - after)
			}
			L.Push(glua.LNumber(freed))
			return 1
		}},
		{Name: "set_limit", Sig: "mem.set_limit(v) -> previous_bytes", Desc: "soft memory limit of this process: bytes, \"6GiB\", \"512MB\" or \"80%\" of physical memory; 0 or \"off\" removes it", Fn: func(L *glua.LState) int {
			var bytes int64
			switch v := L.Get(1).(type) {
			case glua.LNumber:
				if float64(v) >= math.MaxInt64 { // the "no limit" value mem.stats reports
					bytes = 0
				} else {
					bytes = int64(v)
				}
			case glua.LString:
				if string(v) == "off" {
					bytes = 0
					break
				}
				b, err := memctl.ParseSize(string(v), "limit")
				if err != nil {
					return lua.Raise(L, "mem.set_limit", err)
				}
				bytes = b
			default:
				return lua.ArgError(L, "mem.set_limit", 1, "bytes or a size string expected, got %s", lua.TypeName(v))
			}
			if bytes < 0 {
				return lua.Raisef(L, errs.BadArg, "mem.set_limit", "limit must be >= 0 bytes, got %d", bytes)
			}
			prev := memctl.SetLimit(bytes)
			L.Push(glua.LNumber(prev))
			return 1
		}},
		{Name: "scope", Sig: "mem.scope(fn, ...) -> fn's results", Desc: "calls fn and frees every native handle created inside it when it returns or raises", Fn: func(L *glua.LState) int {
			fn := L.CheckFunction(1)
			nargs := L.GetTop() - 1
			top := L.GetTop()
			rt.Handles.PushScope()
			L.Push(fn)
			for i := 2; i <= nargs+1; i++ {
				L.Push(L.Get(i))
			}
			err := L.PCall(nargs, glua.MultRet, nil)
			rt.Handles.PopScope()
			if err != nil {
				if ae, ok := err.(*glua.ApiError); ok {
					L.Error(ae.Object, 0)
				}
				return lua.Raise(L, "mem.scope", err)
			}
			return L.GetTop() - top
		}},
		{Name: "live", Sig: "mem.live() -> count, {kind = count}", Desc: "number of live native handles, and per kind", Fn: func(L *glua.LState) int {
			h := L.NewTable()
			for k, n := range rt.Handles.Live() {
				L.SetField(h, k, glua.LNumber(n))
			}
			L.Push(glua.LNumber(rt.Handles.Count()))
			L.Push(h)
			return 2
		}},
		{Name: "format", Sig: "mem.format(bytes) -> string", Desc: "renders a byte count as \"1.50 GiB\"", Fn: func(L *glua.LState) int {
			n := L.CheckNumber(1)
			if n < 0 {
				L.Push(glua.LString(fmt.Sprintf("-%s", memctl.FormatBytes(uint64(-n)))))
				return 1
			}
			L.Push(glua.LString(memctl.FormatBytes(uint64(n))))
			return 1
		}},
	})
}
