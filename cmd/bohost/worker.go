package main

import (
	"context"
	"fmt"
	"strconv"

	"bohost/bindings"
	"bohost/host/errs"
	"bohost/host/extproc"
	"bohost/host/memctl"
	"bohost/host/objective"
	"bohost/host/worker"
	"bohost/scripts"
)

// The hidden `bohost worker` subcommand: one evaluation process of a run's
// pool (host/worker), speaking the framed protocol on stdin/stdout.
func init() {
	register(&Command{Name: "worker", Hidden: true, Usage: "bohost worker",
		Summary: "Run as an evaluation worker of a run's pool (started by bohost itself; speaks a framed protocol on stdin/stdout).",
		Run:     workerMain})
}

// `bohost command`: where the Python helper of command objectives lives.
func init() {
	dir := "(no writable cache or temp directory)"
	if dirs := extproc.HelperDirs(scripts.PythonHelper); len(dirs) > 0 {
		dir = dirs[0]
	}
	register(&Command{Name: "command", Usage: "bohost command",
		Summary: "Bring your own evaluator: print where bohost_worker.py, the Python helper of command objectives, lives. \n" +
			"A command objective, bo.run{objective = {command = {\"python3\", \"eval.py\"}, env = {...}, cwd = \"dir\", gpus = {0, 1}}},\n" +
			"runs your own evaluator, in any language, as a long-lived child of each worker process, over a JSON-lines\n" +
			"protocol (version " + strconv.Itoa(extproc.Version) + ", docs/evaluators.md). The helper (import bohost_worker;\n" +
			"bohost_worker.serve(evaluate, setup=setup)) is put first on the evaluator's PYTHONPATH; its file is written to\n" +
			"  " + dir + "\n" +
			"(or under the temp directory when the cache is not writable). `bohost command` writes it now and prints its\n" +
			"directory, e.g. to use it elsewhere: PYTHONPATH=$(bohost command) python3 eval.py.",
		Run: commandMain})
}

func commandMain(env *Env, args []string) int {
	if len(args) > 0 {
		return usageError(env, "command takes no arguments (bohost help command)")
	}
	dir, err := extproc.WriteHelper(scripts.PythonHelper)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bohost: %v\n", err)
		return ExitScriptError
	}
	fmt.Fprintln(env.Stdout, dir)
	return ExitOK
}

func workerMain(env *Env, args []string) int {
	if len(args) > 0 {
		return usageError(env, "worker takes no arguments (it is started by bohost runs)")
	}
	// worker.Main stops cleanly on SIGTERM/SIGHUP/SIGINT (and then dies by
	// that signal, so the parent's death certificate names it).
	return worker.Main(env.Stderr, func(ctx context.Context, h worker.Hello) (worker.Objective, error) {
		return workerFactory(ctx, env, h)
	})
}

// workerFactory builds the objective named by the run's spec: an AirLine
// configuration (host/objective) or a Lua file and function (in a runtime
// with every module). A BOHOST_MEM_LIMIT from the parent (mem.set_limit)
// lowers this process's soft memory limit.
func workerFactory(ctx context.Context, env *Env, h worker.Hello) (worker.Objective, error) {
	if v := env.Getenv("BOHOST_MEM_LIMIT"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, errs.New(errs.BadArg, "worker", "BOHOST_MEM_LIMIT must be a positive byte count, got %q", v)
		}
		if cur := memctl.Read().LimitBytes; cur <= 0 || n < cur {
			memctl.SetLimit(n)
		}
	}
	spec, err := objective.ParseSpec(h.Spec)
	if err != nil {
		return nil, err
	}
	if spec.Airline != nil {
		return objective.NewAirline(*spec.Airline)
	}
	if c := spec.Command; c != nil {
		// An external evaluator (host/extproc): started once here, spoken to
		// over JSON lines; the Python helper first on its PYTHONPATH.
		helper, err := extproc.WriteHelper(scripts.PythonHelper)
		if err != nil {
			fmt.Fprintf(env.Stderr, "bohost worker %d: %v; import bohost_worker will fail unless it is installed\n", h.Index, err)
		}
		cfg := extproc.Config{Command: c.Command, Env: c.Env, Cwd: c.Cwd, GPUs: c.GPUs, SetupTimeoutS: c.SetupTimeoutS,
			Slot: h.Index, RunDir: env.Getenv(extproc.RunDirEnv), HelperDir: helper}
		o := cfg.Options()
		o.Stderr = env.Stderr
		return extproc.Start(ctx, o)
	}
	rt := newRuntime(env, spec.Lua.File, nil)
	return bindings.NewLuaObjective(ctx, rt, spec.Lua.File, spec.Lua.Fn)
}
