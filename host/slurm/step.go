package slurm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"bohost/host/errs"
	"bohost/host/worker"
)

// Step states, as Slurm (sacct) names them.
const (
	StateCompleted   = "COMPLETED"
	StateFailed      = "FAILED"
	StateCancelled   = "CANCELLED"
	StateOutOfMemory = "OUT_OF_MEMORY"
	StateTimeout     = "TIMEOUT"
	StateNodeFail    = "NODE_FAIL"
)

// CapBySlurm is Death.CapEnforcedBy for a step Slurm killed over its --mem.
const CapBySlurm = "slurm_mem"

// StepOptions are the resources of one worker's job step (srun's options).
type StepOptions struct {
	JobName     string   // --job-name (default "bohost-worker")
	GPUsPerTask int      // --gpus-per-task (0: none)
	CPUsPerTask int      // --cpus-per-task (0: Slurm's default, 1)
	Mem         string   // --mem, per step, a Slurm size such as "4G" ("": Slurm's default)
	Args        []string // more srun options, before the "--"
}

// SrunArgv is the srun command line that runs argv as a job step of one
// task, its stdin, stdout and stderr connected to srun's:
//
//   - --ntasks=1 --nodes=1: one worker is one task;
//   - --exact: inside an allocation, the step takes only what it asks for,
//     so the other workers' steps run beside it (outside one, srun makes a
//     job of its own for each step);
//   - --unbuffered: slurmstepd forwards the worker's output as it comes;
//     without it, output is held until a newline, and the binary frames of
//     the worker protocol (host/worker) never arrive;
//   - --kill-on-bad-exit=1 --mpi=none: a failed task ends its step at once,
//     and no MPI setup;
//   - --quiet: no progress lines on stderr (errors, and the lines that say
//     how a step ended, stay: ParseEnd reads them).
func SrunArgv(o StepOptions, argv []string) []string {
	name := o.JobName
	if name == "" {
		name = "bohost-worker"
	}
	out := []string{"srun", "--ntasks=1", "--nodes=1", "--exact", "--unbuffered", "--kill-on-bad-exit=1",
		"--mpi=none", "--quiet", "--job-name=" + name}
	if o.GPUsPerTask > 0 {
		out = append(out, "--gpus-per-task="+strconv.Itoa(o.GPUsPerTask))
	}
	if o.CPUsPerTask > 0 {
		out = append(out, "--cpus-per-task="+strconv.Itoa(o.CPUsPerTask))
	}
	if o.Mem != "" {
		out = append(out, "--mem="+o.Mem)
	}
	out = append(out, o.Args...)
	out = append(out, "--")
	return append(out, argv...)
}

// End is how a step ended, read from srun's stderr and exit status.
type End struct {
	State    string // one of the State constants
	ExitCode int    // srun's exit status (128+n for a task killed by signal n)
	Signal   string // the signal that ended the task ("SIGKILL"), if one did
	TaskExit int    // the task's own exit code when it exited (-1: killed)
	JobID    string // from the lines, when they name the step
	StepID   string
	Line     string // the line that decided the state ("" when the status alone did)
}

var (
	reStepName  = regexp.MustCompile(`(?:StepId=|STEP |JOB )(\d+)(?:\.(\w+))?`)
	reExited    = regexp.MustCompile(`task \d+: Exited with exit code (\d+)`)
	reTaskEnded = regexp.MustCompile(`task \d+: ([A-Z][a-z].*)$`)
)

// strsignal texts srun writes for a task killed by a signal ("task 0:
// Killed").
var signalTexts = map[string]syscall.Signal{
	"Killed": syscall.SIGKILL, "Terminated": syscall.SIGTERM, "Segmentation fault": syscall.SIGSEGV,
	"Aborted": syscall.SIGABRT, "Bus error": syscall.SIGBUS, "Floating point exception": syscall.SIGFPE,
	"Illegal instruction": syscall.SIGILL, "Interrupt": syscall.SIGINT, "Hangup": syscall.SIGHUP,
	"Quit": syscall.SIGQUIT, "User defined signal 1": syscall.SIGUSR1, "User defined signal 2": syscall.SIGUSR2,
	"Broken pipe": syscall.SIGPIPE, "CPU time limit exceeded": syscall.SIGXCPU,
}

