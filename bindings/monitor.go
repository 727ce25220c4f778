package bindings

import (
	"math"
	"runtime"

	"bohost/host/lua"
	"bohost/host/memctl"
	"bohost/host/monitor"

	glua "github.com/yuin/gopher-lua"
)

// Monitor is bohost.monitor: read a run's monitor.csv, and sample this
// process's figures now.
type Monitor struct{}

func (Monitor) Name() string { return "bohost.monitor" }

func (Monitor) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("monitor", []lua.Func{
		{Name: "read", Sig: "monitor.read(path) -> {{time=, elapsed_s=, iteration=, cpu_pct=, host_rss_bytes=, workers_rss_bytes=, go_heap_bytes=, gpu_used_bytes=, gpu_total_bytes=, gpu_pool_bytes=, workers_gpu_bytes=}, ...}",
			Desc: "the rows of a monitor.csv (a figure that was not available is nil)", Fn: func(L *glua.LState) int {
				rows, err := monitor.ReadCSV(L.CheckString(1))
				if err != nil {
					return lua.Raise(L, "monitor.read", err)
				}
				t := L.CreateTable(len(rows), 0)
				for i, r := range rows {
					t.RawSetInt(i+1, monitorRow(L, r))
				}
				L.Push(t)
				return 1
			}},
		{Name: "sample", Sig: "monitor.sample() -> {rss_bytes=, peak_rss_bytes=, go_heap_bytes=, goroutines=, handles=}", Desc: "this process's resident memory, peak, Go heap, goroutines and live native handles now", Fn: func(L *glua.LState) int {
			s := memctl.Read()
			t := L.NewTable()
			pm, err := monitor.ReadProcMem(0)
			if err == nil {
				L.SetField(t, "rss_bytes", glua.LNumber(pm.RSS))
				L.SetField(t, "peak_rss_bytes", glua.LNumber(pm.HWM))
			}
			L.SetField(t, "go_heap_bytes", glua.LNumber(s.HeapBytes))
			L.SetField(t, "goroutines", glua.LNumber(runtime.NumGoroutine()))
			L.SetField(t, "handles", glua.LNumber(rt.Handles.Count()))
			L.Push(t)
			return 1
		}},
	})
}

func monitorRow(L *glua.LState, r monitor.Row) *glua.LTable {
	t := L.NewTable()
	L.SetField(t, "time", glua.LString(r.Time.UTC().Format(monitor.TimeFormat)))
	L.SetField(t, "elapsed_s", glua.LNumber(r.ElapsedS))
	if r.Iteration >= 0 {
		L.SetField(t, "iteration", glua.LNumber(r.Iteration))
	}
	if !math.IsNaN(r.CPUPct) {
		L.SetField(t, "cpu_pct", glua.LNumber(r.CPUPct))
	}
	for _, f := range []struct {
		k string
		v int64
	}{{"host_rss_bytes", r.HostRSS}, {"workers_rss_bytes", r.WorkersRSS}, {"go_heap_bytes", r.GoHeap},
		{"gpu_used_bytes", r.GPUUsed}, {"gpu_total_bytes", r.GPUTotal}, {"gpu_pool_bytes", r.GPUPool}, {"workers_gpu_bytes", r.WorkersGPU}} {
		if f.v >= 0 {
			L.SetField(t, f.k, glua.LNumber(f.v))
		}
	}
	return t
}
