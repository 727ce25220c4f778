package run

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/gpu"
	"bohost/host/journal"
)

// TestGPUEvent: every session records which path the AirLine stages take
// and why (issue 20), and prints it when the evaluator asks for "cuda" and
// gets the CPU, or leaves an available GPU unused.
func TestGPUEvent(t *testing.T) {
	s := gpu.Probe()
	for _, c := range []struct {
		name, objective, device string
	}{
		{"lua objective", smooth, ""},
		{"airline default", `{"airline": {}}`, "cpu"},
		{"airline cpu", `{"airline": {"evaluator": {"device": "cpu"}}}`, "cpu"},
		{"airline cuda", `{"airline": {"evaluator": {"device": "cuda"}}}`, "cuda"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := journal.Open(filepath.Join(dir, EventsFile), nil)
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			r := &Run{cfg: Config{Objective: json.RawMessage(c.objective)}, opts: Options{Log: &log}, events: w}
			r.gpuEvent()
			w.Close()
			b, err := os.ReadFile(filepath.Join(dir, EventsFile))
			if err != nil {
				t.Fatal(err)
			}
			var e Event
			if err := json.Unmarshal(bytes.TrimSpace(b), &e); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			wantPath, wantLine := s.Path, s.String()
			if c.device != "" {
				wantPath, wantLine = s.Evaluator(c.device)
			}
			if e.Event != "gpu" || e.Msg != wantLine || e.Extra["path"] != wantPath || e.Extra["machine"] != s.Path ||
				e.Extra["reason"] != s.Reason || (c.device != "" && e.Extra["device"] != c.device) {
				t.Fatalf("event %+v, want gpu %q (path %s)", e, wantLine, wantPath)
			}
			if !strings.HasPrefix(e.Msg, "CPU: ") && !strings.HasPrefix(e.Msg, "CUDA: ") {
				t.Errorf("the line must start with the path: %q", e.Msg)
			}
			printed := strings.Contains(log.String(), "bohost run: gpu: "+wantLine)
			if want := c.device != "" && (c.device == "cuda") != (s.Path == gpu.PathCUDA); printed != want {
				t.Errorf("printed %v, want %v: %q", printed, want, log.String())
			}
		})
	}
}

// TestRunRecordsGPUEvent: Open records the gpu event of each session.
func TestRunRecordsGPUEvent(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	cfg.Iterations, cfg.Workers = 1, 1
	mustDo(t, cfg, testOptions())
	if n := readEvents(t, dir)["gpu"]; n != 1 {
		t.Fatalf("%d gpu events in one session, want 1", n)
	}
	cfg.Iterations = 2
	mustDo(t, cfg, testOptions())
	if n := readEvents(t, dir)["gpu"]; n != 2 {
		t.Fatalf("%d gpu events in two sessions, want 2", n)
	}
}
