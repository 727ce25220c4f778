package run

import (
	"os"

	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/monitor"

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
// monitor samples the GPU's memory where one is usable, and the
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
