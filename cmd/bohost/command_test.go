package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bohost/host/extproc"
	"bohost/host/extproc/extproctest"
)

// Command objectives (issue 16): bo.run{objective = {command = {...}}} with
// a fake evaluator in Go (this test binary, re-executed with
// BOHOST_FAKE_EVALUATOR=1: no Python needed) and, where python3 exists, a
// Python evaluator using scripts/python/bohost_worker.py.

func init() {
	if os.Getenv(extproctest.Env) == "1" {
		os.Exit(extproctest.Main())
	}
}

// cmdScript runs a command objective whose program is $EVAL_CMD (a JSON
// list), in pair mode with one worker (trials in order) unless --workers.
const cmdScript = `
local bo = require "bo"
local sys = require "bohost.sys"
local opt = bo.args{dir = "cmd", iterations = 11, workers = 1, n_initial = 3, timeout = 1.5, max_rss = "300MiB"}
local argv = {}
for a in sys.getenv("EVAL_CMD"):gmatch("[^\031]+") do argv[#argv + 1] = a end
local s = bo.run{
  dir = opt.dir,
  optimizer = {space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}}, env = {{0, 1}}, alpha = 0.5, n_w = 2,
               acquisition = "ucb", mode = "pair", n_initial = opt.n_initial, seed = 1, restarts = 2, raw_samples = 32,
               recommend_from = "evaluated"},
  objective = {command = argv, env = {BOHOST_FAKE_EVALUATOR = sys.getenv("FAKE") or "0"}, gpus = {0, 1}},
  iterations = opt.iterations, workers = opt.workers, timeout_s = opt.timeout, max_rss = opt.max_rss, progress = false,
}
print("status " .. s.status .. " trials " .. s.trials)
`

func newCmdCLI(t *testing.T) *cli {
	t.Helper()
	c := newCLI(t)
	if err := os.WriteFile(filepath.Join(c.cwd, "cmd.lua"), []byte(cmdScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeEnv is the environment of a run whose evaluator is the Go fake.
func fakeEnv(t *testing.T, extra ...string) []string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"EVAL_CMD=" + exe, "FAKE=1", "XDG_CACHE_HOME=" + t.TempDir()}, extra...)
}

type cmdTrial struct {
	Trial     int            `json:"trial"`
	Status    string         `json:"status"`
	Error     *string        `json:"error"`
	ErrorKind string         `json:"error_kind"`
	Score     map[string]any `json:"score"`
	Death     *struct {
		Signal     string `json:"signal"`
		ExitCode   int    `json:"exit_code"`
		Cause      string `json:"cause"`
		Reason     string `json:"reason"`
		StderrTail string `json:"stderr_tail"`
	} `json:"death"`
}

func readCmdTrials(t *testing.T, dir string) []cmdTrial {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "trials.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []cmdTrial
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var tr cmdTrial
		if err := json.Unmarshal([]byte(l), &tr); err != nil {
			t.Fatal(err)
		}
		out = append(out, tr)
	}
	return out
}

// want is one trial's expected outcome: its status and text that its error,
// death reason, stderr tail or score must hold.
type want struct {
	status string
	signal string
	in     []string
}

func checkTrials(t *testing.T, trials []cmdTrial, n int, wants map[int]want) {
	t.Helper()
	if len(trials) != n {
		t.Fatalf("%d trials, want %d", len(trials), n)
	}
	for i, tr := range trials {
		w, ok := wants[i]
		if !ok {
			w = want{status: "ok"}
		}
		if tr.Status != w.status {
			t.Errorf("trial %d: %s (%s), want %s", i, tr.Status, errText(tr.Error), w.status)
			continue
		}
		all, _ := json.Marshal(tr)
		if w.signal != "" && (tr.Death == nil || tr.Death.Signal != w.signal) {
			t.Errorf("trial %d: want a death by %s: %s", i, w.signal, all)
		}
		for _, s := range w.in {
			if !strings.Contains(string(all), s) {
				t.Errorf("trial %d lacks %q: %s", i, s, all)
			}
		}
	}
}

