package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"bohost/host/cv"
	"bohost/host/dataset"
	"bohost/host/gpu"
	"bohost/host/memctl"
	"bohost/host/monitor"
	"bohost/host/objective"
	"bohost/host/version"
	"bohost/host/worker"
)

// `bohost diagnose [--json] [--dir DIR] [--stress N]`: the checks a user
// runs before a long experiment. Exit status 1 when a check fails.
func init() {
	register(&Command{Name: "diagnose", Usage: "bohost diagnose [--json] [--dir DIR] [--stress N]",
		Summary: "Check this machine for a long run: versions, GPU, free disk at DIR (default .), memory headroom, crash isolation (workers that segfault, exceed their memory cap, hang) and an evaluator stress test (RSS and handle growth per evaluation). Exit status 1 when a check fails.",
		Run:     diagnoseMain})
}

// Check is one line of the diagnosis.
type Check struct {
	Name   string         `json:"name"`
	Status string         `json:"status"` // ok | warn | fail | info
	Detail string         `json:"detail"`
	Data   map[string]any `json:"data,omitempty"`
}

func diagnoseMain(env *Env, args []string) int {
	asJSON, dir, stress := false, ".", 40
	var forced []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		switch {
		case a == "--json":
			asJSON = true
		case a == "--dir":
			v, ok := next()
			if !ok {
				return usageError(env, "diagnose: --dir needs a directory")
			}
			dir = v
		case a == "--stress":
			v, ok := next()
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 2 || n > 100000 {
				return usageError(env, "diagnose: --stress needs a number of evaluations in [2, 100000], got %q", v)
			}
			stress = n
		case a == "--fail-check": // hidden: make a check fail, for tests of the failure path
			v, ok := next()
			if !ok {
				return usageError(env, "diagnose: --fail-check needs a check name")
			}
			forced = append(forced, v)
		default:
			return usageError(env, "diagnose: unknown argument %s (usage: bohost diagnose [--json] [--dir DIR] [--stress N])", a)
		}
	}
	if v := env.Getenv("BOHOST_DIAGNOSE_FAIL"); v != "" {
		forced = append(forced, strings.Split(v, ",")...)
	}
	exe := env.Executable
	if exe == "" {
		exe, _ = os.Executable()
	}
	checks := []Check{
		checkVersions(),
		checkGPU(),
		checkDisk(dir),
		checkMemory(),
	}
	ctx, got, stop := commandContext(env)
	defer stop()
	checks = append(checks, checkCrashIsolation(ctx, exe)...)
	if s := got(); s != nil {
		return interrupted(env, "diagnose", s, "")
	}
	checks = append(checks, checkStress(ctx, stress))
	if s := got(); s != nil {
		return interrupted(env, "diagnose", s, "")
	}
	known := map[string]bool{}
	for _, c := range checks {
		known[c.Name] = true
	}
	for _, f := range forced {
		if !known[f] {
			var names []string
			for _, c := range checks {
				names = append(names, c.Name)
			}
			return usageError(env, "diagnose: --fail-check: no check named %q (checks: %s)", f, strings.Join(names, ", "))
		}
		for i := range checks {
			if checks[i].Name == f {
				checks[i].Status = "fail"
				checks[i].Detail = "forced to fail (--fail-check / BOHOST_DIAGNOSE_FAIL): " + checks[i].Detail
			}
		}
	}
	failed := 0
	for _, c := range checks {
		if c.Status == "fail" {
			failed++
		}
	}
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"ok": failed == 0, "failed": failed, "checks": checks}, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
		for _, c := range checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, strings.ToUpper(c.Status), c.Detail)
		}
		tw.Flush()
		if failed == 0 {
			fmt.Fprintln(env.Stdout, "\nall checks passed")
		} else {
			fmt.Fprintf(env.Stdout, "\n%d check(s) failed\n", failed)
		}
	}
	if failed > 0 {
		for _, c := range checks {
			if c.Status == "fail" {
				fmt.Fprintf(env.Stderr, "bohost diagnose: %s failed: %s\n", c.Name, c.Detail)
			}
		}
		return 1
	}
	return 0
}

func checkVersions() Check {
	b := "bohost " + version.Version
	if r := version.Revision(); r != "" {
		b += " (" + r + ")"
	}
	return Check{Name: "versions", Status: "info",
		Detail: fmt.Sprintf("%s, %s, %s, OpenCV %s", b, version.Go(), version.Lua, cv.Version()),
		Data:   map[string]any{"bohost": version.Version, "revision": version.Revision(), "go": version.Go(), "lua": version.Lua, "opencv": cv.Version()}}
}

