package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the bohost binary for child-process
// tests (real signals, pty): BOHOST_TEST_MAIN=1 runs the CLI on os.Args.
func TestMain(m *testing.M) {
	if os.Getenv("BOHOST_TEST_MAIN") == "1" {
		os.Args = append([]string{"bohost"}, strings.Split(os.Getenv("BOHOST_TEST_ARGS"), "\x1f")...)
		os.Exit(Run(OSEnv()))
	}
	code := m.Run()
	for _, d := range binDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return "" }}
	code := Run(env)
	return result{code, out.String(), errb.String()}
}

func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChunkAndRepl(t *testing.T) {
	if r := run(t, "", "-e", "print(1+1)"); r.code != 0 || r.stdout != "2\n" {
		t.Fatalf("%+v", r)
	}
	if r := run(t, "1+1\n", "repl"); r.code != 0 || r.stdout != "2\n" {
		t.Fatalf("%+v", r)
	}
	// Multi-line definitions, silenced results, errors that do not end the session.
	src := "function sq(x)\n  return x * x\nend\nsq(7)\nerror('oops')\nlocal y = sq(3);\n'still' .. ' here'\n?mem.stats\n"
	r := run(t, src, "repl")
	if r.stdout != "49\nstill here\nmem.stats() -> {heap_bytes=, heap_sys_bytes=, rss_bytes=, peak_rss_bytes=, gc_count=, limit_bytes=, handles=}\n  Go heap, resident memory, GC count, soft limit and live native handles of this process\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "stdin:1: oops") || r.code != ExitScriptError {
		t.Fatalf("%+v", r)
	}
	// Tables print readably; several results are tab-separated.
	r = run(t, "{1, 2, a = 'x'}, 3\n", "repl")
	if r.stdout != "{1, 2, a = \"x\"}\t3\n" {
		t.Fatalf("%q", r.stdout)
	}
}

func TestScriptErrorLineAndTraceback(t *testing.T) {
	p := writeScript(t, "broken.lua", "local a = 1\nlocal b = 2\nlocal function f()\n  return nil + 1\nend\n\nlocal x = f()\n")
	r := run(t, "", p)
	if r.code != ExitScriptError {
		t.Fatalf("code %d", r.code)
	}
	if !strings.Contains(r.stderr, "broken.lua:4:") || !strings.Contains(r.stderr, "stack traceback:") || !strings.Contains(r.stderr, "broken.lua:7:") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	p = writeScript(t, "seven.lua", "\n\n\n\n\n\nerror('line seven')\n")
	if r := run(t, "", p); r.code != 1 || !strings.Contains(r.stderr, "seven.lua:7: line seven") {
		t.Fatalf("%+v", r)
	}
	// A structured error prints its hint on its own line.
	p = writeScript(t, "hint.lua", "local mem = require 'bohost.mem'\nmem.set_limit('lots')\n")
	r = run(t, "", p)
	if r.code != 1 || !strings.Contains(r.stderr, "hint.lua:2: mem.set_limit: bad_arg:") {
		t.Fatalf("%+v", r)
	}
}

func TestScriptArgs(t *testing.T) {
	p := writeScript(t, "opts.lua", `
local bo = require "bo"
local opt = bo.args{alpha = 0.1, iterations = 30}
assert(opt.alpha == 0.2, "alpha")
print(arg[0]:match("opts.lua$") ~= nil, arg[1], arg[2], opt.iterations)
`)
	r := run(t, "", p, "--alpha", "0.2")
	if r.code != 0 || r.stdout != "true\t--alpha\t0.2\t30\n" {
		t.Fatalf("%+v", r)
	}
	r = run(t, "", p, "--alhpa", "0.2")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean --alpha?") {
		t.Fatalf("%+v", r)
	}
	r = run(t, "", p, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--iterations") {
		t.Fatalf("%+v", r)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-e"}, {"--frobnicate"}, {"reprl"}, {"missing.lua"}, {"repl", "extra"}, {"help", "nosuchtopic"}} {
		if r := run(t, "", args...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if r := run(t, "", "reprl"); !strings.Contains(r.stderr, `did you mean "repl"`) {
		t.Error(r.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	if r := run(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "bohost ") {
		t.Fatalf("%+v", r)
	}
	r := run(t, "", "help")
	for _, want := range []string{"bohost SCRIPT.lua", "repl", "bohost.mem", "exit codes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, "", "help", "mem.scope"); !strings.Contains(r.stdout, "mem.scope(fn, ...)") {
		t.Error(r.stdout)
	}
	for name := range commands {
		if r := run(t, "", name, "--help"); r.code != 0 || !strings.Contains(r.stdout, "usage:") {
			t.Errorf("%s --help: %+v", name, r)
		}
	}
}

// child starts the test binary as bohost with args.
func child(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "BOHOST_TEST_MAIN=1", "BOHOST_TEST_ARGS="+strings.Join(args, "\x1f"))
	return cmd
}

func TestSignalsRunShutdownHooksAndExitCodes(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}, {syscall.SIGHUP, 129, "SIGHUP"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "hook-ran")
			ready := filepath.Join(dir, "ready")
			p := writeScript(t, "long.lua", `
local sys = require "bohost.sys"
sys.on_shutdown(function()
  local f = io.open(arg[1], "w"); f:write("flushed"); f:close()
end)
local f = io.open(arg[2], "w"); f:close()
local n = 0
while true do n = n + 1 end -- a long-running loop, stopped only by the signal
`)
			cmd := child(t, p, marker, ready)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("script never started: %s", errb.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("did not stop after the signal")
			}
			if got := cmd.ProcessState.ExitCode(); got != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", got, tc.code, errb.String())
			}
			if b, err := os.ReadFile(marker); err != nil || string(b) != "flushed" {
				t.Fatalf("shutdown hook did not run: %v", err)
			}
			if !strings.Contains(errb.String(), "interrupted by "+tc.name) {
				t.Fatalf("stderr: %s", errb.String())
			}
		})
	}
}

// TestBrokenStdoutStopsCleanly pipes a chunk's stdout into a reader that
// closes after the first line, as `| head -1` does: the next print gets
// SIGPIPE, which stops the chunk like SIGTERM (shutdown hooks run, a message
// on stderr, exit 141) instead of killing the process, and later writes to
// the closed stdout are harmless.
func TestBrokenStdoutStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "hook-ran")
	p := writeScript(t, "printer.lua", `
local sys = require "bohost.sys"
sys.on_shutdown(function()
  print("a print after stdout closed")
  io.write("and an io.write\n")
  local f = io.open(arg[1], "w"); f:write("flushed"); f:close()
end)
local n = 0
while true do n = n + 1; print("line " .. n); sys.sleep(0.01) end
`)
	cmd := child(t, p, marker)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "line 1\n" {
		t.Fatalf("first line %q: %v", line, err)
	}
	out.Close() // like head -1 exiting
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("did not stop after stdout closed; stderr %s", errb.String())
	}
	if got := cmd.ProcessState.ExitCode(); got != ExitBrokenPipe {
		t.Fatalf("exit %d (%v), want %d; stderr %s", got, cmd.ProcessState, ExitBrokenPipe, errb.String())
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "flushed" {
		t.Fatalf("shutdown hook did not run (or died writing to the closed stdout): %v; stderr %s", err, errb.String())
	}
	if s := errb.String(); !strings.Contains(s, "SIGPIPE received") || !strings.Contains(s, "interrupted by SIGPIPE") {
		t.Fatalf("stderr: %s", s)
	}
}