func errText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// procRunning reports whether pid runs (a zombie, dead and not yet reaped
// by whoever inherited it, does not).
func procRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func countSetups(t *testing.T, p string) []int {
	t.Helper()
	b, _ := os.ReadFile(p)
	var pids []int
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var pid int
		if _, err := fmt.Sscanf(l, "setup pid %d", &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestCommandObjectiveFaults: a Go evaluator that loads a 48 MiB "model"
// once, then segfaults, hangs past the timeout, goes over the memory cap,
// exits 0 without answering, writes a stray line on its stdout, returns NaN
// and raises, on chosen trials: the run finishes every iteration, each of
// those trials is recorded with its cause, every other trial is ok, and the
// model was loaded once per worker process start (and once more after the
// protocol error, whose evaluator is restarted).
func TestCommandObjectiveFaults(t *testing.T) {
	c := newCmdCLI(t)
	setups := filepath.Join(t.TempDir(), "setups")
	env := fakeEnv(t, "FAKE_SETUP_LOG="+setups, "FAKE_SETUP_BYTES=50331648", "FAKE_OOM_BYTES=440401920",
		"FAKE_ACTIONS=1:segv,3:hang,5:oom,7:exit0,9:garbage,10:nan,12:error")
	code, out := c.run(env, "cmd.lua", "--dir", "faults", "--timeout", "3")
	if code != 0 || !strings.Contains(out, "status finished trials 14") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	dir := filepath.Join(c.cwd, "faults")
	checkTrials(t, readCmdTrials(t, dir), 14, map[int]want{
		1:  {"crashed", "SIGSEGV", []string{"about to segfault", "the evaluator (pid", "was killed by SIGSEGV during trial 1"}},
		3:  {"timeout", "", []string{"hanging"}},
		5:  {"oom", "", []string{"max_rss"}},
		7:  {"crashed", "", []string{"exited with status 0 during trial 7", "without answering"}},
		9:  {"failed", "", []string{"worker 0, trial 9 (iteration 7, candidate 0, attempt 1)", "broke the protocol", "hello from the evaluator's stdout"}},
		10: {"failed", "", []string{"bad_value", "y = NaN"}},
		12: {"failed", "", []string{"ValueError: bad threshold", `"traceback":"Traceback`}},
	})
	// One setup per worker start (the first, then one per death: 4) and one
	// for the restart after the protocol error.
	if pids := countSetups(t, setups); len(pids) != 6 {
		t.Errorf("%d setups, want 6", len(pids))
	}
	log, err := os.ReadFile(extproc.LogPathFor(dir, 0))
	if err != nil || !strings.Contains(string(log), "CUDA_VISIBLE_DEVICES=0") || !strings.Contains(string(log), "hanging") {
		t.Errorf("the worker's log: %v\n%s", err, log)
	}
	ev, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if n := strings.Count(string(ev), `"event":"worker_death"`); n < 4 {
		t.Errorf("%d worker_death events, want >= 4", n)
	}
}

// TestCommandObjectivePython: the same with a Python evaluator that uses
// bohost_worker.py (found on PYTHONPATH without installing anything), where
// print() goes to the log instead of breaking the protocol and an exception
// is a failed trial with its traceback.
func TestCommandObjectivePython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: the Python evaluator is not tested (TestCommandObjectiveFaults tests the same with a Go evaluator)")
	}
	c := newCmdCLI(t)
	setups := filepath.Join(t.TempDir(), "setups")
	os.WriteFile(filepath.Join(c.cwd, "eval.py"), []byte(`
import os, signal, sys, time
import bohost_worker

model = None

def setup():
    global model
    model = b"\x01" * (48 << 20)          # a model, loaded once per process
    with open(os.environ["SETUP_LOG"], "a") as f:
        f.write("setup pid %d\n" % os.getpid())

def evaluate(x, w, env):
    t = env["trial"]
    if t == 1:
        print("about to segfault", file=sys.stderr)
        os.kill(os.getpid(), signal.SIGSEGV)
    if t == 3:
        print("hanging", file=sys.stderr)
        time.sleep(60)
    if t == 5:
        big = b"\x02" * (420 << 20)
        time.sleep(0.5)
    if t == 7:
        os._exit(0)
    if t == 9:
        print("this print goes to the log, not the protocol")
    if t == 10:
        raise ValueError("bad threshold %g" % x["a"])
    a, b = x["a"], x["b"]
    return {"f": -(a - 0.3) ** 2 - (b - 0.6) ** 2 - 0.5 * (w[0] - 0.5) ** 2 * a, "model_mb": len(model) >> 20}

bohost_worker.serve(evaluate, setup=setup)
`), 0o644)
	env := []string{"EVAL_CMD=" + py + "\x1f" + "eval.py", "SETUP_LOG=" + setups, "XDG_CACHE_HOME=" + t.TempDir()}
	code, out := c.run(env, "cmd.lua", "--dir", "py", "--timeout", "3")
	if code != 0 || !strings.Contains(out, "status finished trials 14") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	dir := filepath.Join(c.cwd, "py")
	trials := readCmdTrials(t, dir)
	checkTrials(t, trials, 14, map[int]want{
		1:  {"crashed", "SIGSEGV", []string{"about to segfault"}},
		3:  {"timeout", "", []string{"hanging"}},
		5:  {"oom", "", nil},
		7:  {"crashed", "", []string{"without answering"}},
		10: {"failed", "", []string{"ValueError: bad threshold", `in evaluate`}},
	})
	if trials[9].Score["model_mb"] != 48.0 {
		t.Errorf("trial 9: %+v", trials[9])
	}
	if pids := countSetups(t, setups); len(pids) != 5 {
		t.Errorf("%d setups, want 5 (one per worker start)", len(pids))
	}
	log, _ := os.ReadFile(extproc.LogPathFor(dir, 0))
	if !strings.Contains(string(log), "this print goes to the log, not the protocol") {
		t.Errorf("print() did not reach the log:\n%s", log)
	}
}

