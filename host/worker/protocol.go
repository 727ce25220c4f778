package worker

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Status values of a Result (docs/rundir.md), plus StatusCanceled, which is
// not a trial outcome: the caller's context ended, nothing is recorded.
const (
	StatusOK       = "ok"
	StatusFailed   = "failed"  // the objective returned an error (or panicked)
	StatusCrashed  = "crashed" // the worker died by a signal or an exit
	StatusTimeout  = "timeout" // the evaluation ran past its timeout, or the worker stopped answering
	StatusOOM      = "oom"     // the worker went over its memory cap or was OOM-killed
	StatusCanceled = "canceled"
)

// Frame types.
const (
	frameHello     = "hello"     // parent → worker, first frame
	frameReady     = "ready"     // worker → parent, answer to hello
	frameEval      = "eval"      // parent → worker
	frameResult    = "result"    // worker → parent
	frameHeartbeat = "heartbeat" // worker → parent, periodic and on each phase change
)

// Hello is the first frame a worker receives.
type Hello struct {
	// Spec tells the worker's Factory which objective to build (an AirLine
	// configuration, a Lua file and function, ...). Opaque to this package.
	Spec json.RawMessage `json:"spec,omitempty"`
	// Index is the pool slot (0-based), stable across restarts.
	Index int `json:"index"`
	// MaxRSSBytes caps the worker's memory (0: no cap): the worker sets
	// debug.SetMemoryLimit and RLIMIT_DATA from it once its objective is
	// built, the parent puts it in a cgroup v2 with this memory.max where it
	// can, kills it when VmRSS goes above it, and marks an evaluation whose
	// peak went above it oom.
	MaxRSSBytes int64 `json:"max_rss_bytes,omitempty"`
	// LimitAddressSpace also sets RLIMIT_AS (current VmSize + the cap). Off
	// by default: CUDA and the Go runtime reserve far more address space than
	// they use.
	LimitAddressSpace bool `json:"limit_address_space,omitempty"`
	// GPUMaxBytes is passed through to the Factory (0: no cap).
	GPUMaxBytes int64 `json:"gpu_max_bytes,omitempty"`
	// HeartbeatS is the heartbeat period in seconds (0: 1 s).
	HeartbeatS float64 `json:"heartbeat_s,omitempty"`
	// ReportEnv names environment variables the worker returns in
	// Ready.Env (a Launcher's: where it runs, e.g. Slurm's step ids).
	ReportEnv []string `json:"report_env,omitempty"`
}

// Ready is the worker's answer to Hello.
type Ready struct {
	PID       int    `json:"pid"`
	GoVersion string `json:"go_version,omitempty"`
	Limits    string `json:"limits,omitempty"` // which memory limits were applied
	Error     string `json:"error,omitempty"`  // the Factory failed: the worker exits
	ErrorKind string `json:"error_kind,omitempty"`
	// Tree: the objective evaluates in child processes (it implements
	// Tree), so the pool measures the worker's whole process tree.
	Tree bool `json:"tree,omitempty"`
	// Where the worker runs: its host name, the variables of Hello.ReportEnv
	// that are set in its environment, and its RSS right before Ready (the
	// baseline, for a worker the pool cannot measure itself: one started by
	// a Launcher on another host).
	Host     string            `json:"host,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	RSSBytes int64             `json:"rss_bytes,omitempty"`
}

// Request is one evaluation.
type Request struct {
	ID       uint64    `json:"id"` // set by the Pool when 0
	X        []float64 `json:"x"`
	W        []float64 `json:"w,omitempty"`
	EnvIndex int       `json:"env_index"`
	EnvID    string    `json:"env_id,omitempty"`
	TimeoutS float64   `json:"timeout_s,omitempty"` // 0: the pool's default
	// Args carries anything else the objective needs (opaque here).
	Args json.RawMessage `json:"args,omitempty"`
}

// Result is the outcome of one evaluation. The worker fills Y, Score, Error,
// PeakRSSBytes and Phase; the Pool adds Worker, PID, Seconds and, when the
// worker died, Death.
type Result struct {
	ID     uint64  `json:"id"`
	Status string  `json:"status"`
	Y      float64 `json:"y"` // meaningful only when Status is ok (always finite then)
	// Score is the objective's score record, e.g. {"f":…,"precision":…}.
	// Non-finite numbers in it are replaced by null (JSON cannot hold them).
	Score        map[string]any `json:"score,omitempty"`
	Error        string         `json:"error,omitempty"`
	ErrorKind    string         `json:"error_kind,omitempty"` // an errs kind when the objective returned an *errs.Error
	PeakRSSBytes int64          `json:"peak_rss_bytes,omitempty"`
	// PeakRSSScope says what PeakRSSBytes covers: PeakEval (this evaluation:
	// VmHWM was reset at its start) or PeakProcess (the reset failed). The
	// pool marks an evaluation whose own peak went over the cap oom.
	PeakRSSScope string  `json:"peak_rss_scope,omitempty"`
	Phase        string  `json:"phase,omitempty"`
	Seconds      float64 `json:"seconds"`
	Worker       int     `json:"worker"`
	PID          int     `json:"pid,omitempty"`
	Death        *Death  `json:"death,omitempty"`
}

// Heartbeat is sent by the worker every HeartbeatS and at each phase change.
type Heartbeat struct {
	Phase    string `json:"phase"`
	RSSBytes int64  `json:"rss_bytes,omitempty"`
}

// frame is the wire envelope: one of the pointer fields, named by Type.
type frame struct {
	Type      string     `json:"type"`
	Hello     *Hello     `json:"hello,omitempty"`
	Ready     *Ready     `json:"ready,omitempty"`
	Eval      *Request   `json:"eval,omitempty"`
	Result    *Result    `json:"result,omitempty"`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
}

// maxFrame bounds a frame's length, so a corrupt length cannot allocate GiBs.
const maxFrame = 64 << 20

// frameWriter writes length-prefixed frames: a 4-byte big-endian length, then
// that many bytes of JSON. Safe for concurrent use.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (fw *frameWriter) write(f *frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if len(b) > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", len(b), maxFrame)
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	_, err = fw.w.Write(buf)
	return err
}

// readFrame reads one frame. io.EOF means a clean end between frames.
func readFrame(r io.Reader) (*frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("torn frame header: %w", err)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame length %d exceeds the %d-byte limit (is something else writing to the protocol stream?)", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("torn frame of %d bytes: %w", n, err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("bad frame %s: %w", strconv.Quote(string(b[:min(len(b), 80)])), err)
	}
	return &f, nil
}