// ParseEnd reads how a step ended from srun's stderr (its last lines) and
// exit status; killedBy is the signal that killed srun itself ("" when it
// exited). The order is Slurm's own: a step over its memory is
// OUT_OF_MEMORY even though its task was then killed, one past its time
// limit TIMEOUT though the line says CANCELLED.
func ParseEnd(stderr string, exitCode int, killedBy string) End {
	e := End{ExitCode: exitCode, TaskExit: -1}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	// Only srun's and slurmstepd's own lines: the worker's stderr is
	// interleaved with them.
	find := func(pred func(string) bool) string {
		for i := len(lines) - 1; i >= 0; i-- {
			if l := strings.TrimSpace(lines[i]); fromSlurm(l) && pred(l) {
				return l
			}
		}
		return ""
	}
	has := func(subs ...string) func(string) bool {
		return func(l string) bool {
			for _, s := range subs {
				if strings.Contains(l, s) {
					return true
				}
			}
			return false
		}
	}
	// The task's own end: "task 0: Exited with exit code 3", "task 0: Killed".
	if l := find(has("task ")); l != "" {
		if m := reExited.FindStringSubmatch(l); m != nil {
			e.TaskExit, _ = strconv.Atoi(m[1])
		} else if m := reTaskEnded.FindStringSubmatch(l); m != nil {
			if s, ok := signalTexts[strings.TrimSpace(m[1])]; ok {
				e.Signal = worker.SignalName(s)
			}
		}
	}
	if e.Signal == "" && e.TaskExit < 0 && exitCode > 128 && exitCode < 128+65 {
		e.Signal = worker.SignalName(syscall.Signal(exitCode - 128))
	}
	if e.TaskExit < 0 && e.Signal == "" && exitCode >= 0 {
		e.TaskExit = exitCode
	}
	switch {
	case setLine(&e, find(has("exceeded memory limit", "Exceeded job memory limit", "Exceeded step memory limit", "oom-kill event", "OOM Killed", "out-of-memory"))):
		e.State = StateOutOfMemory
	case setLine(&e, find(has("DUE TO TIME LIMIT", "TIMEOUT"))):
		e.State = StateTimeout
	case setLine(&e, find(has("DUE TO NODE FAILURE", "Node failure", "NODE_FAIL", "node failure"))):
		e.State = StateNodeFail
	case setLine(&e, find(has("CANCELLED AT", "CANCELLED"))):
		e.State = StateCancelled
	case killedBy != "":
		// srun itself was killed (by the pool, which then cancels the step).
		e.State, e.Signal = StateCancelled, killedBy
	case exitCode == 0 && e.Signal == "":
		e.State, e.TaskExit = StateCompleted, 0
	default:
		e.State = StateFailed
		e.Line = find(has("task "))
		if e.Line == "" {
			e.Line = find(has("error"))
		}
	}
	for i := len(lines) - 1; i >= 0 && e.JobID == ""; i-- {
		if m := reStepName.FindStringSubmatch(lines[i]); m != nil && fromSlurm(strings.TrimSpace(lines[i])) {
			e.JobID, e.StepID = m[1], m[2]
		}
	}
	return e
}

// fromSlurm reports whether a stderr line is srun's or slurmstepd's.
func fromSlurm(l string) bool {
	return strings.HasPrefix(l, "srun:") || strings.HasPrefix(l, "slurmstepd")
}

func setLine(e *End, l string) bool {
	if l == "" {
		return false
	}
	e.Line = l
	return true
}