// TestCommandObjectiveKillResume: SIGKILLs of bohost at random moments, each
// followed by the same command again, give the trials of an uninterrupted
// run (x, w, status and score of every trial, in order), with two workers
// and evaluations in flight; no evaluator outlives its bohost.
func TestCommandObjectiveKillResume(t *testing.T) {
	c := newCmdCLI(t)
	setups := filepath.Join(t.TempDir(), "setups")
	env := fakeEnv(t, "FAKE_SLEEP_MS=40", "FAKE_SETUP_LOG="+setups)
	args := []string{"cmd.lua", "--workers", "2", "--n-initial", "4", "--iterations", "10", "--timeout", "30"}
	code, out := c.run(env, append(args, "--dir", "ref")...)
	if code != 0 || !strings.Contains(out, "status finished trials 14") {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	ref := trialLines(t, filepath.Join(c.cwd, "ref"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	kills := 0
	for k := 0; k < 8 && kills < 3; k++ {
		cmd, out := c.cmd(env, append(args, "--dir", "killed")...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(time.Duration(200+rng.IntN(900))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		cmd.Wait()
		timer.Stop()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			kills++
		} else if ws.ExitStatus() != 0 {
			t.Fatalf("session %d: %v\n%s", k, cmd.ProcessState, out)
		} else {
			break // finished before the kill
		}
	}
	code, out = c.run(env, append(args, "--dir", "killed")...)
	if code != 0 || !strings.Contains(out, "status finished") {
		t.Fatalf("final run: exit %d\n%s", code, out)
	}
	sameTrials(t, "killed run", ref, trialLines(t, filepath.Join(c.cwd, "killed")))
	if kills == 0 {
		t.Fatal("no kill landed before the run finished")
	}
	// Every evaluator died with its worker, and every worker with bohost.
	time.Sleep(200 * time.Millisecond)
	for _, pid := range countSetups(t, setups) {
		if procRunning(pid) {
			t.Errorf("evaluator pid %d outlived its run", pid)
		}
	}
	t.Logf("%d kills; %d trials identical to the uninterrupted run", kills, len(ref))
}

// TestCommandOptionErrors: the command objective's options are strict and
// their errors name them.
func TestCommandOptionErrors(t *testing.T) {
	base := `require("bo").run{dir = "d", optimizer = {space = {{0, 1}}, env = {{0, 1}}}, objective = %s}`
	for obj, msg := range map[string]string{
		`{command = {}}`:                                                  "objective.command must be the evaluator's argv",
		`{command = "python3 eval.py"}`:                                   "option 'objective.command' must be",
		`{command = {"python3"}, fn = "evaluate"}`:                        "unknown option 'objective.fn'",
		`{command = {"python3"}, envv = {}}`:                              "did you mean 'objective.env'",
		`{command = {"python3"}, gpus = 0}`:                               "option 'objective.gpus' must be a count of GPUs >= 1",
		`{command = {"python3"}, gpus = {}}`:                              "must list at least one device index",
		`{command = {"python3"}, gpus = {-1}}`:                            "objective.gpus[1] must be a device index >= 0",
		`{command = {"python3"}, setup_timeout_s = 0}`:                    "objective.setup_timeout_s",
		`{command = {"python3"}, env = {A = 1}}`:                          "option 'objective.env.A' must be a string",
		`{command = {"p"}, gpus = 2, env = {CUDA_VISIBLE_DEVICES = "1"}}`: "give one",
	} {
		r := run(t, "", "-e", fmt.Sprintf(base, obj))
		if r.code == 0 || !strings.Contains(r.stderr, msg) {
			t.Errorf("%s: exit %d, want %q in:\n%s", obj, r.code, msg, r.stderr)
		}
	}
}

// TestCommandHelp: bohost help command says where the Python helper lives,
// and bohost command writes it there.
func TestCommandHelp(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	h := run(t, "", "help", "command")
	if h.code != 0 || !strings.Contains(h.stdout, "bohost_worker.py") || !strings.Contains(h.stdout, "docs/evaluators.md") {
		t.Fatalf("%+v", h)
	}
	r := run(t, "", "command")
	dir := strings.TrimSpace(r.stdout)
	if r.code != 0 || dir == "" {
		t.Fatalf("%+v", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bohost_worker.py"))
	if err != nil || !strings.Contains(string(b), "def serve(evaluate, setup=None)") {
		t.Fatalf("%s: %v", dir, err)
	}
}
