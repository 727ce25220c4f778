package run

import (
	"os"

	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/monitor"
	"bohost/host/worker"

	"golang.org/x/term"
)

// Environment switches a script's run reads from its process (FromProcess).
const (
	// TestKillEnv is Options.TestKill ("phase:n[:delay_us]").
	TestKillEnv = "BOHOST_TEST_KILL"
	// ResumeForceEnv = "1" forces a resume (bohost resume --force sets it).
	ResumeForceEnv = "BOHOST_RESUME_FORCE"
)

// FromProcess completes the process-level settings of a run started from
// the process bohost runs in (a script's bo.run), leaving what the caller
// set alone: the workers are this executable's hidden "worker" subcommand,
// Terminal says whether Log is a terminal (for the progress bar), the
// monitor samples the GPU's memory where one is usable and the workers'
// GPU memory where NVML is (workers_gpu_bytes), and the
// environment (getenv: the script runtime's) can force the resume
// (ResumeForceEnv) and set the test kill switch (TestKillEnv).
func (o *Options) FromProcess(getenv func(string) string) error {
	if len(o.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return errs.New(errs.Unavailable, "run.open", "cannot find the bohost executable for the workers: %v", err)
		}
		o.WorkerCommand = []string{exe, "worker"}
	}
	if f, ok := o.Log.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Terminal = true
	}
	if o.GPU == nil && gpu.Available() {
		o.GPU = gpuMemory
	}
	if o.WorkersGPU == nil {
		o.WorkersGPU = workersGPUMemory // empty cells where NVML is not available
	}
	if getenv(ResumeForceEnv) == "1" {
		o.Force = true
	}
	if o.TestKill == "" {
		o.TestKill = getenv(TestKillEnv)
	}
	return nil
}

// gpuMemory is the monitor's GPU probe: the device's memory in use (every
// process on it) and this process's pool (live buffers and cache).
func gpuMemory() (monitor.GPUInfo, bool) {
	m, err := gpu.Memory()
	if err != nil {
		return monitor.GPUInfo{}, false
	}
	return monitor.GPUInfo{Used: m.Total - m.Free, Total: m.Total, Pool: m.Used + m.Cached}, true
}

// workersGPUMemory is the monitor's probe of the workers' GPU memory: the
// driver's per-process figures (NVML, gpu.ProcessGPUMemory) summed over the
// worker pids and their process trees (an objective's own processes too).
// Not known without NVML, or when NVML has no figure for one of them.
func workersGPUMemory(pids []int) (int64, bool) {
	mem, err := gpu.ProcessGPUMemory()
	if err != nil {
		return 0, false
	}
	return sumWorkersGPU(mem, pids, worker.TreePIDs)
}

// sumWorkersGPU sums mem (pid → bytes, -1: not available) over pids and
// their descendants (tree(pid) lists pid and them), each process once. A
// process absent from mem holds no device memory.
func sumWorkersGPU(mem map[int]int64, pids []int, tree func(int) []int) (int64, bool) {
	if len(mem) == 0 {
		return 0, true // nothing on the GPU: no need to walk the trees
	}
	seen := map[int]bool{}
	var sum int64
	for _, p := range pids {
		for _, q := range tree(p) {
			if seen[q] {
				continue
			}
			seen[q] = true
			b, ok := mem[q]
			switch {
			case !ok:
			case b < 0:
				return 0, false
			default:
				sum += b
			}
		}
	}
	return sum, true
}