// Environment variables a worker's step reports in Ready.Env.
const (
	envJob  = "SLURM_JOB_ID"
	envStep = "SLURM_STEP_ID"
	envNode = "SLURMD_NODENAME"
)

// Launcher runs each worker of a host/worker Pool as a Slurm job step
// (worker.Options.Launcher). Inside an allocation (SLURM_JOB_ID set in the
// environment srun sees) the steps share it, each taking its own
// resources (--exact); outside one, each srun makes a job of its own.
type Launcher struct {
	Steps StepOptions
	// Env is added to the environment of the Slurm commands the launcher
	// runs itself (scancel, squeue), e.g. SLURM_CONF=...; srun gets the
	// pool's worker environment. A SLURM_JOB_ID here (as in srun's
	// environment) names the allocation the steps run in.
	Env []string
}

// allocation is the job the steps run in ("" when each srun makes its
// own): --jobid in the srun options, else SLURM_JOB_ID in Env or in this
// process's environment.
func (l *Launcher) allocation() string {
	for i, a := range l.Steps.Args {
		if v, ok := strings.CutPrefix(a, "--jobid="); ok {
			return v
		}
		if a == "--jobid" && i+1 < len(l.Steps.Args) {
			return l.Steps.Args[i+1]
		}
	}
	for i := len(l.Env) - 1; i >= 0; i-- {
		for _, k := range []string{"SLURM_JOB_ID=", "SLURM_JOBID="} {
			if v, ok := strings.CutPrefix(l.Env[i], k); ok {
				return v
			}
		}
	}
	own, _ := FromEnv(nil)
	return own.JobID
}

var _ worker.Launcher = (*Launcher)(nil)

// Check reports whether srun is on PATH and a Slurm controller answers, as
// an unavailable error with a hint.
func (l *Launcher) Check(ctx context.Context) error {
	if _, err := exec.LookPath("srun"); err != nil {
		return errs.New(errs.Unavailable, "slurm.launcher", "executor \"slurm\" needs Slurm's srun, which is not on PATH").
			WithHint("install Slurm's client commands (Debian: slurm-wlm), or for a local test cluster run make slurm-up and set SLURM_CONF=%s; or use executor = \"local\"", LocalConf())
	}
	if err := Available(ctx, l.Env); err != nil {
		return err
	}
	return nil
}

// jobName is the step's name: unique to this process and slot, so Stop can
// find a step that never said its id.
func (l *Launcher) jobName(slot int) string {
	n := l.Steps.JobName
	if n == "" {
		n = "bohost-worker"
	}
	return fmt.Sprintf("%s-%d-w%d", n, os.Getpid(), slot)
}

// Wrap implements worker.Launcher: srun ... -- argv.
func (l *Launcher) Wrap(slot int, argv []string) []string {
	o := l.Steps
	o.JobName = l.jobName(slot)
	return SrunArgv(o, argv)
}

// ReportEnv implements worker.Launcher: the step's job, step and node.
func (l *Launcher) ReportEnv() []string { return []string{envJob, envStep, envNode} }

// StepName is "JOB.STEP" of a worker's Ready ("" when unknown).
func StepName(r *worker.Ready) string {
	if r == nil || r.Env[envJob] == "" || r.Env[envStep] == "" {
		return ""
	}
	return r.Env[envJob] + "." + r.Env[envStep]
}

// Stop implements worker.Launcher: after the pool killed srun, scancel the
// step (killing srun does not end it), or the whole job when srun made it
// for this one step (it is not the allocation the steps share). A worker that never
// said its step is looked up by its name.
func (l *Launcher) Stop(slot int, r *worker.Ready) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alloc := l.allocation()
	var targets []string
	if r != nil && r.Env[envJob] != "" {
		if r.Env[envJob] != alloc {
			targets = append(targets, r.Env[envJob])
		} else if s := StepName(r); s != "" {
			targets = append(targets, s)
		}
	} else {
		name := l.jobName(slot)
		if out, err := Command(ctx, l.Env, "squeue", "-h", "-s", "-o", "%i %j"); err == nil {
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) == 2 && f[1] == name {
					if job, _, _ := strings.Cut(f[0], "."); job != alloc {
						targets = append(targets, job)
					} else {
						targets = append(targets, f[0])
					}
				}
			}
		}
	}
	for _, t := range targets {
		Command(ctx, l.Env, "scancel", t) // an already ended step: nothing to do
	}
}

