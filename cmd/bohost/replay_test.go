package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplay re-runs a finished run from its directory alone (also after
// copying it elsewhere) and checks the first trials match; a doctored
// journal is caught.
func TestReplay(t *testing.T) {
	c := newCLI(t)
	if code, out := c.run(nil, "run.lua", "--dir", "orig", "--iterations", "4"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	code, out := c.run(nil, "replay", "orig", "--trials", "8", "--out", "replayed")
	if code != 0 || !strings.Contains(out, "the first 8 trials match bit for bit") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	// Doctor one recorded score: the replay must notice.
	p := filepath.Join(c.cwd, "orig", "trials.jsonl")
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var rec map[string]any
	json.Unmarshal([]byte(lines[5]), &rec)
	rec["y"] = rec["y"].(float64) + 1e-12
	nb, _ := json.Marshal(rec)
	lines[5] = string(nb)
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	code, out = c.run(nil, "replay", "orig", "--trials", "8", "--out", "replayed")
	if code != 1 || !strings.Contains(out, "trial 5 differs: score") || !strings.Contains(out, "1 of 8 trials differ") {
		t.Fatalf("doctored replay: exit %d\n%s", code, out)
	}
	if code, out := c.run(nil, "replay", "nowhere"); code != 1 || !strings.Contains(out, "is nowhere a run directory?") {
		t.Fatalf("missing dir: exit %d\n%s", code, out)
	}
}

// copyTree copies a directory tree (regular files and directories).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReplayOutSafety: replay never deletes what bohost did not create
// (issue 19, defect 1). --out equal to, inside or above the source, a
// non-empty directory that is not a replay of this run, a file, a symbolic
// link, and the default directory under the temp dir holding someone
// else's files are all refused with nothing lost; a replay directory of the
// same run is replaced.
func TestReplayOutSafety(t *testing.T) {
	c := newCLI(t)
	if code, out := c.run(nil, "run.lua", "--dir", "orig", "--iterations", "3"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	if code, out := c.run(nil, "run.lua", "--dir", "other", "--iterations", "3", "--seed", "4"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	src := filepath.Join(c.cwd, "orig")
	nTrials := countLines(filepath.Join(src, "trials.jsonl"))
	intact := func(what string) {
		t.Helper()
		if n := countLines(filepath.Join(src, "trials.jsonl")); n != nTrials {
			t.Fatalf("%s: the source run now has %d trials, had %d", what, n, nTrials)
		}
		for _, f := range []string{"config.json", "summary.json", "checkpoint.json", "run.lua", "objective.lua"} {
			dir := src
			if strings.HasSuffix(f, ".lua") && f != "objective.lua" {
				dir = c.cwd
			}
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	refuse := func(what, out string, env []string, wants ...string) {
		t.Helper()
		args := []string{"replay", "orig", "--trials", "4"}
		if out != "" {
			args = append(args, "--out", out)
		}
		code, o := c.run(env, args...)
		if code == 0 || strings.Contains(o, "match bit for bit") {
			t.Fatalf("%s: replay into %q was not refused: exit %d\n%s", what, out, code, o)
		}
		for _, w := range wants {
			if !strings.Contains(o, w) {
				t.Fatalf("%s: message lacks %q:\n%s", what, w, o)
			}
		}
		intact(what)
	}
	refuse("the source itself", "orig", nil, "--out", "is the run directory")
	refuse("the source, absolute", src, nil, "is the run directory")
	refuse("inside the source", "orig/replay", nil, "inside the run directory")
	refuse("above the source", ".", nil, "holds the run directory")

	// An unrelated non-empty directory: refused, its file kept.
	keep := filepath.Join(c.cwd, "mine", "notes.txt")
	os.MkdirAll(filepath.Dir(keep), 0o755)
	os.WriteFile(keep, []byte("precious"), 0o644)
	refuse("an unrelated directory", "mine", nil, "not empty", "not a replay directory")
	if b, err := os.ReadFile(keep); err != nil || string(b) != "precious" {
		t.Fatalf("an unrelated file was lost: %v %q", err, b)
	}
	// A file, and a symbolic link to the source.
	os.WriteFile(filepath.Join(c.cwd, "afile"), []byte("x"), 0o644)
	refuse("a file", "afile", nil, "not a directory")
	os.Symlink(src, filepath.Join(c.cwd, "link"))
	refuse("a link to the source", "link", nil)
	refuse("inside a link to the source", "link/sub", nil, "inside the run directory")
	// Another run directory (not a replay): refused.
	refuse("another run", "other", nil, "not a replay directory")
	if n := countLines(filepath.Join(c.cwd, "other", "trials.jsonl")); n == 0 {
		t.Fatal("the other run lost its trials")
	}

	// A fresh directory: replayed, marked, and replaced by the next replay
	// of the same run; an empty existing directory is fine too.
	os.MkdirAll(filepath.Join(c.cwd, "empty"), 0o755)
	for _, out := range []string{"replayed", "replayed", "empty"} {
		code, o := c.run(nil, "replay", "orig", "--trials", "4", "--out", out)
		if code != 0 || !strings.Contains(o, "match bit for bit") {
			t.Fatalf("replay into %s: exit %d\n%s", out, code, o)
		}
		b, err := os.ReadFile(filepath.Join(c.cwd, out, "replay.json"))
		if err != nil || !strings.Contains(string(b), src) {
			t.Fatalf("replay.json: %v\n%s", err, b)
		}
		if n := countLines(filepath.Join(c.cwd, out, "trials.jsonl")); n < 4 {
			t.Fatalf("%s has %d trials", out, n)
		}
	}
	ents, _ := os.ReadDir(c.cwd)
	for _, e := range ents {
		if strings.Contains(e.Name(), "replay") && e.Name() != "replayed" {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
	// A replay directory of another run is not replaced either.
	if code, o := c.run(nil, "replay", "other", "--trials", "2", "--out", "replay_other"); code != 0 {
		t.Fatalf("replay other: exit %d\n%s", code, o)
	}
	refuse("a replay of another run", "replay_other", nil, "replay of")

	// The default directory under the temp dir follows the same rules.
	tmp := filepath.Join(t.TempDir(), "tmp")
	os.MkdirAll(tmp, 0o755)
	env := []string{"TMPDIR=" + tmp}
	code, o := c.run(env, "replay", "orig", "--trials", "4")
	if code != 0 || !strings.Contains(o, "match bit for bit") {
		t.Fatalf("default replay: exit %d\n%s", code, o)
	}
	defs, _ := filepath.Glob(filepath.Join(tmp, "bohost-replay-*"))
	if len(defs) != 1 {
		t.Fatalf("default replay directories: %v", defs)
	}
	if code, o := c.run(env, "replay", "orig", "--trials", "4"); code != 0 {
		t.Fatalf("default replay again: exit %d\n%s", code, o)
	}
	os.RemoveAll(defs[0])
	os.MkdirAll(defs[0], 0o755)
	os.WriteFile(filepath.Join(defs[0], "someone.txt"), []byte("theirs"), 0o644)
	refuse("someone else's default directory", "", env, "not a replay directory")
	if _, err := os.Stat(filepath.Join(defs[0], "someone.txt")); err != nil {
		t.Fatalf("default directory: %v", err)
	}
}

// TestReplayObjectiveCopy: a Lua objective is copied into the run directory
// and replay executes that copy after checking its sha256, saying what it
// runs; a doctored copy is refused naming both hashes; a directory without
// the copy (an older bohost) falls back to the recorded path only when its
// hash matches (issue 19, defect 6).
func TestReplayObjectiveCopy(t *testing.T) {
	c := newCLI(t)
	if code, out := c.run(nil, "run.lua", "--dir", "orig", "--iterations", "3"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	objPath := filepath.Join(c.cwd, "objective.lua")
	orig, _ := os.ReadFile(objPath)
	cp, err := os.ReadFile(filepath.Join(c.cwd, "orig", "objective.lua"))
	if err != nil || string(cp) != string(orig) {
		t.Fatalf("the run directory has no copy of the objective: %v", err)
	}
	// Edit the objective the run named: the replay runs the copy and still
	// matches, and says which file it executes.
	edited := strings.Replace(string(orig), "- 0.5 *", "- 0.7 *", 1)
	if edited == string(orig) {
		t.Fatal("test objective did not change")
	}
	os.WriteFile(objPath, []byte(edited), 0o644)
	copyPath := filepath.Join(c.cwd, "orig", "objective.lua")
	code, out := c.run(nil, "replay", "orig", "--trials", "6", "--out", "r1")
	if code != 0 || !strings.Contains(out, "match bit for bit") || !strings.Contains(out, copyPath) || !strings.Contains(out, "sha256") {
		t.Fatalf("replay with an edited original objective: exit %d\n%s", code, out)
	}
	// A doctored copy: refused before anything runs, naming both hashes.
	h := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	os.WriteFile(copyPath, []byte(edited), 0o644)
	code, out = c.run(nil, "replay", "orig", "--trials", "6", "--out", "r2")
	if code == 0 || strings.Contains(out, "match bit for bit") || !strings.Contains(out, h(orig)) || !strings.Contains(out, h([]byte(edited))) {
		t.Fatalf("doctored copy: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(c.cwd, "r2")); err == nil {
		t.Fatal("a refused replay left its directory")
	}
	// No copy (an older run directory): the recorded path, edited, is refused
	// naming both hashes; restored, it is used and named.
	os.Remove(copyPath)
	code, out = c.run(nil, "replay", "orig", "--trials", "6", "--out", "r3")
	if code == 0 || !strings.Contains(out, objPath) || !strings.Contains(out, h(orig)) || !strings.Contains(out, h([]byte(edited))) {
		t.Fatalf("old directory, edited objective: exit %d\n%s", code, out)
	}
	os.WriteFile(objPath, orig, 0o644)
	code, out = c.run(nil, "replay", "orig", "--trials", "6", "--out", "r3")
	if code != 0 || !strings.Contains(out, "match bit for bit") || !strings.Contains(out, objPath) {
		t.Fatalf("old directory, objective unchanged: exit %d\n%s", code, out)
	}
	// The data set is checked too: a run whose manifest records another
	// data set is refused (a Lua objective's manifest is empty).
	mp := filepath.Join(c.cwd, "orig", "manifest.json")
	os.WriteFile(mp, []byte(`{"dir": "elsewhere", "files": [], "sha256": "0123abcd"}`), 0o644)
	code, out = c.run(nil, "replay", "orig", "--trials", "6", "--out", "r4")
	if code == 0 || !strings.Contains(out, "manifest sha256") || !strings.Contains(out, "0123abcd") {
		t.Fatalf("another data set: exit %d\n%s", code, out)
	}
}
