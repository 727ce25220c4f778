package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithinAndRealPath(t *testing.T) {
	tmp, _ := filepath.EvalSymlinks(t.TempDir())
	for _, c := range []struct {
		path, dir string
		want      bool
	}{
		{"/a/b", "/a/b", true}, {"/a/b/c", "/a/b", true}, {"/a/bc", "/a/b", false},
		{"/a/..b", "/a", true}, {"/a", "/a/b", false}, {"/x", "/a", false},
	} {
		if got := Within(c.path, c.dir); got != c.want {
			t.Errorf("Within(%q, %q) = %v", c.path, c.dir, got)
		}
	}
	real := filepath.Join(tmp, "real")
	os.MkdirAll(real, 0o755)
	os.Symlink(real, filepath.Join(tmp, "link"))
	got, err := RealPath(filepath.Join(tmp, "link", "not", "yet"))
	if err != nil || got != filepath.Join(real, "not", "yet") {
		t.Fatalf("RealPath through a link to a path still to be made: %q %v", got, err)
	}
}

// TestResumeTarget: bo.run on the recorded path or on the directory itself
// opens the directory being resumed (relative paths also from the saved
// working directory, and through symbolic links); anything else is skipped.
func TestResumeTarget(t *testing.T) {
	tmp, _ := filepath.EvalSymlinks(t.TempDir())
	cp := filepath.Join(tmp, "copy")
	os.MkdirAll(cp, 0o755)
	os.Symlink(cp, filepath.Join(tmp, "alias"))
	spec := ResumeRedirect{Dir: cp, Recorded: "/gone/work/runs/a", Cwd: "/gone/work"}.Encode()
	if d, skip, err := ResumeTarget("", "runs/a"); d != "runs/a" || skip != "" || err != nil {
		t.Fatalf("not resuming: %q %q %v", d, skip, err)
	}
	for _, dir := range []string{"/gone/work/runs/a", "runs/a", "runs/./a/", cp, filepath.Join(tmp, "alias")} {
		before := ResumeHits()
		d, skip, err := ResumeTarget(spec, dir)
		if d != cp || skip != "" || err != nil || ResumeHits() != before+1 {
			t.Errorf("%s: %q %q %v", dir, d, skip, err)
		}
	}
	for _, dir := range []string{"runs/b", "/gone/work/runs/b", filepath.Join(tmp, "other")} {
		d, skip, err := ResumeTarget(spec, dir)
		if d != "" || !strings.Contains(skip, "skipped "+dir) || err != nil {
			t.Errorf("%s: %q %q %v", dir, d, skip, err)
		}
	}
	// A directory made before args.json recorded "dir": only itself.
	old := ResumeRedirect{Dir: cp, Cwd: "/gone/work"}.Encode()
	if _, skip, _ := ResumeTarget(old, "runs/a"); skip == "" {
		t.Error("an older directory's script opening another directory was not skipped")
	}
	if _, _, err := ResumeTarget("nonsense", "runs/a"); err == nil || !strings.Contains(err.Error(), ResumeDirEnv) {
		t.Errorf("a bad %s: %v", ResumeDirEnv, err)
	}
}

// TestObjectiveCopy: a new run copies its Lua objective into the run
// directory and records the directory's own path in args.json; it never
// overwrites an objective.lua that is not the objective.
func TestObjectiveCopy(t *testing.T) {
	tmp := t.TempDir()
	obj := filepath.Join(tmp, "obj.lua")
	os.WriteFile(obj, []byte("return {evaluate = function(x, w) return x[1] end}\n"), 0o644)
	spec, _ := json.Marshal(map[string]any{"lua": map[string]any{"file": obj, "fn": "evaluate"}})
	dir := filepath.Join(tmp, "run")
	os.MkdirAll(dir, 0o755)
	foreign := filepath.Join(dir, ObjectiveFile)
	os.WriteFile(foreign, []byte("-- mine\n"), 0o644)
	cfg := testConfig(dir, string(spec))
	_, err := Open(context.Background(), cfg, testOptions())
	if err == nil || !strings.Contains(err.Error(), foreign) {
		t.Fatalf("a foreign objective.lua: %v", err)
	}
	if b, _ := os.ReadFile(foreign); string(b) != "-- mine\n" {
		t.Fatalf("a foreign objective.lua was overwritten: %q", b)
	}
	// The records a new run writes (workers aside: writeRecords alone).
	os.Remove(foreign)
	r := &Run{cfg: cfg, dir: dir}
	fp := []byte(`{"objective_file_sha256":"` + mustSHA(t, obj) + `"}`)
	if err := r.writeRecords(configFile{}, fp, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(foreign); !strings.Contains(string(b), "evaluate") {
		t.Fatalf("objective.lua: %q", b)
	}
	a, err := ReadArgs(dir)
	if err != nil || a.Dir != dir {
		t.Fatalf("args.json dir: %+v %v", a, err)
	}
	// Edited between hashing and copying: refused.
	os.WriteFile(obj, []byte("return {}\n"), 0o644)
	if err := r.writeRecords(configFile{}, fp, map[string]any{}); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Fatalf("objective edited during set-up: %v", err)
	}
}

func mustSHA(t *testing.T, p string) string {
	t.Helper()
	cfg := Config{Objective: json.RawMessage(`{"lua":{"file":"` + p + `","fn":"f"}}`)}
	r := &Run{cfg: cfg}
	_, h, err := r.prepareObjective()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
