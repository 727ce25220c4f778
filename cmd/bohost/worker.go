package main

import (
	"context"
	"strconv"

	"bohost/bindings"
	"bohost/host/errs"
	"bohost/host/memctl"
	"bohost/host/objective"
	"bohost/host/worker"
)

// The hidden `bohost worker` subcommand: one evaluation process of a run's
// pool (host/worker), speaking the framed protocol on stdin/stdout.
func init() {
	register(&Command{Name: "worker", Hidden: true, Usage: "bohost worker",
		Summary: "Run as an evaluation worker of a run's pool (started by bohost itself; speaks a framed protocol on stdin/stdout).",
		Run:     workerMain})
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
	rt := newRuntime(env, spec.Lua.File, nil)
	return bindings.NewLuaObjective(ctx, rt, spec.Lua.File, spec.Lua.Fn)
}
