package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real bohost binary (built once into a temporary
// directory) as child processes, with real workers, real signals and real
// SIGKILLs. BOHOST_LONG=1 runs the long versions (20 kills).

const cliRunScript = `
local bo = require "bo"
local opt = bo.args{dir = "run", iterations = 12, seed = 3, workers = 2, mode = "all_w"}
local s = bo.run{
  dir = opt.dir,
  optimizer = {space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}}, env = {{0, 1}},
               alpha = 0.3, n_w = 3, acquisition = "ucb", mode = opt.mode, n_initial = 2, seed = opt.seed,
               restarts = 2, raw_samples = 32, recommend_from = "evaluated"},
  objective = {file = "objective.lua", fn = "evaluate"},
  iterations = opt.iterations, workers = opt.workers, timeout_s = 30, progress = false,
}
print("status " .. s.status .. " trials " .. s.trials)
`

const cliRunObjective = `
local sys = require "bohost.sys"
local M = {}
function M.evaluate(x, w)
  sys.sleep(0.02)
  return {f = -(x[1] - 0.3)^2 - (x[2] - 0.6)^2 - 0.5 * (w[1] - 0.5)^2 * x[1], tag = "smooth"}
end
return M
`

type cli struct {
	t   *testing.T
	bin string
	cwd string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the bohost binary; skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildBohost(t)
	cwd := filepath.Join(dir, "work")
	os.MkdirAll(cwd, 0o755)
	for name, src := range map[string]string{"run.lua": cliRunScript, "objective.lua": cliRunObjective} {
		if err := os.WriteFile(filepath.Join(cwd, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &cli{t: t, bin: bin, cwd: cwd}
}

func (c *cli) cmd(env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.cwd
	var clean []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "BOHOST_TEST_") {
			clean = append(clean, e)
		}
	}
	cmd.Env = append(clean, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBohost builds the bohost binary once per test process (each CLI test
// used to link its own: seconds each) into a directory removed by TestMain.
// Benchmarks use it too (testing.TB).
func buildBohost(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bohost-cli-test-")
		if err != nil {
			buildErr = err
			return
		}
		binDirs = append(binDirs, dir)
		builtBin = filepath.Join(dir, "bohost")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// binDirs are removed when the tests end (TestMain).
var binDirs []string

// run runs bohost to the end and returns its exit code and output.
func (c *cli) run(env []string, args ...string) (int, string) {
	c.t.Helper()
	cmd, out := c.cmd(env, args...)
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		c.t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// trials reads a run's trials.jsonl without what legitimately varies:
// times, seconds, workers, pids and RSS.
func trialLines(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "trials.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, k := range []string{"time", "elapsed_s", "seconds", "worker", "pid", "peak_rss_bytes", "death"} {
			delete(m, k)
		}
		if sc, ok := m["score"].(map[string]any); ok {
			delete(sc, "ms") // the AirLine record's detection time
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

func sameTrials(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d trials, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: trial %d differs:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
	seen := map[string]bool{}
	for i, l := range got {
		var m struct {
			Trial int `json:"trial"`
		}
		json.Unmarshal([]byte(l), &m)
		if m.Trial != i || seen[l] {
			t.Fatalf("%s: line %d is trial %d (duplicate or lost evaluation)", what, i, m.Trial)
		}
		seen[l] = true
	}
}

func countLines(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

func TestRunCLI(t *testing.T) {
	c := newCLI(t)
	long := os.Getenv("BOHOST_LONG") == "1"
	iters := "12"
	if long {
		iters = "30"
	}
	code, out := c.run(nil, "run.lua", "--dir", "ref", "--iterations", iters)
	if code != 0 || !strings.Contains(out, "status finished") {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	ref := trialLines(t, filepath.Join(c.cwd, "ref"))
	if len(ref) < 40 {
		t.Fatalf("reference run has %d trials, want >= 40", len(ref))
	}

	t.Run("kill", func(t *testing.T) { killAndResume(t, c, ref, "killed", []string{"--iterations", iters}) })

	// Pair mode with 3 workers: three BO iterations in flight, evaluations
	// finishing out of turn (completed.jsonl); kills land with evaluations in
	// flight, and the resumed run's trials are still the uninterrupted run's.
	t.Run("kill_in_flight", func(t *testing.T) {
		extra := []string{"--iterations", iters, "--mode", "pair", "--workers", "3"}
		code, out := c.run(nil, append([]string{"run.lua", "--dir", "ref_pair"}, extra...)...)
		if code != 0 || !strings.Contains(out, "status finished") {
			t.Fatalf("reference run: exit %d\n%s", code, out)
		}
		killAndResume(t, c, trialLines(t, filepath.Join(c.cwd, "ref_pair")), "killed_pair", extra)
	})

	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			dir := "sig" + fmt.Sprint(tc.code)
			cmd, out := c.cmd(nil, "run.lua", "--dir", dir, "--iterations", iters)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for countLines(filepath.Join(c.cwd, dir, "trials.jsonl")) < 9 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no progress:\n%s", out)
				}
				time.Sleep(10 * time.Millisecond)
			}
			cmd.Process.Signal(tc.sig)
			cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Fatalf("exit %d, want %d\n%s", got, tc.code, out)
			}
			var s struct {
				Status string `json:"status"`
			}
			b, _ := os.ReadFile(filepath.Join(c.cwd, dir, "summary.json"))
			if json.Unmarshal(b, &s); s.Status != "interrupted" {
				t.Fatalf("summary %s", b)
			}
			ev, _ := os.ReadFile(filepath.Join(c.cwd, dir, "events.jsonl"))
			if !strings.Contains(string(ev), `"event":"shutdown"`) {
				t.Fatalf("no shutdown event:\n%s", ev)
			}
			if tc.sig == syscall.SIGTERM {
				// Damage the final checkpoint: the resume must say so and use
				// the previous one plus the journal.
				p := filepath.Join(c.cwd, dir, "checkpoint.json")
				cb, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				cb[len(cb)/2] ^= 0x01
				os.WriteFile(p, cb, 0o644)
			}
			code, rout := c.run(nil, "resume", filepath.Join(c.cwd, dir))
			if code != 0 {
				t.Fatalf("resume: exit %d\n%s", code, rout)
			}
			if tc.sig == syscall.SIGTERM && (!strings.Contains(rout, "checkpoint_fallback") || !strings.Contains(rout, "checkpoint.prev.json")) {
				t.Fatalf("resume after a damaged checkpoint gave no clear message:\n%s", rout)
			}
			sameTrials(t, "interrupted run", ref, trialLines(t, filepath.Join(c.cwd, dir)))
		})
	}

	t.Run("refuse_changed", func(t *testing.T) {
		code, out := c.run(nil, "run.lua", "--dir", "ref", "--iterations", iters, "--seed", "4")
		if code != 1 || !strings.Contains(out, "cannot resume") || !strings.Contains(out, "force") {
			t.Fatalf("changed seed: exit %d\n%s", code, out)
		}
	})

	t.Run("faults", func(t *testing.T) { testFaults(t, c) })

	t.Run("mem_limit_reaches_workers", func(t *testing.T) {
		os.WriteFile(filepath.Join(c.cwd, "limit.lua"), []byte(`
local mem = require "bohost.mem"
return {evaluate = function(x, w) return {f = x[1], limit = mem.stats().limit_bytes} end}
`), 0o644)
		os.WriteFile(filepath.Join(c.cwd, "limited.lua"), []byte(`
local bo = require "bo"
require("bohost.mem").set_limit(3 * 2^30)
local s = bo.run{dir = "limited", optimizer = {space = {{0, 1}}, env = {{0, 1}}, n_w = 2, acquisition = "random", n_initial = 2},
  objective = {file = "limit.lua"}, iterations = 1, workers = 1, progress = false}
print("status " .. s.status)
`), 0o644)
		code, out := c.run(nil, "limited.lua")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for _, l := range trialLines(t, filepath.Join(c.cwd, "limited")) {
			if !strings.Contains(l, `"limit":3221225472`) {
				t.Fatalf("the worker's memory limit is not the host's: %s", l)
			}
		}
	})

	t.Run("diagnose", func(t *testing.T) {
		code, out := c.run(nil, "diagnose", "--stress", "10")
		if code != 0 || !strings.Contains(out, "crash_segv") || !strings.Contains(out, "all checks passed") {
			t.Fatalf("diagnose: exit %d\n%s", code, out)
		}
		code, out = c.run(nil, "diagnose", "--json", "--stress", "10", "--fail-check", "crash_hang")
		var rep struct {
			OK     bool `json:"ok"`
			Checks []struct{ Name, Status, Detail string }
		}
		if i := strings.Index(out, "{"); i >= 0 {
			json.NewDecoder(strings.NewReader(out[i:])).Decode(&rep)
		}
		if code != 1 || rep.OK || len(rep.Checks) < 8 || !strings.Contains(out, "crash_hang failed: forced") {
			t.Fatalf("forced failure: exit %d\n%s", code, out)
		}
		if code, out := c.run(nil, "diagnose", "--fail-check", "nosuch"); code != 2 || !strings.Contains(out, "no check named") {
			t.Fatalf("unknown check: %d %s", code, out)
		}
	})
}

const faultObjective = `
local fault = require "bohost.fault"
local sys = require "bohost.sys"
local function bump()
  local p = sys.getenv("FAULT_COUNTER")
  local f = io.open(p, "r"); local n = f and tonumber(f:read("*a")) or 0; if f then f:close() end
  n = n + 1
  f = io.open(p, "w"); f:write(tostring(n)); f:close()
  return n
end
function evaluate(x, w)
  local n = bump()
  if n == 2 then fault.segv()
  elseif n == 4 then fault.abort()
  elseif n == 6 then fault.alloc(2^31)
  elseif n == 8 then fault.hang()
  elseif n == 10 then error("boom at evaluation 10")
  elseif n == 12 then fault.exit(3) end
  return -(x[1] - 0.4)^2 - 0.1 * w[1]
end
`

const faultScript = `
local bo = require "bo"
local s = bo.run{
  dir = "faulty",
  optimizer = {space = {{0, 1}}, env = {{0, 1}}, alpha = 0.5, n_w = 2, acquisition = "ucb", mode = "pair", n_initial = 3, seed = 1,
               restarts = 2, raw_samples = 32, recommend_from = "evaluated"},
  objective = {file = "faults.lua", fn = "evaluate"},
  iterations = 11, workers = 1, timeout_s = 1, max_rss = "200MiB", faults = true, progress = false,
}
print("status " .. s.status .. " trials " .. s.trials)
`

func testFaults(t *testing.T, c *cli) {
	os.WriteFile(filepath.Join(c.cwd, "faults.lua"), []byte(faultObjective), 0o644)
	os.WriteFile(filepath.Join(c.cwd, "faulty.lua"), []byte(faultScript), 0o644)
	counter := filepath.Join(t.TempDir(), "counter")
	code, out := c.run([]string{"FAULT_COUNTER=" + counter}, "faulty.lua")
	if code != 0 || !strings.Contains(out, "status finished trials 14") {
		t.Fatalf("fault run: exit %d\n%s", code, out)
	}
	dir := filepath.Join(c.cwd, "faulty")
	type death struct {
		Signal   string `json:"signal"`
		ExitCode int    `json:"exit_code"`
		Cause    string `json:"cause"`
		Stderr   string `json:"stderr_tail"`
	}
	var trials []struct {
		Status string  `json:"status"`
		Tell   string  `json:"tell"`
		Error  *string `json:"error"`
		Death  *death  `json:"death"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "trials.jsonl"))
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var tr struct {
			Status string  `json:"status"`
			Tell   string  `json:"tell"`
			Error  *string `json:"error"`
			Death  *death  `json:"death"`
		}
		if err := json.Unmarshal([]byte(l), &tr); err != nil {
			t.Fatal(err)
		}
		trials = append(trials, tr)
	}
	for i, tr := range trials {
		t.Logf("evaluation %d: %s %s", i+1, tr.Status, tr.Tell)
	}
	for _, w := range []struct {
		n       int
		status  string
		signal  string
		exit    int
		inError string
	}{
		{2, "crashed", "SIGSEGV", -1, ""},
		{4, "crashed", "SIGABRT", -1, ""},
		{6, "oom", "", 0, ""},
		{8, "timeout", "", 0, ""},
		{10, "failed", "", 0, "boom at evaluation 10"},
		{12, "crashed", "", 3, ""},
	} {
		tr := trials[w.n-1]
		if tr.Status != w.status || tr.Tell != "worst" {
			t.Errorf("evaluation %d: status %s tell %s, want %s worst", w.n, tr.Status, tr.Tell, w.status)
			continue
		}
		if w.status == "failed" {
			if tr.Death != nil || tr.Error == nil || !strings.Contains(*tr.Error, w.inError) {
				t.Errorf("evaluation %d: %+v", w.n, tr)
			}
			continue
		}
		if tr.Death == nil {
			t.Errorf("evaluation %d: no death certificate", w.n)
			continue
		}
		if (w.signal != "" && tr.Death.Signal != w.signal) || (w.exit > 0 && tr.Death.ExitCode != w.exit) {
			t.Errorf("evaluation %d: death %+v", w.n, *tr.Death)
		}
	}
	for i, tr := range trials {
		if n := i + 1; n%2 == 1 && tr.Status != "ok" {
			t.Errorf("evaluation %d: %s, want ok", n, tr.Status)
		}
	}
	ev, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if d := strings.Count(string(ev), `"event":"worker_death"`); d < 5 {
		t.Errorf("%d worker_death events, want >= 5", d)
	}
}

// killAndResume SIGKILLs run.lua (with extra arguments) at random moments
// and at chosen phases, resuming each time, and checks the finished run's
// trials against ref.
func killAndResume(t *testing.T, c *cli, ref []string, dir string, extra []string) {
	long := os.Getenv("BOHOST_LONG") == "1"
	kills := 4
	if long {
		kills = 20
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	phases := []string{"eval", "checkpoint", "journal", "fit", "tell", "iteration"} // in turn, so the short run covers the first ones
	killed, byPhase := 0, map[string]int{}
	base, dirs := dir, 0
	for k := 0; killed < kills && k < 6*kills; k++ {
		args := append([]string{"run.lua", "--dir", dir}, extra...)
		var env []string
		phase := "random time"
		if k%3 != 2 {
			phase = phases[(k-k/3)%len(phases)]
			env = []string{fmt.Sprintf("BOHOST_TEST_KILL=%s:%d:%d", phase, 1+rng.IntN(3), rng.IntN(4000))}
		}
		cmd, out := c.cmd(env, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if env == nil {
			time.AfterFunc(time.Duration(150+rng.IntN(900))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		cmd.Wait()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
			killed++
			byPhase[phase]++
		case ws.ExitStatus() == 0:
			// The run finished before its kill (it gets faster as more of it is
			// done): check it, and keep killing in a fresh directory.
			t.Logf("session %d finished before its kill (%s); checking %s and starting another run", k, phase, dir)
			sameTrials(t, "killed run "+dir, ref, trialLines(t, filepath.Join(c.cwd, dir)))
			dirs++
			dir = fmt.Sprintf("%s%d", base, dirs)
		default:
			t.Fatalf("session %d (%s): exit %v\n%s", k, phase, cmd.ProcessState, out)
		}
	}
	args := []string{"resume", filepath.Join(c.cwd, dir)}
	if _, err := os.Stat(filepath.Join(c.cwd, dir, "config.json")); err != nil {
		args = append([]string{"run.lua", "--dir", dir}, extra...) // a fresh directory the loop never reached
	}
	code, out := c.run(nil, args...)
	if code != 0 || !strings.Contains(out, "status finished") {
		t.Fatalf("final resume: exit %d\n%s", code, out)
	}
	got := trialLines(t, filepath.Join(c.cwd, dir))
	sameTrials(t, "killed run", ref, got)
	t.Logf("%d SIGKILLs (%v); %d trials identical to the uninterrupted run", killed, byPhase, len(got))
	if killed < kills {
		t.Fatalf("only %d kills landed, want %d", killed, kills)
	}
}
