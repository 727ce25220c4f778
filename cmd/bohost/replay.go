package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	runpkg "bohost/host/run"
)

func init() {
	register(&Command{
		Name:    "replay",
		Summary: "Re-run a run's experiment from scratch, from its run directory alone (config.json, and its copy of a Lua objective, checked against the recorded sha256; the script is not run), into a fresh directory marked by replay.json (an existing --out is replaced only when it is a replay of the same run), and check that the first trials match the recorded ones: same x, same environment, same status and the same score, bit for bit. Use it on a copied run directory to check a shared result reproduces.",
		Usage:   "bohost replay RUN_DIR [--trials N] [--out DIR] [--data DIR] [--workers N]",
		Run:     replayMain,
	})
}

var errEnoughTrials = errors.New("replay: enough trials")

func replayMain(env *Env, args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("trials", 10, "how many trials to re-run and compare")
	out := fs.String("out", "", "where to replay: a new or empty directory, or an earlier replay of this run (default: a directory under the system temp dir)")
	data := fs.String("data", "", "the data set directory, when the run's path does not exist here")
	workers := fs.Int("workers", 0, "worker processes (default: the run's)")
	var dirs []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return usageError(env, "replay: %v", err)
		}
		rest = fs.Args()
		if len(rest) > 0 {
			dirs, rest = append(dirs, rest[0]), rest[1:]
		}
	}
	if len(dirs) != 1 {
		return usageError(env, "replay: give exactly one run directory (usage: bohost replay RUN_DIR [--trials N])")
	}
	if *n < 1 {
		return usageError(env, "replay: --trials must be >= 1, got %d", *n)
	}
	src := dirs[0]
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "bohost: replay: %v\n", err)
		return ExitScriptError
	}
	cfg, err := replayConfig(src, *data)
	if err != nil {
		return fail(err)
	}
	if real, err := runpkg.RealPath(src); err == nil {
		src = real
	}
	id, err := runpkg.Identity(src)
	if err != nil {
		return fail(err)
	}
	orig, err := runpkg.ReadTrials(src)
	if err != nil {
		return fail(err)
	}
	if len(orig) == 0 {
		fmt.Fprintf(env.Stderr, "bohost: replay: %s has no trials to compare with\n", filepath.Join(src, "trials.jsonl"))
		return ExitScriptError
	}
	if *n > len(orig) {
		*n = len(orig)
	}
	// What runs: the run directory's copy of a Lua objective (or, for an
	// older directory, the recorded file), only with the recorded hash.
	objFile, objSHA, copied, err := runpkg.ReplayObjective(src, cfg)
	if err != nil {
		return fail(err)
	}
	if objFile != "" {
		if cfg.Objective, err = runpkg.WithObjectiveFile(cfg.Objective, objFile); err != nil {
			return fail(err)
		}
	}
	dest := *out
	if dest == "" { // outside the sweep, so bohost report never mistakes it for a run
		dest = filepath.Join(os.TempDir(), "bohost-replay-"+strings.NewReplacer("/", "_", "\\", "_").Replace(strings.TrimPrefix(src, "/")))
	}
	if _, err := runpkg.CheckReplayOut(dest, src, id); err != nil {
		return fail(err)
	}
	if *workers > 0 {
		cfg.Workers = *workers
	}
	exe := env.Executable
	if exe == "" {
		exe, _ = os.Executable()
	}
	// Replay into a fresh sibling of the destination, moved into place at
	// the end: an interrupted replay never leaves a half-replaced directory.
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(parent, ".bohost-replay-tmp-")
	if err != nil {
		return fail(err)
	}
	os.Chmod(tmp, 0o755) // as a run directory is made (MkdirTemp makes it private)
	placed := false
	defer func() {
		if !placed {
			os.RemoveAll(tmp) // made above, by this replay
		}
	}()
	if err := runpkg.WriteReplayMark(tmp, runpkg.ReplayMark{ReplayOf: src, Identity: id, Trials: *n}); err != nil {
		return fail(err)
	}
	cfg.Dir = tmp
	opts := runpkg.Options{
		WorkerCommand: []string{exe, "worker"}, Log: io.Discard, HookErrorsFatal: true,
		OnIteration: func(r *runpkg.Run, it runpkg.Iteration) error {
			if ts, err := r.Trials(); err == nil && len(ts) >= *n {
				return errEnoughTrials
			}
			return nil
		},
	}
	fmt.Fprintf(env.Stdout, "replaying the first %d trials of %s in %s\n", *n, src, dest)
	fmt.Fprintf(env.Stdout, "  configuration: %s (the run's script.lua is not executed)\n", filepath.Join(src, runpkg.ConfigFile))
	switch {
	case objFile != "" && copied:
		fmt.Fprintf(env.Stdout, "  objective: %s (the run's copy), sha256 %s as recorded\n", objFile, objSHA)
	case objFile != "":
		fmt.Fprintf(env.Stdout, "  objective: %s (the recorded path: this run directory has no copy), sha256 %s as recorded\n", objFile, objSHA)
	default:
		fmt.Fprintf(env.Stdout, "  objective: %s\n", string(cfg.Objective))
	}
	ctx, sigGot, cancel := commandContext(env) // Ctrl-C: stop, and remove the unfinished replay
	defer cancel()
	r, err := runpkg.Open(ctx, cfg, opts)
	if err != nil {
		return fail(err)
	}
	if want := runpkg.ManifestSHA(src); want != "" {
		got := runpkg.ManifestSHA(tmp)
		if got != want {
			r.Close()
			return fail(fmt.Errorf("the data set differs from the run's: manifest sha256 %s here, %s in %s (give the run's data with --data)", got, want, filepath.Join(src, runpkg.ManifestFile)))
		}
		fmt.Fprintf(env.Stdout, "  data: manifest sha256 %s as recorded\n", want)
	}
	_, err = r.Execute(ctx)
	r.Close()
	if s := sigGot(); s != nil {
		return interrupted(env, "replay", s, fmt.Sprintf("; %s is left as it was", dest))
	}
	runErr := err
	if errors.Is(err, errEnoughTrials) {
		runErr = nil
	}
	// Move the replay into place: dest is new, empty, or a replay of this
	// very run (checked again now; it is replaced).
	if err := placeReplay(tmp, dest, src, id); err != nil {
		return fail(err)
	}
	placed = true
	got, err := runpkg.ReadTrials(dest)
	if err != nil {
		return fail(err)
	}
	if len(got) < *n {
		if runErr != nil {
			return fail(runErr)
		}
		fmt.Fprintf(env.Stderr, "bohost: replay: the replay produced %d trials, fewer than %d\n", len(got), *n)
		return ExitScriptError
	}
	bad := 0
	for i := 0; i < *n; i++ {
		if d := trialDiff(orig[i], got[i]); d != "" {
			bad++
			fmt.Fprintf(env.Stdout, "trial %d differs: %s\n", i, d)
		}
	}
	if bad > 0 {
		fmt.Fprintf(env.Stdout, "replay: %d of %d trials differ\n", bad, *n)
		return ExitScriptError
	}
	fmt.Fprintf(env.Stdout, "replay: the first %d trials match bit for bit (x, environment, status, score)\n", *n)
	return ExitOK
}