// checkGPU says which path AirLine's per-pixel stages take here and why:
// "CPU: libcuda.so.1 not found (no NVIDIA driver)" or "CUDA: device 0 ...".
// The CUDA binding is in every build, so the answer depends only on the
// machine (and on the evaluator's device option, which defaults to "cpu").
// On the CUDA path it opens device 0, reads its memory and JIT-compiles the
// kernels, so that a device that cannot run them is a warning here rather
// than a fallback in the middle of a run.
func checkGPU() Check {
	return gpuCheck(gpu.Probe(), func() (gpuDevice, error) {
		c, err := gpu.Default()
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

// gpuDevice is what checkGPU uses of an opened *gpu.Context.
type gpuDevice interface {
	Memory() (gpu.MemInfo, error)
	LoadKernels() error
}

func gpuCheck(s gpu.Status, open func() (gpuDevice, error)) Check {
	d := map[string]any{"available": s.Path == gpu.PathCUDA, "path": s.Path, "reason": s.Reason, "library": s.Library}
	if s.DriverVersion > 0 {
		d["driver_cuda"] = s.DriverVersion
	}
	if s.Path != gpu.PathCUDA {
		return Check{Name: "gpu", Status: "info", Data: d,
			Detail: s.String() + `; AirLine stages run on the CPU (an evaluator with device = "cuda" falls back to it)`}
	}
	dev := s.Devices[0]
	d["device"], d["compute"], d["devices"] = dev.Name, fmt.Sprintf("%d.%d", dev.Major, dev.Minor), len(s.Devices)
	detail := s.String() + `; AirLine stages on the GPU with evaluator device = "cuda"`
	fallback := `; an evaluator with device = "cuda" falls back to the CPU`
	c, err := open()
	if err != nil {
		return Check{Name: "gpu", Status: "warn", Data: d, Detail: detail + ", but device 0 cannot be opened: " + err.Error() + fallback}
	}
	m, err := c.Memory()
	if err != nil {
		return Check{Name: "gpu", Status: "warn", Data: d, Detail: detail + ", but its memory cannot be read: " + err.Error()}
	}
	d["free_bytes"], d["total_bytes"] = m.Free, m.Total
	detail += fmt.Sprintf("; %s free of %s", memctl.FormatBytes(uint64(m.Free)), memctl.FormatBytes(uint64(m.Total)))
	t0 := time.Now()
	if err := c.LoadKernels(); err != nil {
		return Check{Name: "gpu", Status: "warn", Data: d, Detail: detail + ", but the kernels do not load: " + err.Error() + fallback}
	}
	jit := time.Since(t0).Seconds()
	d["kernels_load_s"] = jit
	return Check{Name: "gpu", Status: "ok", Data: d, Detail: detail + fmt.Sprintf("; kernels JIT-compiled in %.2f s", jit)}
}

func checkDisk(dir string) Check {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Check{Name: "disk", Status: "fail", Detail: fmt.Sprintf("cannot read free space at %s: %v", dir, err)}
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	d := map[string]any{"dir": dir, "free_bytes": free}
	detail := fmt.Sprintf("%s free at %s", memctl.FormatBytes(uint64(free)), dir)
	switch {
	case free < 100<<20:
		return Check{Name: "disk", Status: "fail", Detail: detail + " (under 100 MiB: run records may not fit)", Data: d}
	case free < 1<<30:
		return Check{Name: "disk", Status: "warn", Detail: detail + " (under 1 GiB)", Data: d}
	}
	return Check{Name: "disk", Status: "ok", Detail: detail, Data: d}
}

func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "MemAvailable:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n << 10
			}
		}
	}
	return -1
}

func checkMemory() Check {
	phys, err := memctl.PhysicalBytes()
	avail := memAvailable()
	if err != nil || avail < 0 {
		return Check{Name: "memory", Status: "warn", Detail: "cannot read the machine's memory (/proc/meminfo)"}
	}
	d := map[string]any{"physical_bytes": phys, "available_bytes": avail, "limit_bytes": memctl.Read().LimitBytes}
	detail := fmt.Sprintf("%s available of %s", memctl.FormatBytes(uint64(avail)), memctl.FormatBytes(phys))
	switch {
	case avail < 256<<20:
		return Check{Name: "memory", Status: "fail", Detail: detail + " (under 256 MiB of headroom)", Data: d}
	case avail < 1<<30:
		return Check{Name: "memory", Status: "warn", Detail: detail + " (under 1 GiB of headroom)", Data: d}
	}
	return Check{Name: "memory", Status: "ok", Detail: detail, Data: d}
}

const crashObjective = `
local fault = require "bohost.fault"
function evaluate(x, w)
  local m = x[1]
  if m == 1 then fault.segv()
  elseif m == 2 then fault.alloc(2^31)
  elseif m == 3 then fault.hang() end
  return 0.5
end
`

