package main

import (
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
