// Package extproctest is a fake external evaluator written in Go: a
// complete implementation of bohost's evaluator protocol (version 1,
// docs/evaluators.md) that misbehaves on demand, so that the bridge's and
// the runs' failure handling is tested without Python. Tests re-execute
// their own binary with Env set to "1" and call Main from TestMain (or an
// init function).
//
// Its objective is f(x, w) = -(x1-0.3)² - (x2-0.6)² - 0.5 (w1-0.5)² x1
// (the terms whose coordinates exist). Environment variables:
//
//	FAKE_ACTIONS      "TRIAL:ACTION,...": what to do on those trials (the request's trial)
//	FAKE_SETUP        "", "error", "exit", "silent", "garbage", "noversion", "version2": how setup goes
//	FAKE_SETUP_LOG    a file to which each setup appends one line (counts model loads)
//	FAKE_SETUP_BYTES  bytes to allocate and touch once at setup (a "model")
//	FAKE_OOM_BYTES    what the oom action allocates (default 768 MiB)
//	FAKE_SLEEP_MS     sleep before each reply
//
// Actions: segv, abort, kill9, hang, oom, exit0, exit3, garbage (a stray
// stdout line, then the reply), badjson, notobject, notype, wrongtype,
// wrongid, version2, huge (a 17 MiB line), truncated (half a line, then
// exit 0), nan (a bare NaN token), inf, missing (no y), ystring, error (an
// error reply with a traceback), phase (a phase line, then the reply),
// stderr (60 stderr lines, then the reply), closestdout, answer_exit3
// (reply, then exit 3 while idle), score (a score record with extra fields).
package extproctest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Env selects the fake evaluator in a re-executed test binary.
const Env = "BOHOST_FAKE_EVALUATOR"

// The protocol's pieces this evaluator uses (it does not import
// host/extproc, whose own tests import this package).
const version = 1

type request struct {
	Type  string    `json:"type"`
	ID    uint64    `json:"id"`
	Trial int       `json:"trial"`
	X     []float64 `json:"x"`
	W     []float64 `json:"w"`
}

// dieBy ends the process by sig with its default action (as
// extproc.DieBy: the Go runtime would turn a SIGSEGV into exit status 2).
func dieBy(sig syscall.Signal) {
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	runtime.LockOSThread()
	var act [4]uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act[0])), 0, 8, 0, 0)
	mask := uint64(1) << (uint(sig) - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1, uintptr(unsafe.Pointer(&mask)), 0, 8, 0, 0)
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
	time.Sleep(2 * time.Second)
	os.Exit(128 + int(sig))
}

// Objective is the fake's value at x, w.
func Objective(x, w []float64) float64 {
	y := 0.0
	if len(x) > 0 {
		y -= (x[0] - 0.3) * (x[0] - 0.3)
		if len(w) > 0 {
			y -= 0.5 * (w[0] - 0.5) * (w[0] - 0.5) * x[0]
		}
	}
	if len(x) > 1 {
		y -= (x[1] - 0.6) * (x[1] - 0.6)
	}
	return y
}

var model []byte // what setup loads, kept alive

