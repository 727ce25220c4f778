package slurm

import (
	"strings"
	"testing"

	"bohost/host/worker"
)

// TestParseEnd reads the lines srun and slurmstepd wrote on the local
// cluster (slurm-wlm 22.05) for each way a step ends.
func TestParseEnd(t *testing.T) {
	for _, c := range []struct {
		name, stderr string
		exit         int
		killedBy     string
		state, sig   string
		taskExit     int
		job, step    string
	}{
		{"kill -9", "bohost worker: evaluating\nsrun: error: vm: task 0: Killed\nsrun: Force Terminated StepId=4.1\n", 137, "",
			StateFailed, "SIGKILL", -1, "4", "1"},
		{"scancel", "slurmstepd-vm: error: *** STEP 4.0 ON vm CANCELLED AT 2026-12-04T05:16:54 ***\nsrun: error: vm: task 0: Killed\n", 137, "",
			StateCancelled, "SIGKILL", -1, "4", "0"},
		{"over --mem", "slurmstepd-vm: error: StepId=4.2 exceeded memory limit (318435328 > 104857600), being killed\nslurmstepd-vm: error: Exceeded job memory limit\nsrun: error: vm: task 0: Killed\n", 137, "",
			StateOutOfMemory, "SIGKILL", -1, "4", "2"},
		{"time limit", "slurmstepd-vm: error: *** STEP 7.0 ON vm CANCELLED AT 2026-12-04T05:20:00 DUE TO TIME LIMIT ***\nsrun: error: vm: task 0: Terminated\n", 143, "",
			StateTimeout, "SIGTERM", -1, "7", "0"},
		{"job time limit", "srun: Job step aborted: Waiting up to 32 seconds for job step to finish.\nslurmstepd-vm: error: *** JOB 9 ON vm CANCELLED AT 2026-12-04T05:20:00 DUE TO TIME LIMIT ***\n", 0, "",
			StateTimeout, "", 0, "9", ""},
		{"node failure", "srun: error: Node failure on vm\nsrun: error: Nodes vm are still not ready\n", 1, "",
			StateNodeFail, "", 1, "", ""},
		{"exit 3", "worker: objective failed\nsrun: error: vm: task 0: Exited with exit code 3\n", 3, "",
			StateFailed, "", 3, "", ""},
		{"segv", "srun: error: vm: task 0: Segmentation fault (core dumped)\n", 139, "",
			StateFailed, "SIGSEGV", -1, "", ""},
		{"clean", "", 0, "", StateCompleted, "", 0, "", ""},
		{"srun killed", "", -1, "SIGKILL", StateCancelled, "SIGKILL", -1, "", ""},
		// The worker's own lines do not count, however they read.
		{"worker says CANCELLED", "objective: CANCELLED AT noon DUE TO TIME LIMIT\nexceeded memory limit\n", 2, "",
			StateFailed, "", 2, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ParseEnd(c.stderr, c.exit, c.killedBy)
			if e.State != c.state || e.Signal != c.sig || e.TaskExit != c.taskExit || e.JobID != c.job || e.StepID != c.step {
				t.Errorf("ParseEnd = %+v, want state %s signal %q task exit %d step %s.%s", e, c.state, c.sig, c.taskExit, c.job, c.step)
			}
			if c.state != StateCompleted && c.killedBy == "" && c.name != "worker says CANCELLED" && !strings.Contains(c.stderr, e.Line) {
				t.Errorf("line %q is not one of the input's", e.Line)
			}
		})
	}
}

func TestSrunArgv(t *testing.T) {
	got := strings.Join(SrunArgv(StepOptions{JobName: "w", GPUsPerTask: 1, CPUsPerTask: 2, Mem: "4G", Args: []string{"--partition=debug"}},
		[]string{"/bin/bohost", "worker"}), " ")
	want := "srun --ntasks=1 --nodes=1 --exact --unbuffered --kill-on-bad-exit=1 --mpi=none --quiet --job-name=w --gpus-per-task=1 --cpus-per-task=2 --mem=4G --partition=debug -- /bin/bohost worker"
	if got != want {
		t.Errorf("SrunArgv:\n got %s\nwant %s", got, want)
	}
}

// TestExplain: the certificate of a worker killed with kill -9 in its step,
// and of one the pool killed (its cause stands).
func TestExplain(t *testing.T) {
	l := &Launcher{Steps: StepOptions{Mem: "100M"}}
	r := &worker.Ready{PID: 42, Host: "vm", Env: map[string]string{"SLURM_JOB_ID": "12", "SLURM_STEP_ID": "3", "SLURMD_NODENAME": "vm"}}
	d := worker.Death{ExitCode: 137, Cause: worker.CauseExit, PID: 42, Worker: 1, Phase: "eval"}
	l.Explain(&d, r, "slurmstepd-vm: error: StepId=12.3 exceeded memory limit (318435328 > 104857600), being killed\nsrun: error: vm: task 0: Killed\n")
	if d.Cause != worker.CauseOOMKill || d.CapEnforcedBy != CapBySlurm || d.Step == nil || d.Step.State != StateOutOfMemory ||
		d.Step.JobID != "12" || d.Step.StepID != "3" || d.Step.ExitCode != 137 || !strings.Contains(d.Reason, "Slurm step 12.3 ended OUT_OF_MEMORY") {
		t.Errorf("over --mem: %+v step %+v", d, d.Step)
	}
	d = worker.Death{ExitCode: 137, Cause: worker.CauseExit, PID: 42, Worker: 1, Phase: "eval"}
	l.Explain(&d, r, "srun: error: vm: task 0: Killed\nsrun: Force Terminated StepId=12.3\n")
	if d.Cause != worker.CauseSignal || d.Signal != "SIGKILL" || d.Step.State != StateFailed || d.Step.Signal != "SIGKILL" {
		t.Errorf("kill -9: %+v step %+v", d, d.Step)
	}
	d = worker.Death{ExitCode: -1, Signal: "SIGKILL", Cause: worker.CauseTimeout, Reason: "evaluation ran past its timeout", Worker: 1}
	l.Explain(&d, r, "")
	if d.Cause != worker.CauseTimeout || d.Step.State != StateCancelled || !strings.HasPrefix(d.Reason, "evaluation ran past its timeout; Slurm step 12.3 ended CANCELLED") {
		t.Errorf("pool's kill: %+v step %+v", d, d.Step)
	}
}