// placeReplay renames the finished replay tmp to dest, replacing what
// CheckReplayOut allows there (an empty directory, or a replay directory of
// the same run).
func placeReplay(tmp, dest, src, id string) error {
	exists, err := runpkg.CheckReplayOut(dest, src, id)
	if err != nil {
		return err
	}
	if !exists {
		return os.Rename(tmp, dest)
	}
	old := tmp + ".old"
	if err := os.Rename(dest, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Rename(old, dest)
		return err
	}
	return os.RemoveAll(old) // the previous replay of this run (or an empty directory)
}

// replayConfig is the run's configuration (run.ReadConfig), with --data
// replacing the data directory of an airline objective.
func replayConfig(dir, data string) (runpkg.Config, error) {
	cfg, err := runpkg.ReadConfig(dir)
	if err != nil || data == "" {
		return cfg, err
	}
	var spec map[string]map[string]any
	if err := json.Unmarshal(cfg.Objective, &spec); err != nil || spec["airline"] == nil {
		return runpkg.Config{}, fmt.Errorf("--data applies to airline objectives; %s has %s", filepath.Join(dir, runpkg.ConfigFile), string(cfg.Objective))
	}
	spec["airline"]["data"] = data
	cfg.Objective, _ = json.Marshal(spec)
	return cfg, nil
}

func trialDiff(a, b runpkg.Trial) string {
	switch {
	case !sameVec(a.XVec, b.XVec):
		return fmt.Sprintf("x %v vs %v", a.XVec, b.XVec)
	case a.EnvIndex != b.EnvIndex || !sameVec(a.W, b.W):
		return fmt.Sprintf("environment %d %v vs %d %v", a.EnvIndex, a.W, b.EnvIndex, b.W)
	case a.Status != b.Status:
		return fmt.Sprintf("status %s vs %s", a.Status, b.Status)
	case (a.Y == nil) != (b.Y == nil) || a.Y != nil && math.Float64bits(*a.Y) != math.Float64bits(*b.Y):
		return fmt.Sprintf("score %v vs %v", deref(a.Y), deref(b.Y))
	}
	return ""
}

func sameVec(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
