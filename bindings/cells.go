package bindings

import (
	"context"
	"os"
	"time"

	"bohost/host/cells"
	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/slurm"

	glua "github.com/yuin/gopher-lua"
)

// Cells is bohost.cells: a sweep's cells (its independent runs) as separate
// processes, locally N at a time or as a Slurm job array (host/cells). A cell
// is this script run again with --cell K appended.
type Cells struct{}

func (Cells) Name() string { return "bohost.cells" }

// cellSpec is the options of cells.run and cells.submit.
type cellSpec struct {
	Cells    []int       `json:"cells" lua:",required"`
	Dir      string      `json:"dir" lua:",required"`
	Parallel int         `json:"parallel" lua:",count"`
	Args     []string    `json:"args"` // default: this script's arguments
	Env      []string    `json:"env"`
	Slurm    cells.Array `json:"slurm"`
}

func (s cellSpec) spec(rt *lua.Runtime, op string) (cells.Spec, error) {
	p := rt.Options()
	if p.ScriptPath == "" {
		return cells.Spec{}, errs.New(errs.BadState, op, "cells run the script that calls them again: there is no script here (the REPL?)")
	}
	exe, err := os.Executable()
	if err != nil {
		return cells.Spec{}, errs.New(errs.Unavailable, op, "the bohost executable: %v", err)
	}
	args := p.Args
	if s.Args != nil {
		args = s.Args
	}
	return cells.Spec{Command: append([]string{exe, p.ScriptPath}, args...), Cells: s.Cells, Dir: s.Dir, Env: s.Env}, nil
}

// decodeCells reads the options table of cells.run and cells.submit.
func decodeCells(rt *lua.Runtime, L *glua.LState, op string) (cellSpec, cells.Spec, error) {
	var o cellSpec
	if err := lua.Decode(L.Get(1), "", &o); err != nil {
		return o, cells.Spec{}, err
	}
	s, err := o.spec(rt, op)
	return o, s, err
}

func (Cells) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("cells", []lua.Func{
		{Name: "run", Sig: "cells.run{cells = {k, ...}, dir =, parallel = 1, args =, env =} -> {{cell=, state=, exit_code=, signal=, log=, seconds=}, ...}",
			Desc: "runs each cell (this script with --cell K) as a child process, parallel at a time, logs in dir/cell_K.log; Ctrl-C stops them cleanly (SIGTERM)", Fn: func(L *glua.LState) int {
				const op = "cells.run"
				o, s, err := decodeCells(rt, L, op)
				if err != nil {
					return lua.Raise(L, op, err)
				}
				out, err := cells.Local(luaCtx(L), s, max(o.Parallel, 1), rt.Stdout)
				if err != nil && out == nil {
					return lua.Raise(L, op, err)
				}
				return pushJSON(L, op, out)
			}},
		{Name: "submit", Sig: "cells.submit{cells = {k, ...}, dir =, args =, env =, slurm = {partition=, time=, mem=, mem_per_cpu=, tasks=, cpus_per_task=, gpus_per_task=, max_running=, job_name=, sbatch_args=}} -> {job_id=, cells=, sbatch=}",
			Desc: "submits the cells as one Slurm job array (sbatch --array, --requeue), recorded in dir/jobs.jsonl; each element runs this script with --cell $SLURM_ARRAY_TASK_ID", Fn: func(L *glua.LState) int {
				const op = "cells.submit"
				o, s, err := decodeCells(rt, L, op)
				if err != nil {
					return lua.Raise(L, op, err)
				}
				j, err := cells.Submit(luaCtx(L), s, o.Slurm, nil)
				if err != nil {
					return lua.Raise(L, op, err)
				}
				return pushJSON(L, op, j)
			}},
		{Name: "pending", Sig: "cells.pending(dir) -> {[k] = {state=, active=true, job_id=, task_job=, reason=}, ...}",
			Desc: "the cells of the sweep's Slurm jobs (dir/jobs.jsonl) that Slurm may still run: queued, running or requeued", Fn: byDir("cells.pending", cells.Pending)},
		{Name: "last", Sig: "cells.last(dir) -> {[k] = {state=, active=, exit_code=, job_id=, task_job=, reason=, source=}, ...}",
			Desc: "each cell's state in its newest submission Slurm still knows (dir/jobs.jsonl), queued, running or ended; states not yet in dir/states.jsonl are recorded there", Fn: byDir("cells.last", cells.Last)},
		{Name: "wait", Sig: "cells.wait{jobs = {id, ...}, cells = {k, ...}, dir =, poll_s = 2} -> {[k] = {state=, exit_code=, job_id=, task_job=, source=}, ...}",
			Desc: "waits until Slurm no longer runs any of the cells of these jobs, printing each change of state; returns each cell's last state (from squeue, scontrol or the job-completion file); each change is recorded in dir/states.jsonl", Fn: func(L *glua.LState) int {
				const op = "cells.wait"
				var o struct {
					Jobs  []string `json:"jobs" lua:",required"`
					Cells []int    `json:"cells" lua:",required"`
					Dir   string   `json:"dir"`
					PollS float64  `json:"poll_s"`
				}
				if err := lua.Decode(L.Get(1), "", &o); err != nil {
					return lua.Raise(L, op, err)
				}
				st, err := cells.Wait(luaCtx(L), nil, o.Dir, o.Jobs, o.Cells, time.Duration(o.PollS*float64(time.Second)), rt.Stdout)
				if err != nil {
					return lua.Raise(L, op, err)
				}
				return pushByCell(L, op, st)
			}},
		{Name: "slurm_ids", Sig: "cells.slurm_ids() -> {job_id=, array_job_id=, array_task_id=, step_id=, node=} | nil",
			Desc: "the Slurm ids of this process (from its environment), nil outside Slurm", Fn: func(L *glua.LState) int {
				id, ok := slurm.FromEnv(rt.Getenv)
				if !ok {
					L.Push(glua.LNil)
					return 1
				}
				return pushJSON(L, "cells.slurm_ids", id.Map())
			}},
		{Name: "slurm_available", Sig: "cells.slurm_available() -> true | false, err",
			Desc: "whether Slurm's commands are installed and a controller answers", Fn: func(L *glua.LState) int {
				if err := slurm.Available(luaCtx(L), nil); err != nil {
					L.Push(glua.LFalse)
					L.Push(lua.NewError(L, "cells.slurm_available", err))
					return 2
				}
				L.Push(glua.LTrue)
				return 1
			}},
	})
}

// byDir is a cells.f(dir) that returns f's tasks keyed by cell.
func byDir(op string, f func(context.Context, []string, string) (map[int]cells.Task, error)) glua.LGFunction {
	return func(L *glua.LState) int {
		m, err := f(luaCtx(L), nil, L.CheckString(1))
		if err != nil {
			return lua.Raise(L, op, err)
		}
		return pushByCell(L, op, m)
	}
}

// pushByCell pushes the tasks as a Lua table keyed by the cell's number.
func pushByCell(L *glua.LState, op string, m map[int]cells.Task) int {
	t := L.NewTable()
	for k, task := range m {
		v, err := toLuaJSON(L, task)
		if err != nil {
			return lua.Raise(L, op, err)
		}
		if tv, ok := v.(*glua.LTable); ok {
			tv.RawSetString("active", glua.LBool(task.Active())) // Slurm may still run it
		}
		t.RawSetInt(k, v)
	}
	L.Push(t)
	return 1
}
