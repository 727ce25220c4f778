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
// Pool implements Dispatcher (Eval + Close). Eval never returns an error;
// every outcome is a Result.
// Workers start in their own process group from one locked OS thread (with
// Pdeathsig SIGKILL, so they die with the parent). The parent kills a worker
// past the evaluation's timeout plus KillGrace (status timeout), and
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
// # Memory cap (MaxRSSBytes)
//
// NewPool measures each worker's baseline (its VmRSS right after Ready, the
// objective built) and refuses a cap that does not leave BaselineMargin above
// it, with a message naming max_rss, the value and the baseline. The cap is
// then enforced in four ways; the certificate's cap_enforced_by says which
// one caught a worker, and its limits what was applied:
//
//   - cgroup_v2: where this process's cgroup v2 directory is writable and
//     has the memory controller (memctl.OpenCgroups: a delegated systemd
//     scope or unit, a container with a writable cgroup namespace), each
//     worker gets its own child cgroup with memory.max = the cap; the
//     kernel's OOM killer kills it there, and memory.events' oom_kill tells
//     that SIGKILL from any other (cause oom_kill). BOHOST_CGROUP=off or
//     Options.MemoryCgroup "off" disables it;
//   - rlimit_data: elsewhere (and as well), the worker sets RLIMIT_DATA to
//     its data size after start plus what the cap leaves above its baseline
//     plus headroom for the Go runtime's heap steps and thread stacks; an
//     allocation past it fails, the Go runtime reports "out of memory"
//     (cause runtime_oom). Data is not RSS, so this is a kernel backstop a
//     little above the cap, not the cap itself;
//   - peak_rss: after each evaluation the pool compares the evaluation's own
//     peak (the worker's VmHWM, reset at the evaluation's start through
//     /proc/self/clear_refs) with the cap; above it, that evaluation is oom
//     and the worker is replaced (it may still hold the memory), so a short
//     evaluation that finished over the cap between two polls is charged,
//     never a later innocent one;
//   - rss_poll: the pool polls VmRSS every PollInterval once the worker is
//     ready, and kills it above the cap (during an evaluation: that one is
//     oom; idle: nothing is charged).
//
// An objective that evaluates in child processes of the worker (it
// implements Tree: host/extproc's bridge to an external evaluator) says so
// in Ready.Tree; the baseline, the RSS poll and PIDs then cover the
// worker's process tree, and its Result.PeakRSSBytes adds the children's
// peak (their VmHWM reset at the evaluation's start). A worker may explain
// its own death with a DeathNote line on stderr, which the certificate's
// reason quotes.
//
// # Launchers
//
// With Options.Launcher set, each worker is started through another program
// that keeps its stdio connected: host/slurm's Launcher runs it as a Slurm
// job step with srun. The frame protocol is unchanged. The worker reports
// where it runs in Ready (host, the launcher's environment variables named
// in Hello.ReportEnv, its RSS); the pool measures the worker's own pid when
// it runs on this host and otherwise relies on that RSS, the heartbeats and
// the launcher's own memory limit (no cgroup is made). After the pool kills
// the launcher's process it calls Launcher.Stop (scancel of the step), and
// a death certificate gets the launcher's account in Death.Step (Slurm's
// state, exit code and line) through Launcher.Explain, which also sets the
// cause where the pool did not decide it (a step over its --mem is
// oom_kill, cap_enforced_by slurm_mem). OnStart reports each worker's Ready.
//
// # Signals
//
// A worker process (Main) stops cleanly on SIGTERM, SIGHUP or SIGINT: the
// evaluation in flight sees its context end and gets StopGrace to return, no
// result is sent for it, a line goes to stderr, and the worker dies by the
// same signal, so its certificate names it (status crashed, cause signal).
// When such a death comes while the caller's context is ending too (a whole
// process tree being stopped), Eval returns canceled instead, so the
// evaluation runs again on resume rather than being recorded as a crash. The
// pool itself stops workers with EOF on stdin (Close) or SIGKILL of their
// process group (a canceled evaluation, a timeout, the cap).
//
// # Worker side
//
// The hidden subcommand is one line:
//
//	return worker.Main(os.Stderr, factory) // ClaimStdio, Serve, stop signals
//
// which is, signals aside:
//
//	in, out, err := worker.ClaimStdio() // fd 1 now goes to stderr: stray prints cannot break frames
//	err = worker.Serve(ctx, in, out, factory)
//
// where factory builds the Objective from Hello.Spec (an AirLine config, a Lua
// file and function: the caller decides). Main does both, and handles the
// stop signals. Serve applies the memory limits once the objective is built
// (debug.SetMemoryLimit to the cap, RLIMIT_DATA as above, RLIMIT_AS only with
// LimitAddressSpace), sends heartbeats, resets VmHWM before each evaluation
// so Result.PeakRSSBytes is per evaluation (Result.PeakRSSScope says so), and
// reports phases: an objective calls SetPhase(ctx, "detect") and the last
// phase appears in a death certificate. The request's timeout_s is also set
// as the objective's context deadline, so a cooperative objective returns
// (status timeout, worker kept) before the parent's kill.
//
// # Protocol
//
// Frames over the worker's stdin/stdout: a 4-byte big-endian length, then a
// JSON object {"type": T, T: {...}} with T one of hello (parent → worker:
// Hello), ready (Ready: pid, limits applied, host and launcher ids, or the
// factory's error), eval
// (Request: id, x, w, env_index, env_id, timeout_s, args), result (Result:
// id, status, y, score, error, error_kind, peak_rss_bytes, phase, seconds)
// and heartbeat (phase, rss_bytes). EOF on the worker's stdin is a clean
// shutdown. Frames are limited to 64 MiB.
//
// Tests use the standard re-exec pattern: TestMain runs Serve when
// BOHOST_WORKER_TEST=1, and the pool's Command is os.Args[0].
package worker
