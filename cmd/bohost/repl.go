package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"

	"bohost/host/lua"
)

func replMain(env *Env, args []string) int {
	if len(args) > 0 {
		return usageError(env, "repl takes no arguments (run a script with bohost SCRIPT.lua)")
	}
	rt := newRuntime(env, "", nil)
	defer rt.Close()
	// The friendly layer is at hand, as in a script's first line: bo.<Tab>,
	// ?bo.run, bo.optimizer{...}.
	if _, err := rt.DoString(context.Background(), `bo = require "bo"`, "repl"); err != nil {
		return reportError(env, err)
	}
	interactive := env.IsTerminal()
	hist := ""
	if home := env.Getenv("HOME"); home != "" && interactive {
		hist = filepath.Join(home, ".bohost_history")
	}
	ints := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	terminated := false
	done := make(chan struct{})
	defer close(done)
	if env.Signals != nil {
		go func() {
			for {
				select {
				case s := <-env.Signals:
					if s == syscall.SIGTERM {
						terminated = true
						cancel()
						select {
						case ints <- s:
						default:
						}
						continue
					}
					select { // Ctrl-C cancels the running chunk, if any
					case ints <- s:
					default:
					}
				case <-done:
					return
				}
			}
		}()
	}
	r := lua.NewREPL(rt, lua.REPLOptions{In: env.Stdin, Out: env.Stdout, Err: env.Stderr, Interactive: interactive, HistoryFile: hist, Interrupts: ints, Time: true})
	err := r.Run(ctx)
	rt.Shutdown(context.Background())
	if terminated {
		return ExitTerminated
	}
	if err != nil && ctx.Err() == nil {
		return reportError(env, err)
	}
	if !interactive && r.Failed() > 0 {
		return ExitScriptError
	}
	return ExitOK
}
