//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair without cgo.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	// A real terminal has a size; readline completes only when it knows it.
	ws := struct{ row, col, x, y uint16 }{24, 100, 0, 0}
	syscall.Syscall(syscall.SYS_IOCTL, slave.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	return master, slave, nil
}

type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) waitFor(t *testing.T, want string, from int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out := s.String()
		if i := strings.Index(out[from:], want); i >= 0 {
			return from + i + len(want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("screen never showed %q; it shows:\n%q", want, s.String()[from:])
	return 0
}

// TestREPLOnATerminal drives the interactive REPL through a real pty:
// prompts, an expression, a multi-line function with the >> prompt, an
// error that keeps the session, Ctrl-C cancelling a running loop, Tab
// completion, and Ctrl-D ending the session.
func TestREPLOnATerminal(t *testing.T) {
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("no pty available: %v", err)
	}
	defer master.Close()
	cmd := child(t, "repl")
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir(), "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	defer cmd.Process.Kill()
	var scr screen
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			scr.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	send := func(s string) { master.Write([]byte(s)) }
	pos := scr.waitFor(t, "> ", 0)
	send("1+1\r")
	pos = scr.waitFor(t, "1+1\r\n", pos)
	pos = scr.waitFor(t, "2\r\n", pos)
	send("function cube(x)\r")
	pos = scr.waitFor(t, ">> ", pos)
	send("return x^3 end\r")
	send("cube(3)\r")
	pos = scr.waitFor(t, "27", pos)
	send("error('kept going')\r")
	pos = scr.waitFor(t, "kept going", pos)
	send("while true do end\r")
	time.Sleep(300 * time.Millisecond)
	send("\x03") // Ctrl-C: cancels the loop, not the session
	pos = scr.waitFor(t, "interrupted", pos)
	send("mem = require 'bohost.mem'\r")
	send("type(mem)\r")
	pos = scr.waitFor(t, "table", pos)
	send("mem.set_l\t")
	pos = scr.waitFor(t, "imit", pos)
	send("\x15") // clear the line
	send("'alive'\r")
	scr.waitFor(t, "alive\r\n", pos)
	send("\x04") // Ctrl-D
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("REPL did not exit on Ctrl-D; screen:\n%s", scr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, scr.String())
	}
}
