package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"bohost/bindings"
	"bohost/host/errs"
	"bohost/host/lua"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitScriptError = 1   // the script raised an error
	ExitUsage       = 2   // bad command line (including a script's unknown option)
	ExitHangup      = 129 // SIGHUP (the terminal closed), after shutdown hooks ran
	ExitInterrupt   = 130 // SIGINT (Ctrl-C), after shutdown hooks ran
	ExitBrokenPipe  = 141 // SIGPIPE (stdout or stderr closed, e.g. | head), after shutdown hooks ran
	ExitTerminated  = 143 // SIGTERM, after shutdown hooks ran
)

// Command is one subcommand. Later issues add diagnose, report, resume,
// replay and the hidden worker mode by adding entries to commands.
type Command struct {
	Name    string
	Summary string
	Usage   string
	Hidden  bool
	Run     func(env *Env, args []string) int
}

var (
	commandsMu sync.Mutex
	commands   = map[string]*Command{}
)

// register adds a subcommand (from init functions, one file per command).
func register(c *Command) {
	commandsMu.Lock()
	defer commandsMu.Unlock()
	commands[c.Name] = c
}

func visibleCommands() []*Command {
	var out []*Command
	for _, c := range commands {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Run is the whole CLI: it returns the process exit code.
func Run(env *Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func() bool { return false }
	}
	args := env.Args
	if len(args) == 0 {
		return replMain(env, nil)
	}
	switch a := args[0]; {
	case a == "-e":
		if len(args) < 2 {
			return usageError(env, "-e needs a chunk of Lua: bohost -e 'print(1+1)'")
		}
		return runChunk(env, args[1], args[2:])
	case a == "-h" || a == "--help":
		return helpMain(env, nil)
	case a == "-v" || a == "--version":
		return versionMain(env, nil)
	case strings.HasSuffix(a, ".lua") || fileExists(a):
		return runScript(env, a, args[1:])
	case strings.HasPrefix(a, "-"):
		return usageError(env, "unknown flag %s (bohost help)", a)
	}
	c, ok := commands[args[0]]
	if !ok {
		names := make([]string, 0, len(commands))
		for n, c := range commands {
			if !c.Hidden {
				names = append(names, n)
			}
		}
		msg := fmt.Sprintf("unknown command or script %q", args[0])
		if s := lua.Suggest(args[0], names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError(env, "%s; run a script with bohost SCRIPT.lua, list commands with bohost help", msg)
	}
	for _, a := range args[1:] {
		if a == "--help" || a == "-h" {
			fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n", c.Usage, c.Summary)
			return ExitOK
		}
		if a == "--" {
			break
		}
	}
	return c.Run(env, args[1:])
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func usageError(env *Env, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "bohost: "+format+"\n", args...)
	return ExitUsage
}

// newRuntime builds a runtime with every module.
func newRuntime(env *Env, script string, args []string) *lua.Runtime {
	return lua.New(lua.Options{
		Modules: bindings.All(), LuaFS: bindings.LuaFS(),
		Stdout: env.Stdout, Stderr: env.Stderr,
		ScriptPath: script, Args: args, Getenv: env.Getenv,
	})
}

// signalWatch cancels ctx on the first stop signal (SIGINT, SIGTERM, SIGHUP,
// or a SIGPIPE from a closed stdout/stderr) and remembers which.
type signalWatch struct {
	mu  sync.Mutex
	sig os.Signal
}

func (w *signalWatch) got() os.Signal {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sig
}

func watchSignals(env *Env, cancel context.CancelCauseFunc, cancelShutdown func()) (*signalWatch, func()) {
	w := &signalWatch{}
	done := make(chan struct{})
	if env.Signals != nil {
		go func() {
			for {
				select {
				case s := <-env.Signals:
					w.mu.Lock()
					first := w.sig == nil
					if first {
						w.sig = s
					}
					w.mu.Unlock()
					switch {
					case first:
						hint := "; press Ctrl-C again to stop them"
						if s == syscall.SIGHUP || isBrokenPipe(s) {
							hint = "" // nobody is there to press anything
						}
						fmt.Fprintf(env.Stderr, "\nbohost: %s received%s: stopping (running shutdown hooks%s)\n", sigName(s), sigWhy(s, " (%s)"), hint)
						cancel(fmt.Errorf("%s%s", sigName(s), sigWhy(s, ", %s"))) // the run's shutdown event names it
					case s == os.Interrupt || s == syscall.SIGTERM:
						cancelShutdown()
					}
					// A later SIGHUP or SIGPIPE (the terminal or the reader
					// went away while shutting down) does not cut the
					// shutdown hooks short: the final checkpoint is written.
				case <-done:
					return
				}
			}
		}()
	}
	return w, func() { close(done) }
}

func sigName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	}
	if isBrokenPipe(s) {
		return "SIGPIPE"
	}
	return s.String()
}

