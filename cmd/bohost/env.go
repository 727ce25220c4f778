package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// Env is everything the CLI takes from the process: main builds it from os,
// tests build their own and run the CLI in-process.
type Env struct {
	Args    []string // arguments after the program name
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Signals <-chan os.Signal // SIGINT/SIGTERM; nil: none
	// IsTerminal reports whether stdin is an interactive terminal.
	IsTerminal func() bool
	// Executable is the path of the bohost binary (for worker processes).
	Executable string
}

// OSEnv builds the Env of the real process.
func OSEnv() *Env {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	exe, _ := os.Executable()
	return &Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Signals: sigs,
		IsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) },
		Executable: exe,
	}
}
