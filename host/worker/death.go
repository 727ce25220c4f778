package worker

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// Causes of a worker's death (Death.Cause).
const (
	CauseSignal     = "signal"      // died by a signal nobody in bohost sent (SIGSEGV, SIGABRT, an outside SIGKILL)
	CauseExit       = "exit"        // exited on its own (non-zero status, or zero mid-evaluation)
	CauseTimeout    = "timeout"     // killed by the pool: evaluation past its timeout
	CauseHeartbeat  = "heartbeat"   // killed by the pool: no frame for HeartbeatTimeout
	CauseRSSCap     = "rss_cap"     // killed by the pool: VmRSS above MaxRSSBytes
	CauseRuntimeOOM = "runtime_oom" // the Go runtime ran out of memory (its rlimit or the host)
	CauseOOMKill    = "oom_kill"    // SIGKILL while the cgroup's oom_kill counter rose
	CauseProtocol   = "protocol"    // it broke the frame protocol (e.g. wrote to stdout)
	CauseCanceled   = "canceled"    // killed by the pool: the caller's context ended or the pool closed
)

// What enforced a memory cap (Death.CapEnforcedBy), from the most to the
// least precise.
const (
	CapByCgroup = "cgroup_v2"   // the kernel's OOM killer at the worker's own cgroup v2 memory.max
	CapByRlimit = "rlimit_data" // the worker's RLIMIT_DATA: an allocation failed inside it
	CapByPeak   = "peak_rss"    // the pool, after the evaluation: its VmHWM (reset at its start) was above the cap
	CapByPoll   = "rss_poll"    // the pool's periodic VmRSS poll, during the evaluation
)

// Death is the certificate the parent writes for a worker that died. It is
// the `death` object of a trials.jsonl line (docs/rundir.md).
type Death struct {
	Signal           string         `json:"signal"`    // e.g. "SIGSEGV"; "" when it exited
	ExitCode         int            `json:"exit_code"` // -1 when killed by a signal
	PID              int            `json:"pid"`
	Cause            string         `json:"cause"`  // one of the Cause constants
	Reason           string         `json:"reason"` // one readable sentence
	StderrTail       string         `json:"stderr_tail"`
	Fatal            string         `json:"fatal,omitempty"` // first crash line of stderr ("fatal error: …", "panic: …", "terminate called …")
	PeakRSSBytes     int64          `json:"peak_rss_bytes"`  // largest VmRSS the parent saw
	OOMKillDelta     OOMDelta       `json:"oom_kill_delta"`  // a number, or "unavailable"
	LastMonitor      map[string]any `json:"last_monitor,omitempty"`
	Phase            string         `json:"phase"` // last phase the worker reported
	HeartbeatTimeout bool           `json:"heartbeat_timeout"`
	Worker           int            `json:"worker"`
	RequestID        uint64         `json:"request_id,omitempty"` // 0: it died while idle
	Started          string         `json:"started"`
	Time             string         `json:"time"`
	Command          []string       `json:"command,omitempty"`
	// MaxRSSBytes is the worker's memory cap (0: none), Limits what was
	// applied to enforce it (the worker's Ready.Limits, plus the cgroup),
	// and CapEnforcedBy, for a death over the cap, which mechanism caught
	// it (one of the CapBy constants).
	MaxRSSBytes   int64  `json:"max_rss_bytes,omitempty"`
	Limits        string `json:"limits,omitempty"`
	CapEnforcedBy string `json:"cap_enforced_by,omitempty"`
	// Step is the Launcher's account of the death (Slurm's step: its ids,
	// the state and exit code Slurm gave it, the line that said so); nil
	// for a worker started directly.
	Step *Step `json:"step,omitempty"`
}

// Step is how a worker started by a Launcher ended, as the launcher saw it
// (for Slurm: the job step's state, as sacct would name it).
type Step struct {
	Launcher string `json:"launcher"`          // e.g. "slurm"
	JobID    string `json:"job_id,omitempty"`  // the job (allocation) the step ran in
	StepID   string `json:"step_id,omitempty"` // the step within the job
	Node     string `json:"node,omitempty"`
	State    string `json:"state"`            // e.g. COMPLETED, FAILED, CANCELLED, OUT_OF_MEMORY, TIMEOUT, NODE_FAIL
	ExitCode int    `json:"exit_code"`        // the launcher's exit status (srun: 128+n for a task killed by signal n)
	Signal   string `json:"signal,omitempty"` // the signal that ended the task, e.g. "SIGKILL"
	Reason   string `json:"reason,omitempty"` // the launcher's own line about it
}

// OOMDelta is the change of the cgroup's oom_kill counter over the worker's
// life. It marshals as a number, or as the string "unavailable" when the
// counter could not be read.
type OOMDelta struct {
	N     int64
	Known bool
}

// MarshalJSON implements json.Marshaler.
func (d OOMDelta) MarshalJSON() ([]byte, error) {
	if !d.Known {
		return []byte(`"unavailable"`), nil
	}
	return []byte(strconv.FormatInt(d.N, 10)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *OOMDelta) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(b, []byte(`"`)) || string(b) == "null" {
		*d = OOMDelta{}
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*d = OOMDelta{N: n, Known: true}
	return nil
}

// ring keeps the last bytes written to it.
type ring struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if len(r.buf) > r.max {
		r.buf = append(r.buf[:0], r.buf[len(r.buf)-r.max:]...)
	}
	return len(p), nil
}

// tail returns the last n lines.
func (r *ring) tail(n int) string {
	r.mu.Lock()
	s := string(r.buf)
	r.mu.Unlock()
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// isFatalLine reports whether a stderr line announces a crash.
func isFatalLine(l string) bool {
	for _, p := range []string{"fatal error:", "panic:", "terminate called", "runtime: out of memory", "SIGSEGV", "SIGBUS", "Segmentation fault", "Aborted", "std::bad_alloc"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// runtimeOOM reports whether a stderr line or text shows the Go runtime, a
// C++ allocation or OpenCV running out of memory.
func runtimeOOM(stderr string) bool {
	for _, p := range []string{"runtime: out of memory", "runtime: cannot allocate memory", "fatal error: out of memory",
		"std::bad_alloc", "Insufficient memory", "Cannot allocate memory", "ailed to allocate"} {
		if strings.Contains(stderr, p) {
			return true
		}
	}
	return false
}

// goSignal returns the signal name from a Go runtime crash line such as
// "SIGSEGV: segmentation violation" (a fault in C code called through cgo, or
// in the runtime itself: the process then exits with status 2 instead of
// dying by the signal), or "".
func goSignal(fatal string) string {
	name, _, ok := strings.Cut(fatal, ": ")
	if !ok || !strings.HasPrefix(name, "SIG") || strings.ToUpper(name) != name || strings.ContainsAny(name, " \t") {
		return ""
	}
	return name
}
