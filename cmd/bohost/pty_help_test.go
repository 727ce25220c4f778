//go:build linux

package main

import (
	"syscall"
	"testing"
	"time"
)

// TestREPLHelpAndTabOnATerminal: in the interactive REPL, bo is at hand,
// bo.<Tab> completes the friendly layer's functions and its lazy modules,
// and ?bo.run shows the doc bohost help bo.run shows.
func TestREPLHelpAndTabOnATerminal(t *testing.T) {
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
	pos := scr.waitFor(t, "bo is require \"bo\"", 0)
	pos = scr.waitFor(t, "> ", pos)
	send("bo.optim\t")
	pos = scr.waitFor(t, "izer", pos)
	send("\x15") // clear the line
	send("bo.mem.set_l\t")
	pos = scr.waitFor(t, "imit", pos)
	send("\x15")
	send("?bo.run\r")
	pos = scr.waitFor(t, "runs a crash-proof optimisation", pos)
	send("?bo.mem\r")
	pos = scr.waitFor(t, "the raw module bohost.mem", pos)
	send("bo.optimiser\r")
	scr.waitFor(t, "did you mean bo.optimizer?", pos)
	send("\x04") // Ctrl-D
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("REPL did not exit on Ctrl-D; screen:\n%s", scr.String())
	}
}
