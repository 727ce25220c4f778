package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A run that prints a line per iteration to stdout (for the `| head -1`
// test) and runs long enough to be stopped.
const cliPrintScript = `
local bo = require "bo"
local opt = bo.args{dir = "run", iterations = 40, max_rss = "", faults = false, objective = "objective.lua"}
local s = bo.run{
  dir = opt.dir,
  optimizer = {space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}}, env = {{0, 1}},
               alpha = 0.3, n_w = 3, acquisition = "ucb", mode = "all_w", n_initial = 2, seed = 3,
               restarts = 2, raw_samples = 32, recommend_from = "evaluated"},
  objective = {file = opt.objective, fn = "evaluate"},
  iterations = opt.iterations, workers = 2, timeout_s = 30, progress = false, faults = opt.faults,
  max_rss = opt.max_rss ~= "" and opt.max_rss or nil,
  on_iteration = function(run, rec) print("iteration " .. rec.iteration) end,
}
print("status " .. s.status .. " trials " .. s.trials)
`

type runEvent struct {
	Event string         `json:"event"`
	Msg   string         `json:"msg"`
	Death map[string]any `json:"death"`
}

func readRunEvents(t *testing.T, dir string) []runEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []runEvent
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e runEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("events.jsonl: %v: %s", err, l)
		}
		out = append(out, e)
	}
	return out
}