// sigWhy says, for a broken pipe, which stream was closed, in format.
func sigWhy(s os.Signal, format string) string {
	if b, ok := s.(BrokenPipe); ok {
		return fmt.Sprintf(format, b.Stream+" was closed")
	}
	return ""
}

func isBrokenPipe(s os.Signal) bool {
	_, ok := s.(BrokenPipe)
	return ok || s == syscall.SIGPIPE
}

// signalExit is 128 + the signal's number, the shell's convention: 129
// SIGHUP, 130 SIGINT, 141 SIGPIPE, 143 SIGTERM.
func signalExit(s os.Signal) int {
	switch {
	case s == os.Interrupt:
		return ExitInterrupt
	case isBrokenPipe(s):
		return ExitBrokenPipe
	}
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return ExitInterrupt
}

// execute runs body (a script or chunk) with signal handling and shutdown
// hooks, and maps the outcome to an exit code.
func execute(env *Env, rt *lua.Runtime, body func(ctx context.Context) error) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// The shutdown hooks get their own 60 s, counted from when the script
	// stops; a second signal cancels them.
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	if env.WatchStops != nil {
		env.WatchStops()
	}
	w, stop := watchSignals(env, cancel, scancel)
	defer stop()
	err := body(ctx)
	tctx, tcancel := context.WithTimeout(sctx, 60*time.Second)
	defer tcancel()
	rt.Shutdown(tctx)
	if s := w.got(); s != nil {
		fmt.Fprintf(env.Stderr, "bohost: interrupted by %s%s\n", sigName(s), sigWhy(s, " (%s)"))
		return signalExit(s)
	}
	if err == nil {
		return ExitOK
	}
	return reportError(env, err)
}

// reportError prints a script error (message, hint, traceback) and returns
// its exit code.
func reportError(env *Env, err error) int {
	var se *lua.ScriptError
	if !errors.As(err, &se) {
		fmt.Fprintf(env.Stderr, "bohost: %v\n", err)
		return ExitScriptError
	}
	switch se.Kind {
	case errs.Help:
		fmt.Fprint(env.Stdout, se.Msg)
		return ExitOK
	case errs.Usage:
		fmt.Fprintf(env.Stderr, "bohost: %s\n", se.Msg)
		if se.Hint != "" {
			fmt.Fprintf(env.Stderr, "hint: %s\n", se.Hint)
		}
		return ExitUsage
	}
	hint := se.Hint
	se2 := *se
	se2.Hint = ""
	fmt.Fprintf(env.Stderr, "bohost: %s\n", se2.Error())
	if hint != "" {
		fmt.Fprintf(env.Stderr, "hint: %s\n", hint)
	}
	if se.Traceback != "" {
		fmt.Fprintln(env.Stderr, se.Traceback)
	}
	return ExitScriptError
}

func runScript(env *Env, path string, args []string) int {
	if !fileExists(path) {
		return usageError(env, "script %s not found", path)
	}
	rt := newRuntime(env, path, args)
	defer rt.Close()
	return execute(env, rt, func(ctx context.Context) error {
		_, err := rt.DoFile(ctx, path)
		return err
	})
}

func runChunk(env *Env, chunk string, args []string) int {
	rt := newRuntime(env, "", args)
	defer rt.Close()
	return execute(env, rt, func(ctx context.Context) error {
		_, err := rt.DoString(ctx, chunk, "(command line)")
		return err
	})
}

func init() {
	register(&Command{Name: "repl", Summary: "Start the interactive Lua REPL (also: bohost with no arguments). With stdin not a terminal, reads chunks from stdin and prints their results.", Usage: "bohost repl", Run: replMain})
	register(&Command{Name: "version", Summary: "Print the versions of bohost, Go and Lua.", Usage: "bohost version", Run: versionMain})
	register(&Command{Name: "help", Summary: "Show help: commands, modules, a module's functions, or one function's doc.", Usage: "bohost help [commands | modules | MODULE | FUNCTION]", Run: helpMain})
}

var _ io.Writer // keep io imported for Env users

// commandContext is the context of a subcommand that is not a script
// (report, diagnose, replay): the first SIGINT or SIGTERM cancels it, so the
// command stops, says so and exits 130/143 instead of ignoring the signal
// (OSEnv's Notify takes the default action away from every command). got
// reports the signal; stop releases the watcher.
func commandContext(env *Env) (ctx context.Context, got func() os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var sig os.Signal
	if env.Signals != nil {
		go func() {
			select {
			case s := <-env.Signals:
				mu.Lock()
				sig = s
				mu.Unlock()
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return sig
	}, cancel
}

// interrupted prints that the command stopped on s and returns its exit code.
func interrupted(env *Env, cmd string, s os.Signal, what string) int {
	fmt.Fprintf(env.Stderr, "bohost: %s: interrupted by %s%s\n", cmd, sigName(s), what)
	return signalExit(s)
}