// checkCrashIsolation runs workers that segfault, exceed their memory cap
// and hang, and checks that each is caught, certified and replaced.
func checkCrashIsolation(ctx context.Context, exe string) []Check {
	dir, err := os.MkdirTemp("", "bohost-diagnose-")
	if err != nil {
		return []Check{{Name: "crash_isolation", Status: "fail", Detail: err.Error()}}
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "crash.lua")
	os.WriteFile(file, []byte(crashObjective), 0o644)
	spec, _ := json.Marshal(map[string]any{"lua": map[string]any{"file": file, "fn": "evaluate"}})
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	pool, err := worker.NewPool(ctx, worker.Options{Command: []string{exe, "worker"}, Env: []string{"BOHOST_FAULTS=1"}, Size: 1, Spec: spec,
		MaxRSSBytes: 256 << 20, Timeout: 1500 * time.Millisecond, KillGrace: 200 * time.Millisecond})
	if err != nil {
		return []Check{{Name: "crash_isolation", Status: "fail", Detail: "cannot start a worker: " + err.Error()}}
	}
	defer pool.Close()
	var out []Check
	for _, tc := range []struct {
		name, status, want string
		x                  float64
	}{
		{"crash_segv", worker.StatusCrashed, "SIGSEGV", 1},
		{"crash_memory_cap", worker.StatusOOM, "", 2},
		{"crash_hang", worker.StatusTimeout, "", 3},
		{"crash_recovery", worker.StatusOK, "", 0},
	} {
		res := pool.Eval(ctx, worker.Request{X: []float64{tc.x}, W: []float64{0}, EnvIndex: -1})
		c := Check{Name: tc.name, Data: map[string]any{"status": res.Status, "seconds": res.Seconds}}
		ok := res.Status == tc.status && (tc.status == worker.StatusOK || res.Death != nil)
		if res.Death != nil {
			c.Data["cause"], c.Data["signal"], c.Data["peak_rss_bytes"] = res.Death.Cause, res.Death.Signal, res.Death.PeakRSSBytes
			if tc.want != "" && res.Death.Signal != tc.want {
				ok = false
			}
		}
		switch {
		case ok && res.Death != nil:
			c.Status, c.Detail = "ok", fmt.Sprintf("caught: %s (%s) in %.2fs, worker replaced", res.Status, res.Death.Reason, res.Seconds)
		case ok:
			c.Status, c.Detail = "ok", fmt.Sprintf("a replaced worker evaluates normally (%d restarts)", pool.Restarts())
		default:
			c.Status, c.Detail = "fail", fmt.Sprintf("want status %s, got %s: %s", tc.status, res.Status, res.Error)
		}
		out = append(out, c)
	}
	return out
}

// openFDs counts this process's open file descriptors.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// checkStress evaluates the AirLine evaluator n times on the synthetic data
// set and measures RSS, Go heap, goroutine and file-descriptor growth per
// evaluation after a warm-up.
func checkStress(ctx context.Context, n int) Check {
	a, err := objective.NewAirline(objective.AirlineSpec{Synth: dataset.SynthOptions{N: 4, Width: 320, Height: 240, Seed: 1}})
	if err != nil {
		return Check{Name: "evaluator_stress", Status: "fail", Detail: err.Error()}
	}
	// Warm up over at least two passes of the 4 images, so the image cache
	// and the evaluator's buffer pool are full before measuring.
	warm := n / 4
	if warm < 8 {
		warm = 8
	}
	if warm > n-2 {
		warm = n - 2
	}
	if warm < 0 {
		warm = 0
	}
	var rss0, heap0 int64
	var g0, fd0 int
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if i == warm {
			memctl.Collect()
			rss0, _ = monitor.ProcRSS(0)
			heap0 = int64(memctl.Read().HeapBytes)
			g0, fd0 = runtime.NumGoroutine(), openFDs()
			t0 = time.Now()
		}
		if ctx.Err() != nil {
			return Check{Name: "evaluator_stress", Status: "fail", Detail: "interrupted"}
		}
		if _, err := a.Eval(ctx, worker.Request{EnvIndex: i % 4}); err != nil {
			return Check{Name: "evaluator_stress", Status: "fail", Detail: fmt.Sprintf("evaluation %d failed: %v", i+1, err)}
		}
	}
	memctl.Collect()
	rss1, _ := monitor.ProcRSS(0)
	heap1 := int64(memctl.Read().HeapBytes)
	g1, fd1 := runtime.NumGoroutine(), openFDs()
	m := float64(n - warm)
	per := float64(rss1-rss0) / m
	d := map[string]any{"evaluations": n, "warmup": warm, "rss_growth_bytes_per_eval": per, "heap_growth_bytes_per_eval": float64(heap1-heap0) / m,
		"goroutines_growth": g1 - g0, "fd_growth": fd1 - fd0, "ms_per_eval": time.Since(t0).Seconds() * 1000 / m}
	detail := fmt.Sprintf("%d evaluations: RSS %+.1f KiB/eval, Go heap %+.1f KiB/eval, goroutines %+d, open files %+d, %.0f ms/eval",
		n, per/1024, float64(heap1-heap0)/m/1024, g1-g0, fd1-fd0, d["ms_per_eval"])
	switch {
	// A leak shows as steady growth per evaluation; a few MiB in total is
	// the allocator's and the GC's noise on a short run.
	case per > 256<<10 && rss1-rss0 > 4<<20, g1-g0 > 2, fd1-fd0 > 2:
		return Check{Name: "evaluator_stress", Status: "fail", Detail: detail + " (growth per evaluation: a leak)", Data: d}
	}
	return Check{Name: "evaluator_stress", Status: "ok", Detail: detail, Data: d}
}