// checkStopped checks what a run stopped by a signal leaves: a summary with
// status interrupted, a shutdown event naming the signal, and a final
// checkpoint that `bohost resume` continues from to the end.
func checkStopped(t *testing.T, c *cli, dir, signal string) {
	t.Helper()
	var s struct {
		Status string `json:"status"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if json.Unmarshal(b, &s); s.Status != "interrupted" {
		t.Fatalf("summary %s", b)
	}
	var shutdown *runEvent
	for _, e := range readRunEvents(t, dir) {
		if e.Event == "shutdown" {
			shutdown = &e
		}
	}
	if shutdown == nil || !strings.Contains(shutdown.Msg, signal) || !strings.Contains(shutdown.Msg, "final checkpoint written") {
		t.Fatalf("shutdown event %+v: want one naming %s and the final checkpoint", shutdown, signal)
	}
	if cb, err := os.ReadFile(filepath.Join(dir, "checkpoint.json")); err != nil || !json.Valid(cb) {
		t.Fatalf("checkpoint.json: %v", err)
	}
	code, out := c.run(nil, "resume", dir)
	if code != 0 || !strings.Contains(out, "status finished") || strings.Contains(out, "checkpoint_fallback") {
		t.Fatalf("resume after %s: exit %d\n%s", signal, code, out)
	}
}

func waitTrials(t *testing.T, p string, n int, out interface{ String() string }) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for countLines(p) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no progress in %s:\n%s", p, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunStopSignalsCLI: SIGHUP (a closed terminal) and a stdout closed by
// its reader (`| head -1`, SIGPIPE) stop a real run like SIGTERM: a message,
// a final checkpoint, a shutdown event naming the signal, summary
// interrupted, exit 128+signal; and resuming finishes the run. A worker that
// gets SIGTERM stops cleanly and is certified like any other death; a
// max_rss below a worker's baseline is refused with a clear message; a
// worker dying before the first monitor row gets real times.
func TestRunStopSignalsCLI(t *testing.T) {
	c := newCLI(t)
	os.WriteFile(filepath.Join(c.cwd, "print.lua"), []byte(cliPrintScript), 0o644)

	t.Run("SIGHUP", func(t *testing.T) {
		dir := filepath.Join(c.cwd, "hup")
		cmd, out := c.cmd(nil, "print.lua", "--dir", dir, "--iterations", "12")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitTrials(t, filepath.Join(dir, "trials.jsonl"), 9, out)
		cmd.Process.Signal(syscall.SIGHUP)
		cmd.Wait()
		if got := cmd.ProcessState.ExitCode(); got != ExitHangup {
			t.Fatalf("exit %d (%v), want %d\n%s", got, cmd.ProcessState, ExitHangup, out)
		}
		if s := out.String(); !strings.Contains(s, "SIGHUP received: stopping") || !strings.Contains(s, "interrupted by SIGHUP") {
			t.Fatalf("output:\n%s", s)
		}
		checkStopped(t, c, dir, "SIGHUP")
	})

	t.Run("stdout_closed", func(t *testing.T) {
		dir := filepath.Join(c.cwd, "pipe")
		cmd, errb := c.cmd(nil, "print.lua", "--dir", dir, "--iterations", "12")
		cmd.Stdout = nil
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n') // head -1
		if err != nil || !strings.HasPrefix(line, "iteration ") {
			cmd.Process.Kill()
			t.Fatalf("first line %q: %v\n%s", line, err, errb)
		}
		stdout.Close()
		cmd.Wait()
		if got := cmd.ProcessState.ExitCode(); got != ExitBrokenPipe {
			t.Fatalf("exit %d (%v), want %d\n%s", got, cmd.ProcessState, ExitBrokenPipe, errb)
		}
		if s := errb.String(); !strings.Contains(s, "SIGPIPE received (stdout was closed): stopping") || !strings.Contains(s, "interrupted by SIGPIPE") {
			t.Fatalf("stderr:\n%s", s)
		}
		checkStopped(t, c, dir, "SIGPIPE")
	})

	t.Run("worker_SIGTERM", func(t *testing.T) {
		dir := filepath.Join(c.cwd, "wterm")
		os.WriteFile(filepath.Join(c.cwd, "slow.lua"), []byte(`
local sys = require "bohost.sys"
return {evaluate = function(x, w) sys.sleep(0.3); return x[1] - w[1] end}
`), 0o644)
		cmd, out := c.cmd(nil, "print.lua", "--dir", dir, "--iterations", "3", "--objective", "slow.lua")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitTrials(t, filepath.Join(dir, "trials.jsonl"), 2, out)
		kids := childPIDs(cmd.Process.Pid)
		if len(kids) == 0 {
			t.Fatalf("no worker processes:\n%s", out)
		}
		syscall.Kill(kids[0], syscall.SIGTERM)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(out.String(), "status finished") {
			t.Fatalf("the run did not survive its worker's SIGTERM: exit %d\n%s", code, out)
		}
		var death map[string]any
		for _, e := range readRunEvents(t, dir) {
			if e.Event == "worker_death" && e.Death["pid"] == float64(kids[0]) {
				death = e.Death
			}
		}
		if death == nil || death["signal"] != "SIGTERM" || death["cause"] != "signal" ||
			!strings.Contains(death["stderr_tail"].(string), "SIGTERM received: stopping") {
			t.Fatalf("worker_death of pid %d: %v", kids[0], death)
		}
	})

	t.Run("max_rss_below_baseline", func(t *testing.T) {
		code, out := c.run(nil, "print.lua", "--dir", filepath.Join(c.cwd, "tiny"), "--max_rss", "1000")
		if code != ExitScriptError || !strings.Contains(out, "max_rss = 1000 bytes") || !strings.Contains(out, "baseline") ||
			strings.Contains(out, "before answering hello") {
			t.Fatalf("max_rss 1000: exit %d\n%s", code, out)
		}
	})

	t.Run("early_death_times", func(t *testing.T) {
		dir := filepath.Join(c.cwd, "early")
		os.WriteFile(filepath.Join(c.cwd, "first_segv.lua"), []byte(`
local fault = require "bohost.fault"
local sys = require "bohost.sys"
return {evaluate = function(x, w)
  local p = sys.getenv("FAULT_COUNTER")
  local f = io.open(p, "r")
  if not f then f = io.open(p, "w"); f:write("1"); f:close(); fault.segv() end
  f:close()
  return x[1]
end}
`), 0o644)
		counter := filepath.Join(t.TempDir(), "n")
		code, out := c.run([]string{"FAULT_COUNTER=" + counter}, "print.lua", "--dir", dir, "--iterations", "1",
			"--objective", "first_segv.lua", "--faults")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for _, f := range []string{"trials.jsonl", "events.jsonl"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if !strings.Contains(string(b), `"signal":"SIGSEGV"`) {
				t.Fatalf("%s has no SIGSEGV death:\n%s", f, b)
			}
			if strings.Contains(string(b), "0001-01-01") {
				t.Errorf("%s has a zero time:\n%s", f, b)
			}
		}
	})
}

// childPIDs returns the pids of pid's children.
func childPIDs(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestCommandsStopOnSignals: subcommands other than scripts (diagnose,
// report, replay) used to ignore SIGINT and SIGTERM (the process-wide
// Notify took the default action away and nothing read the channel): a
// long diagnose ran to its end. They now stop, say so and exit 130/143.
func TestCommandsStopOnSignals(t *testing.T) {
	c := newCLI(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, out := c.cmd(nil, "diagnose", "--stress", "100000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("diagnose ignored %v:\n%s", sig, out)
		}
		want := map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143}[sig]
		if code := cmd.ProcessState.ExitCode(); code != want || !strings.Contains(out.String(), "diagnose: interrupted by "+sigName(sig)) {
			t.Fatalf("diagnose after %v: exit %d, want %d\n%s", sig, code, want, out)
		}
	}
}
