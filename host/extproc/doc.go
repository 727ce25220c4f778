// Package extproc runs an external evaluator — a long-lived child process
// in any language (Python, C++, a shell script) — as a worker.Objective: a
// command objective (objective.CommandSpec, bo.run{objective = {command =
// {"python3", "eval.py"}}}). It is pure Go and Linux-only, like host/worker.
//
// The bridge lives in a `bohost worker` process. It starts the user's
// command once (Start, from the worker's Factory) and sends it one
// evaluation at a time over a versioned JSON-lines protocol on the child's
// stdin and stdout (docs/evaluators.md is the specification; version 1):
//
//	child  → bridge  {"bohost": 1, "type": "ready", "pid": 123}         (or {"type": "error", "error": "..."})
//	bridge → child   {"type": "eval", "id": 7, "trial": 6, "x": [...], "x_named": {...}, "w": [...], "env": {...}, ...}
//	child  → bridge  {"type": "result", "id": 7, "y": 0.81}             (or "score": {"f": 0.81, ...})
//	                 {"type": "error", "id": 7, "error": "...", "traceback": "..."}
//	                 {"type": "phase", "phase": "detect"}               (optional, any time during an evaluation)
//
// so a model is loaded once per worker process, not once per evaluation.
// The isolation is the pool's (host/worker): the child runs in the worker's
// process group, so the pool's kill of the group at a timeout or over the
// memory cap takes it too; it dies with the worker (Pdeathsig SIGKILL); the
// bridge implements worker.Tree, so the pool's RSS poll, baseline and peak
// check measure the worker and the child's whole process tree (the bridge
// resets the children's VmHWM at each evaluation's start through
// /proc/PID/clear_refs and reports their peak).
//
// What the bridge does when the child misbehaves:
//
//   - a stdout line that is not a protocol frame (not JSON, no or an unknown
//     type, a reply for another id, an unknown protocol version, a line over
//     MaxLine, a truncated last line): that trial is failed with an error
//     naming the worker slot, the trial and what was wrong (quoting at most
//     200 bytes), and the child is killed and started again (its setup runs
//     again) for the next trial;
//   - a reply whose y is missing, not a number, NaN or infinite: failed, with
//     error_kind bad_value;
//   - an error reply: failed, with the child's message; its traceback goes
//     into the trial's score record (score.traceback);
//   - the child exits or is killed by a signal, during a trial or between
//     trials: the bridge copies what the child wrote on stderr, writes a
//     worker.DeathNote line saying what happened, and ends its own process
//     the same way (the same signal, re-raised with its default action, or
//     the same exit status), so the pool's death certificate names the
//     signal or status and holds the child's last stderr lines, and the pool
//     starts a new worker, which starts a new child;
//   - a hang: the pool's timeout kills the worker's process group.
//
// The child's stderr is appended to RUN/workers/worker_N.log (N the slot)
// when the run directory is known (BOHOST_RUN_DIR), and copied to the
// worker's stderr (so the pool's death certificates hold its last lines).
// GPUs (CommandSpec.GPUs) are assigned by slot through CUDA_VISIBLE_DEVICES.
// The Python helper (scripts/python/bohost_worker.py, embedded in the binary
// and written to HelperDir by WriteHelper) is put first on the child's
// PYTHONPATH, so `import bohost_worker` works from any directory.
//
// extproctest is a Go implementation of the protocol that misbehaves on
// demand, for tests here and in cmd/bohost.
package extproc
