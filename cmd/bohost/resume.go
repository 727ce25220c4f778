package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// `bohost resume RUN_DIR [--force]` re-runs the run's saved script with its
// saved arguments; the script's bo.run on the same directory resumes it.
func init() {
	register(&Command{Name: "resume", Usage: "bohost resume RUN_DIR [--force]",
		Summary: "Resume a run: re-run its saved script (RUN_DIR/script.lua) with its saved arguments (args.json) from the directory it was started in. --force resumes even when the script, configuration or data set changed.",
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
	b, err := os.ReadFile(filepath.Join(dir, "args.json"))
	if err != nil {
		return usageError(env, "resume: %s is not a resumable run directory: %v", dir, err)
	}
	var saved struct {
		Script string   `json:"script"`
		Args   []string `json:"args"`
		Cwd    string   `json:"cwd"`
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		return usageError(env, "resume: %s/args.json: %v", dir, err)
	}
	// The saved copy; the original path when it still holds the same text
	// (so arg[0] and paths relative to the script are unchanged).
	script := filepath.Join(dir, "script.lua")
	if cp, err := os.ReadFile(script); err != nil {
		script = saved.Script
	} else if orig, err := os.ReadFile(saved.Script); err == nil && bytes.Equal(orig, cp) {
		script = saved.Script
	}
	if script == "" || !fileExists(script) {
		return usageError(env, "resume: %s has no script.lua and its script %q is gone; resume by running the script that calls bo.run", dir, saved.Script)
	}
	// The script is the saved copy, so relative paths in it resolve from the
	// directory the run was started in.
	if saved.Cwd != "" {
		if err := os.Chdir(saved.Cwd); err != nil {
			return usageError(env, "resume: the run was started in %s: %v", saved.Cwd, err)
		}
	}
	if abs, err := filepath.Abs(script); err == nil {
		script = abs
	}
	e := *env
	getenv := env.Getenv
	e.Getenv = func(k string) string {
		if k == "BOHOST_RESUME_FORCE" && force {
			return "1"
		}
		return getenv(k)
	}
	fmt.Fprintf(env.Stderr, "bohost: resuming %s: %s %v\n", dir, script, saved.Args)
	return runScript(&e, script, saved.Args)
}
