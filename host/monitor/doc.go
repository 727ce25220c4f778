// Package monitor samples bohost's resource use into the run directory's
// monitor.csv (header exactly as docs/rundir.md) and reads it back, and holds
// the small /proc and cgroup readers that the worker pool uses for its
// death certificates.
//
//	s, err := monitor.Start(monitor.Options{
//		Path:       filepath.Join(dir, "monitor.csv"),
//		Interval:   5 * time.Second,  // default; negative: rows only on Sample
//		Start:      runStart,         // for elapsed_s
//		WorkerPIDs: pool.PIDs,        // summed into workers_rss_bytes
//		GPU:        nil,              // nil: empty gpu_* cells
//		WorkersGPU: nil,              // func(pids) (bytes, ok); nil: empty workers_gpu_bytes
//	})
//	row, err := s.Sample(iteration)   // a row now, e.g. at each iteration
//	peak := s.Peak()                  // peak host RSS seen
//	err = s.Close()
//	rows, err := monitor.ReadCSV(path)
//
// Each row is written with one write(2) as soon as it is measured (no user
// space buffer), so a process that dies leaves every earlier row on disk. A
// reopened file is appended to after its torn last row, if any, is cut off;
// one written before workers_gpu_bytes (LegacyHeader, a resumed older run)
// keeps getting rows without that column, so no file mixes row widths.
//
// Columns: time (RFC 3339 UTC, ms), elapsed_s, iteration (the last one passed
// to Sample; empty before), cpu_pct (CPU seconds of this process and its live
// workers per wall second since the previous row, in % of one core, so it can
// exceed 100; empty on the first row), host_rss_bytes (VmRSS),
// workers_rss_bytes (sum of the workers' VmRSS), go_heap_bytes (live heap
// objects from runtime/metrics), the gpu_* figures from the injected
// probe, and workers_gpu_bytes (the device memory of the workers' processes,
// from the injected WorkersGPU probe: NVML's per-process figures in a run,
// host/gpu.ProcessGPUMemory). Values come from /proc (Linux); a figure that cannot be read is an
// empty cell, never a made-up zero.
//
// Process helpers: ReadProcMem / ProcRSS (VmRSS, VmHWM, VmData, VmSize of a
// pid), PeakRSS and ResetPeak (this process's VmHWM, resettable through
// /proc/self/clear_refs), and OOMKills (the oom_kill counter of this
// process's memory cgroup, from memory.events on cgroup v2 or
// memory.oom_control on v1; kind unavailable when neither is readable).
package monitor
