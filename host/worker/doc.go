// Package worker runs evaluations in child processes, so that a crash in
// native code (SIGSEGV in OpenCV, an abort, the OOM killer, a hang) costs one
// evaluation, not the run (notes/deps.md §10). It is Linux-only.
//
// # Parent side
//
//	pool, err := worker.NewPool(ctx, worker.Options{
//		Command:     []string{exe, "worker"}, // the hidden `bohost worker` subcommand
//		Size:        4,                        // default runtime.NumCPU()
//		Spec:        spec,                     // JSON for the worker's Factory
//		MaxRSSBytes: 6 << 30,                  // per worker; 0: none
//		Timeout:     2 * time.Minute,          // per evaluation; 0: none
//		OnDeath:     func(d worker.Death) { /* events.jsonl: worker_death */ },
//	})
//	res := pool.Eval(ctx, worker.Request{X: x, W: w, EnvIndex: 4, EnvID: "P1020171"})
//	// res.Status: ok | failed | crashed | timeout | oom (| canceled: ctx ended)
//	err = pool.Close()
//
// Pool implements Dispatcher (Eval + Close), the seam where a Slurm backend
// can plug in later. Eval never returns an error; every outcome is a Result.
// Workers start in their own process group from one locked OS thread (with
// Pdeathsig, so they die with the parent). The parent polls each worker's
// VmRSS (Options.PollInterval) and kills it above MaxRSSBytes (status oom),
// kills it past the evaluation's timeout plus KillGrace (status timeout), and
// kills a worker silent for HeartbeatTimeout (status timeout, the
// certificate's heartbeat_timeout set). When a worker dies for any reason the
// parent writes a Death certificate — signal name or exit code, pid, the last
// StderrTailLines lines of its stderr (and the first "fatal error:"/"panic:"
// line, which a goroutine dump would push out of the tail), the peak RSS it
// saw, the cgroup's oom_kill delta (or "unavailable"), the last phase the
// worker reported, start and end times — calls OnDeath, replaces the worker in
// the background, and returns a Result with status crashed, oom or timeout
// and the certificate in Result.Death. An idle worker that dies is certified
// and replaced when it is next picked. A slot whose worker fails to restart
// MaxStartFailures times in a row is given up; when all are, Eval fails.
//
// Status mapping: killed by the pool for time → timeout; for RSS, or the
// worker's own Go runtime reported "out of memory" (its RLIMIT_DATA), or a
// SIGKILL while the cgroup's oom_kill counter rose → oom; any other signal or
// exit → crashed. An objective error (or panic, or a non-finite y) is failed,
// and the worker lives on.
//
// # Worker side
//
// The hidden subcommand is three lines:
//
//	in, out, err := worker.ClaimStdio() // fd 1 now goes to stderr: stray prints cannot break frames
//	err = worker.Serve(ctx, in, out, factory)
//
// where factory builds the Objective from Hello.Spec (an AirLine config, a Lua
// file and function: the caller decides). Serve applies the memory limits
// (debug.SetMemoryLimit to the cap, RLIMIT_DATA to the current data size plus
// the cap plus 128 MiB as a backstop for bursts between the parent's polls,
// RLIMIT_AS only with LimitAddressSpace), sends heartbeats, resets VmHWM
// before each evaluation so Result.PeakRSSBytes is per evaluation, and
// reports phases: an objective calls SetPhase(ctx, "detect") and the last
// phase appears in a death certificate. The request's timeout_s is also set
// as the objective's context deadline, so a cooperative objective returns
// (status timeout, worker kept) before the parent's kill.
//
// # Protocol
//
// Frames over the worker's stdin/stdout: a 4-byte big-endian length, then a
// JSON object {"type": T, T: {...}} with T one of hello (parent → worker:
// Hello), ready (Ready: pid, limits applied, or the factory's error), eval
// (Request: id, x, w, env_index, env_id, timeout_s, args), result (Result:
// id, status, y, score, error, error_kind, peak_rss_bytes, phase, seconds)
// and heartbeat (phase, rss_bytes). EOF on the worker's stdin is a clean
// shutdown. Frames are limited to 64 MiB.
//
// Tests use the standard re-exec pattern: TestMain runs Serve when
// BOHOST_WORKER_TEST=1, and the pool's Command is os.Args[0].
package worker
