package cells

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"bohost/host/errs"
	"bohost/host/worker"
)

// Spec says how to start the cells.
type Spec struct {
	// Command is the argv a cell's "--cell K" is appended to (the bohost
	// executable, the script and its arguments). Required.
	Command []string
	// Cells are the cells to run (1-based indices). Required.
	Cells []int
	// Dir receives each cell's log (cell_K.log) and jobs.jsonl. Required.
	Dir string
	// Env is added to the cells' environment.
	Env []string
}

// Outcome is how one cell's process ended.
type Outcome struct {
	Cell     int     `json:"cell"`
	State    string  `json:"state"`     // COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, ... (Slurm's words, also for local cells)
	ExitCode int     `json:"exit_code"` // the process's exit code (-1: killed by a signal)
	Signal   string  `json:"signal,omitempty"`
	Log      string  `json:"log"`              // its stdout and stderr
	JobID    string  `json:"job_id,omitempty"` // Slurm: the array element's job id (ARRAYJOB_TASK)
	Seconds  float64 `json:"seconds,omitempty"`
}

func (s Spec) validate(op string) error {
	switch {
	case len(s.Command) == 0 || s.Command[0] == "":
		return errs.New(errs.BadArg, op, "command must name the program that runs a cell, got %q", s.Command)
	case s.Dir == "":
		return errs.New(errs.BadArg, op, "dir must name the directory for the cells' logs")
	}
	for _, c := range s.Cells {
		if c < 1 {
			return errs.New(errs.BadArg, op, "cells are numbered from 1, got %d", c)
		}
	}
	return nil
}

// LogPath is the log of cell k in dir.
func LogPath(dir string, k int) string { return filepath.Join(dir, fmt.Sprintf("cell_%d.log", k)) }

// Local runs the cells as child processes of this one, parallel at a time,
// each with its output appended to its log, and returns when all have ended
// (in Spec.Cells' order). progress, when not nil, gets a line when a cell
// starts and ends. When ctx ends the cells still running get SIGTERM (a
// bohost run stops cleanly on it and resumes later) and, 30 s later, SIGKILL.
func Local(ctx context.Context, s Spec, parallel int, progress io.Writer) ([]Outcome, error) {
	const op = "cells.local"
	if err := s.validate(op); err != nil {
		return nil, err
	}
	if parallel < 1 {
		return nil, errs.New(errs.BadArg, op, "parallel must be >= 1, got %d", parallel)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, errs.New(errs.IO, op, "%v", err)
	}
	if progress == nil {
		progress = io.Discard
	}
	out := make([]Outcome, len(s.Cells))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, k := range s.Cells {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			out[i] = Outcome{Cell: k, State: "CANCELLED", ExitCode: -1, Log: LogPath(s.Dir, k)}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			mu.Lock()
			fmt.Fprintf(progress, "cell %d: started (log %s)\n", k, LogPath(s.Dir, k))
			mu.Unlock()
			o := runLocal(ctx, s, k)
			mu.Lock()
			fmt.Fprintf(progress, "cell %d: %s in %.0f s%s\n", k, o.State, o.Seconds, exitNote(o))
			mu.Unlock()
			out[i] = o
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

func exitNote(o Outcome) string {
	switch {
	case o.Signal != "":
		return " (" + o.Signal + ")"
	case o.ExitCode != 0:
		return fmt.Sprintf(" (exit code %d)", o.ExitCode)
	}
	return ""
}

func runLocal(ctx context.Context, s Spec, k int) Outcome {
	o := Outcome{Cell: k, Log: LogPath(s.Dir, k)}
	f, err := os.OpenFile(o.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		o.State, o.ExitCode = "FAILED", -1
		return o
	}
	defer f.Close()
	fmt.Fprintf(f, "==> cell %d started %s\n", k, time.Now().UTC().Format(time.RFC3339))
	argv := append(append([]string{}, s.Command...), "--cell", strconv.Itoa(k))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(f, "==> could not start %q: %v\n", argv[0], err)
		o.State, o.ExitCode = "FAILED", -1
		return o
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr = <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			werr = <-done
		}
	}
	o.Seconds = time.Since(start).Seconds()
	o.State, o.ExitCode = "COMPLETED", 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		o.State, o.ExitCode = "FAILED", ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.Signal = worker.SignalName(ws.Signal())
			o.ExitCode = -1
			if ctx.Err() != nil {
				o.State = "CANCELLED"
			}
		}
	} else if werr != nil {
		o.State, o.ExitCode = "FAILED", -1
	}
	if ctx.Err() != nil && o.State == "FAILED" {
		o.State = "CANCELLED" // stopped by us; it resumes on the next run
	}
	fmt.Fprintf(f, "==> cell %d %s after %.1f s%s\n", k, o.State, o.Seconds, exitNote(o))
	return o
}