// Explain implements worker.Launcher: Death.Step from srun's stderr and
// exit status, and, for a death the pool did not cause, the cause, signal
// and reason Slurm's state implies.
func (l *Launcher) Explain(d *worker.Death, r *worker.Ready, stderrTail string) {
	srunExit, srunSig := d.ExitCode, d.Signal
	end := ParseEnd(stderrTail, srunExit, srunSig)
	st := &worker.Step{Launcher: "slurm", JobID: end.JobID, StepID: end.StepID, State: end.State,
		ExitCode: srunExit, Signal: end.Signal, Reason: end.Line}
	if r != nil {
		if v := r.Env[envJob]; v != "" {
			st.JobID, st.StepID = v, r.Env[envStep]
		}
		st.Node = r.Env[envNode]
		if st.Node == "" {
			st.Node = r.Host
		}
	}
	if srunSig != "" {
		st.ExitCode = -1
	}
	d.Step = st
	name := "step"
	if st.JobID != "" {
		name = "step " + st.JobID
		if st.StepID != "" {
			name += "." + st.StepID
		}
	}
	where := ""
	if st.Node != "" {
		where = " on " + st.Node
	}
	account := fmt.Sprintf("Slurm %s ended %s", name, st.State)
	switch {
	case st.Signal != "":
		account += " (" + st.Signal + ")"
	case end.TaskExit >= 0:
		account += fmt.Sprintf(" (exit code %d)", end.TaskExit)
	}
	if end.Line != "" {
		account += ": " + end.Line
	}
	switch d.Cause {
	case worker.CauseSignal, worker.CauseExit, "":
	default:
		// The pool decided this death (a timeout, the cap, a cancel) and
		// stopped the step itself: its reason stands.
		d.Reason += "; " + account
		return
	}
	who := fmt.Sprintf("worker %d (pid %d%s)", d.Worker, d.PID, where)
	switch end.State {
	case StateOutOfMemory:
		d.Cause, d.CapEnforcedBy, d.Signal, d.ExitCode = worker.CauseOOMKill, CapBySlurm, "SIGKILL", -1
		d.Reason = fmt.Sprintf("%s went over its Slurm step's memory limit (--mem %s) and Slurm killed it in phase %q; %s", who, orNone(l.Steps.Mem), d.Phase, account)
	case StateTimeout:
		d.Cause, d.Signal, d.ExitCode = worker.CauseTimeout, end.Signal, -1
		d.Reason = fmt.Sprintf("%s ran past its Slurm time limit in phase %q; %s", who, d.Phase, account)
	case StateCancelled, StateNodeFail:
		d.Cause, d.Signal, d.ExitCode = worker.CauseSignal, end.Signal, -1
		if d.Signal == "" {
			d.Signal = "SIGKILL"
		}
		d.Reason = fmt.Sprintf("%s was ended by Slurm in phase %q; %s", who, d.Phase, account)
	default:
		if end.Signal != "" {
			d.Cause, d.Signal, d.ExitCode = worker.CauseSignal, end.Signal, -1
			d.Reason = fmt.Sprintf("%s was killed by %s in phase %q; %s", who, end.Signal, d.Phase, account)
		} else {
			d.Cause, d.Signal, d.ExitCode = worker.CauseExit, "", end.TaskExit
			d.Reason = fmt.Sprintf("%s exited with status %d in phase %q; %s", who, end.TaskExit, d.Phase, account)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "default"
	}
	return s
}
