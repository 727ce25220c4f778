package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	runpkg "bohost/host/run"
)

// `bohost resume RUN_DIR [--force]` re-runs the run's saved script with its
// saved arguments; the script's bo.run on the run directory resumes it. A
// run directory locates itself: args.json records its path, and bo.run on
// that path opens RUN_DIR, so a copy (or a moved directory) resumes itself
// and never the original. Any other run directory the script names (the
// other cells of a sweep) is skipped (docs/runs.md, "Resume").
func init() {
	register(&Command{Name: "resume", Usage: "bohost resume RUN_DIR [--force]",
		Summary: "Resume a run: re-run its saved script (RUN_DIR/script.lua) with its saved arguments (args.json) from the directory it was started in, opening RUN_DIR itself (also when it is a copy or was moved) and skipping any other run directory the script names. --force resumes even when the script, configuration or data set changed.",
		Run:     resumeMain})
}

func resumeMain(env *Env, args []string) int {
	var dir string
	force := false
	for _, a := range args {
		switch {
		case a == "--force" || a == "-f":
			force = true
		case len(a) > 0 && a[0] == '-':
			return usageError(env, "resume: unknown flag %s (usage: bohost resume RUN_DIR [--force])", a)
		case dir != "":
			return usageError(env, "resume: one run directory expected, got %q and %q", dir, a)
		default:
			dir = a
		}
	}
	if dir == "" {
		return usageError(env, "resume: RUN_DIR is required (usage: bohost resume RUN_DIR [--force])")
	}
	// Absolute before anything changes the working directory.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return usageError(env, "resume: %s: %v", dir, err)
	}
	dir = abs
	saved, err := runpkg.ReadArgs(dir)
	if err != nil {
		return usageError(env, "resume: %v", err)
	}
	if !fileExists(filepath.Join(dir, runpkg.ConfigFile)) {
		return usageError(env, "resume: %s has args.json but no %s: not a run directory I can resume", dir, runpkg.ConfigFile)
	}
	// The saved copy; the original path when it still holds the same text
	// (so arg[0] and paths relative to the script are unchanged).
	script := filepath.Join(dir, runpkg.ScriptFile)
	if cp, err := os.ReadFile(script); err != nil {
		script = saved.Script
	} else if orig, err := os.ReadFile(saved.Script); err == nil && bytes.Equal(orig, cp) {
		script = saved.Script
	}
	if script == "" || !fileExists(script) {
		return usageError(env, "resume: %s has no script.lua and its script %q is gone; resume by running the script that calls bo.run", dir, saved.Script)
	}
	if a, err := filepath.Abs(script); err == nil {
		script = a
	}
	// Relative paths in the script resolve from the directory the run was
	// started in, when it is still there; bo.run's directory is mapped
	// whatever the working directory (runpkg.ResumeTarget).
	if saved.Cwd != "" {
		if err := os.Chdir(saved.Cwd); err != nil {
			fmt.Fprintf(env.Stderr, "bohost: resume: the run was started in %s, which is not here (%v): running the script from %s\n", saved.Cwd, err, cwdOr("the current directory"))
		}
	}
	rr := runpkg.ResumeRedirect{Dir: dir, Recorded: saved.Dir, Cwd: saved.Cwd}
	e := *env
	getenv := env.Getenv
	e.Getenv = func(k string) string {
		switch {
		case k == "BOHOST_RESUME_FORCE" && force:
			return "1"
		case k == runpkg.ResumeDirEnv:
			return rr.Encode()
		}
		return getenv(k)
	}
	if saved.Dir != "" && !samePath(saved.Dir, dir) {
		fmt.Fprintf(env.Stderr, "bohost: resuming %s, a copy or move of %s: the script's bo.run on %s opens %s, and no other run directory is touched: %s %v\n", dir, saved.Dir, saved.Dir, dir, script, saved.Args)
	} else {
		fmt.Fprintf(env.Stderr, "bohost: resuming %s: %s %v\n", dir, script, saved.Args)
	}
	before := runpkg.ResumeHits()
	code := runScript(&e, script, saved.Args)
	if runpkg.ResumeHits() == before {
		why := "its script named no run directory that is this one (see the skipped directories above)"
		if saved.Dir == "" {
			why = "its args.json does not record the directory's own path (it was made by an older bohost), so its script opens the directory the run was made in, not this one (see the skipped directories above): resume the original, or run the script yourself with its directory option set to " + dir
		}
		fmt.Fprintf(env.Stderr, "bohost: resume: the script did not open %s, so it was not resumed: %s\n", dir, why)
		if code == ExitOK {
			code = ExitScriptError
		}
	}
	return code
}

func cwdOr(def string) string {
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return def
}

// samePath reports whether a and b name the same directory (symbolic links
// resolved).
func samePath(a, b string) bool {
	ra, err1 := runpkg.RealPath(a)
	rb, err2 := runpkg.RealPath(b)
	return err1 == nil && err2 == nil && ra == rb
}
