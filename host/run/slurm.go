package run

import (
	"context"
	"fmt"
	"strings"

	"bohost/host/slurm"
	"bohost/host/worker"
)

// sessionExtra is the extra of a session's start event (start, resume):
// the executor and, when the run itself runs under Slurm (a batch job, an
// array element), its job ids.
func (r *Run) sessionExtra() map[string]any {
	m := map[string]any{"executor": r.cfg.Executor}
	if ids, ok := slurm.FromEnv(nil); ok {
		m["slurm"] = ids.Map()
	}
	return m
}

// launcher is the workers' launcher for the run's executor: nil for
// "local"; for "slurm", srun job steps with the run's step resources, after
// checking that srun is there and a controller answers.
func (r *Run) launcher(ctx context.Context) (worker.Launcher, error) {
	if r.cfg.Executor != ExecSlurm {
		return nil, nil
	}
	l := &slurm.Launcher{Env: slurmClientEnv(r.opts.WorkerEnv)}
	if s := r.cfg.Slurm; s != nil {
		l.Steps = slurm.StepOptions{GPUsPerTask: s.GPUsPerTask, CPUsPerTask: s.CPUsPerTask, Mem: s.Mem, Args: s.SrunArgs}
	}
	l.Steps.JobName = "bohost-worker"
	if err := l.Check(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// slurmClientEnv is what of the workers' environment Slurm's own commands
// (scancel, squeue) see as srun does: SLURM_CONF, SLURM_JOB_ID (the
// allocation), ...
func slurmClientEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "SLURM_") {
			out = append(out, kv)
		}
	}
	return out
}

// workerStarted records a worker's start under a launcher: where it runs
// (host, pid) and its Slurm step.
func (r *Run) workerStarted(slot int, rd worker.Ready) {
	ids, _ := slurm.FromEnv(func(k string) string { return rd.Env[k] })
	step := slurm.StepName(&rd)
	extra := map[string]any{"worker": slot, "pid": rd.PID, "host": rd.Host, "executor": r.cfg.Executor, "slurm": ids.Map()}
	if step != "" {
		extra["step"] = step
	}
	r.eventExtra("worker_start", fmt.Sprintf("worker %d (pid %d on %s) started as Slurm step %s", slot, rd.PID, rd.Host, step), nil, extra)
}