// Main runs the fake evaluator until stdin ends; it returns the exit status.
func Main() int {
	out := os.Stdout
	send := func(v any) {
		b, _ := json.Marshal(v)
		out.Write(append(b, '\n'))
	}
	raw := func(s string) { out.WriteString(s) }
	if p := os.Getenv("FAKE_SETUP_LOG"); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			fmt.Fprintf(f, "setup pid %d worker %s\n", os.Getpid(), os.Getenv("BOHOST_WORKER"))
			f.Close()
		}
	}
	if n, _ := strconv.ParseInt(os.Getenv("FAKE_SETUP_BYTES"), 10, 64); n > 0 {
		model = make([]byte, n)
		for i := range model {
			model[i] = byte(i)
		}
	}
	fmt.Fprintf(os.Stderr, "fake evaluator pid %d: setup done (CUDA_VISIBLE_DEVICES=%q)\n", os.Getpid(), os.Getenv("CUDA_VISIBLE_DEVICES"))
	switch os.Getenv("FAKE_SETUP") {
	case "error":
		send(map[string]any{"bohost": 1, "type": "error", "error": "cannot load model.pt: no such file", "traceback": "Traceback (most recent call last):\n  File \"eval.py\", line 3\nFileNotFoundError: model.pt"})
		return 1
	case "exit":
		fmt.Fprintln(os.Stderr, "fake evaluator: giving up during setup")
		return 4
	case "silent":
		time.Sleep(time.Hour)
	case "garbage":
		raw("Loading model... done\n")
	case "noversion":
		send(map[string]any{"type": "ready", "pid": os.Getpid()})
	case "version2":
		send(map[string]any{"bohost": 2, "type": "ready", "pid": os.Getpid()})
	default:
		send(map[string]any{"bohost": version, "type": "ready", "pid": os.Getpid()})
	}
	actions := map[int]string{}
	for _, a := range strings.Split(os.Getenv("FAKE_ACTIONS"), ",") {
		if t, act, ok := strings.Cut(strings.TrimSpace(a), ":"); ok {
			if n, err := strconv.Atoi(t); err == nil {
				actions[n] = act
			}
		}
	}
	sleep, _ := strconv.Atoi(os.Getenv("FAKE_SLEEP_MS"))
	oomBytes, _ := strconv.ParseInt(os.Getenv("FAKE_OOM_BYTES"), 10, 64)
	if oomBytes <= 0 {
		oomBytes = 768 << 20
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if err != nil {
			return 0 // EOF: bohost is done with us
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil || req.Type != "eval" {
			fmt.Fprintf(os.Stderr, "fake evaluator: bad request %q: %v\n", line, err)
			return 2
		}
		if sleep > 0 {
			time.Sleep(time.Duration(sleep) * time.Millisecond)
		}
		y := Objective(req.X, req.W)
		ok := map[string]any{"type": "result", "id": req.ID, "y": y}
		id := strconv.FormatUint(req.ID, 10)
		switch actions[req.Trial] {
		case "segv":
			fmt.Fprintln(os.Stderr, "fake evaluator: about to segfault")
			dieBy(syscall.SIGSEGV)
		case "abort":
			dieBy(syscall.SIGABRT)
		case "kill9":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Hour)
		case "hang":
			fmt.Fprintln(os.Stderr, "fake evaluator: hanging")
			time.Sleep(time.Hour)
		case "oom":
			b := make([]byte, oomBytes)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			time.Sleep(300 * time.Millisecond)
			ok["n"] = len(b) + int(b[len(b)-4096])
			send(ok)
		case "exit0":
			fmt.Fprintln(os.Stderr, "fake evaluator: leaving without a word")
			return 0
		case "exit3":
			return 3
		case "garbage":
			raw("hello from the evaluator's stdout\n")
			send(ok)
		case "badjson":
			raw(`{"type": "result", "id": ` + id + `, "y": ` + "\n")
		case "notobject":
			raw("[1, 2, 3]\n")
		case "notype":
			raw(`{"id": ` + id + `, "y": 1}` + "\n")
		case "wrongtype":
			raw(`{"type": "resutl", "id": ` + id + `, "y": 1}` + "\n")
		case "wrongid":
			send(map[string]any{"type": "result", "id": req.ID + 1000, "y": y})
		case "version2":
			send(map[string]any{"bohost": 2, "type": "result", "id": req.ID, "y": y})
		case "huge":
			raw(`{"type": "result", "id": ` + id + `, "y": 1, "pad": "` + strings.Repeat("x", 17<<20) + "\"}\n")
		case "truncated":
			raw(`{"type": "result", "id": ` + id + `, "y": 0.`)
			return 0
		case "nan":
			raw(`{"type": "result", "id": ` + id + `, "y": NaN, "score": {"f": NaN, "n": 1}}` + "\n")
		case "inf":
			send(map[string]any{"type": "result", "id": req.ID, "y": "Infinity"})
		case "missing":
			send(map[string]any{"type": "result", "id": req.ID, "score": map[string]any{"n": 2}})
		case "ystring":
			send(map[string]any{"type": "result", "id": req.ID, "y": "high"})
		case "error":
			fmt.Fprintln(os.Stderr, "Traceback (most recent call last):\nValueError: bad threshold")
			send(map[string]any{"type": "error", "id": req.ID, "error": "ValueError: bad threshold",
				"traceback": "Traceback (most recent call last):\n  File \"eval.py\", line 9, in evaluate\nValueError: bad threshold\n"})
		case "phase":
			send(map[string]any{"type": "phase", "phase": "detect"})
			send(ok)
		case "stderr":
			for i := range 60 {
				fmt.Fprintf(os.Stderr, "progress line %d\n", i)
			}
			send(ok)
		case "closestdout":
			os.Stdout.Close()
			time.Sleep(time.Hour)
		case "answer_exit3":
			send(ok)
			time.Sleep(50 * time.Millisecond)
			return 3
		case "score":
			send(map[string]any{"type": "result", "id": req.ID, "score": map[string]any{"f": y, "n_lines": 12, "tag": "fake"}})
		case "":
			send(ok)
		default:
			fmt.Fprintf(os.Stderr, "fake evaluator: unknown action %q\n", actions[req.Trial])
			return 2
		}
	}
}
