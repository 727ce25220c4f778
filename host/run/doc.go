// Package run drives a crash-proof experiment: the ask/tell optimiser of
// host/bo over evaluations that run in worker processes (host/worker), with
// everything recorded in a run directory exactly as docs/rundir.md describes
// (docs/runs.md explains the behaviour).
//
//	s, err := run.Do(ctx, run.Config{
//		Dir:        "runs/x",
//		Optimizer:  bo.Config{...},                 // empty space/env: from an airline objective
//		Objective:  json.RawMessage(`{"lua": {"file": "obj.lua", "fn": "evaluate"}}`),
//		Iterations: 30, Workers: 2, TimeoutS: 120, OnFailure: run.FailWorst,
//	}, run.Options{WorkerCommand: []string{exe, "worker"}, Log: os.Stderr})
//
// Guarantees:
//
//   - every finished evaluation is appended to trials.jsonl and fsynced
//     before the optimiser is told and before the next ask; candidates of one
//     ask run in parallel (one per worker) but are journaled and told in
//     candidate order, so the journal is deterministic;
//   - opening an existing directory resumes it: the checkpoint (or, when it
//     is corrupt, checkpoint.prev.json, or else a rebuild from config.json and
//     the journal) is restored, the journaled trials it has not seen are told
//     again by re-asking the optimiser (each proposal is checked against the
//     journal), and the run continues; the trial sequence is identical to an
//     uninterrupted run with the same seed;
//   - a changed configuration, script or data set refuses to resume unless
//     Options.Force (which warm-starts a new optimiser when the optimiser's
//     configuration changed);
//   - failures follow Config.OnFailure ("worst", "skip", "retry" with
//     Retries and RetryFallback); more than MaxConsecutiveFailures in a row
//     stop the run (status failed, kind failed);
//   - a canceled context (SIGINT/SIGTERM) abandons the evaluations in flight
//     (they stay pending and are re-run on resume), writes a final checkpoint
//     and a summary with status interrupted, and returns kind canceled.
//
// Hooks (Options.OnIteration, Options.Every) run on the caller's goroutine
// after each iteration's record; their errors are logged as hook_error
// events. Options.TestKill lets tests SIGKILL the process at chosen phases.
package run
