package main

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// Env is everything the CLI takes from the process: main builds it from os,
// tests build their own and run the CLI in-process.
type Env struct {
	Args   []string // arguments after the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Signals delivers SIGINT and SIGTERM; after WatchStops, also SIGHUP,
	// and a BrokenPipe when stdout or stderr was closed. nil: none.
	Signals <-chan os.Signal
	// WatchStops adds SIGHUP and broken-stdout SIGPIPE to Signals (a script
	// or chunk calls it before it runs, so that they stop it like SIGTERM);
	// nil: nothing to add. Until it is called they keep their default
	// action (the REPL and the other commands die by them).
	WatchStops func()
	// IsTerminal reports whether stdin is an interactive terminal.
	IsTerminal func() bool
	// Executable is the path of the bohost binary (for worker processes).
	Executable string
}

// BrokenPipe is the signal Env.Signals delivers when a write to stdout or
// stderr raised SIGPIPE: the reader of that stream is gone (`| head -1`).
type BrokenPipe struct {
	Stream string // "stdout", "stderr" or "stdout and stderr"
}

func (b BrokenPipe) String() string { return "SIGPIPE" }

// Signal implements os.Signal.
func (b BrokenPipe) Signal() {}

// OSEnv builds the Env of the real process.
func OSEnv() *Env {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	exe, _ := os.Executable()
	var once sync.Once
	return &Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Signals: sigs,
		WatchStops: func() { once.Do(func() { watchStops(sigs) }) },
		IsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) },
		Executable: exe,
	}
}

// watchStops delivers SIGHUP to sigs, and a BrokenPipe once stdout or
// stderr is found closed after a SIGPIPE. With SIGPIPE handled, a write to
// a closed stdout or stderr returns EPIPE instead of killing the process,
// so the shutdown (final checkpoint, summary) still happens and later writes
// are harmless. A SIGPIPE from any other pipe (a worker that died while the
// pool wrote to it) is not a reason to stop: the pool handles that death.
func watchStops(sigs chan os.Signal) {
	signal.Notify(sigs, syscall.SIGHUP)
	pipes := make(chan os.Signal, 8)
	signal.Notify(pipes, syscall.SIGPIPE)
	go func() {
		sent := false
		for range pipes {
			if sent {
				continue
			}
			out, errc := closedForWriting(1), closedForWriting(2)
			var which string
			switch {
			case out && errc:
				which = "stdout and stderr"
			case out:
				which = "stdout"
			case errc:
				which = "stderr"
			default:
				continue
			}
			sent = true
			select {
			case sigs <- BrokenPipe{Stream: which}:
			default:
			}
		}
	}()
}
