package run

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"bohost/host/bo"
	"bohost/host/errs"
)

// pairConfig is a pair-mode run (one (x, w) per iteration) with 3 workers:
// in_flight defaults to 3, so three BO iterations are in flight at once.
func pairConfig(dir, spec string) Config {
	cfg := testConfig(dir, spec)
	cfg.Optimizer.Acquisition = bo.AcqUCB
	cfg.Optimizer.Mode = bo.ModePair
	cfg.Optimizer.NInitial = 4
	cfg.Iterations = 12
	cfg.Workers = 3
	return cfg
}

const jittery = `{"test": {"jitter_ms": 40}}`

// TestPipelineDeterministic: with three iterations in flight and
// evaluations finishing out of order, two runs with the same seed give the
// same trials, line for line; the run kept three evaluations in flight; the
// default in_flight was recorded.
func TestPipelineDeterministic(t *testing.T) {
	a := reference(t, jittery, func(c *Config) { *c = pairConfig(c.Dir, jittery) })
	dir := t.TempDir()
	s := mustDo(t, pairConfig(dir, jittery), testOptions())
	if s.Status != "finished" || s.Iterations != 12 {
		t.Fatalf("summary %+v", s)
	}
	compare(t, "second run", a, dir)
	cfg, err := ReadConfig(dir)
	if err != nil || cfg.InFlight != 3 {
		t.Fatalf("in_flight recorded %d (%v), want 3", cfg.InFlight, err)
	}
	// Overlap: some evaluation intervals [end - seconds, end] overlap three
	// at a time (the pipeline kept every worker busy at some point).
	trials, _ := ReadTrials(dir)
	type ev struct {
		at float64
		d  int
	}
	var evs []ev
	for _, tr := range trials {
		evs = append(evs, ev{tr.ElapsedS - tr.Seconds, 1}, ev{tr.ElapsedS, -1})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].at < evs[j].at || evs[i].at == evs[j].at && evs[i].d < evs[j].d })
	most, cur := 0, 0
	for _, e := range evs {
		cur += e.d
		most = max(most, cur)
	}
	if most < 3 {
		t.Errorf("at most %d evaluations overlapped, want 3 (workers = in_flight = 3)", most)
	}
	// No (x, w) was proposed twice.
	seen := map[string]bool{}
	for _, tr := range trials {
		k := jsonNum(tr.XVec[0]) + "," + jsonNum(tr.XVec[1]) + "," + jsonNum(tr.W[0])
		if seen[k] {
			t.Errorf("(x, w) %v %v proposed twice", tr.XVec, tr.W)
		}
		seen[k] = true
	}
}

// TestPipelineResumeExact interrupts a pipelined run at several points
// (with evaluations in flight and some finished out of turn, kept in
// completed.jsonl), damaging files between sessions; the resumed run's
// trials are the uninterrupted run's, line for line.
func TestPipelineResumeExact(t *testing.T) {
	want := reference(t, jittery, func(c *Config) { *c = pairConfig(c.Dir, jittery) })
	dir := t.TempDir()
	cfg := pairConfig(dir, jittery)
	spooled := false
	for session, stopAt := range []int{1, 3, 5, 8, 10} {
		interrupt(t, cfg, stopAt)
		if fileExists(filepath.Join(dir, CompletedFile)) {
			spooled = true
		}
		if session == 2 { // no checkpoint: rebuilt from config.json and the journal
			os.Remove(filepath.Join(dir, CheckpointFile))
			os.Remove(filepath.Join(dir, "checkpoint.prev.json"))
		}
	}
	s := mustDo(t, cfg, testOptions())
	if s.Status != "finished" || s.Iterations != 12 || s.Sessions != 6 {
		t.Fatalf("summary %+v", s)
	}
	compare(t, "resumed pipelined run", want, dir)
	if !spooled {
		t.Log("no evaluation finished out of turn at an interruption (completed.jsonl never written)")
	}
	events := readEvents(t, dir)
	if events["resume"] != 5 {
		t.Errorf("events %v", events)
	}
}

// TestInFlightResumeKeepsRecorded: a resumed run keeps the in_flight it
// was made with, whatever the workers now; asking for another refuses.
func TestInFlightResumeKeepsRecorded(t *testing.T) {
	dir := t.TempDir()
	cfg := pairConfig(dir, smooth)
	cfg.Iterations = 3
	mustDo(t, cfg, testOptions())
	cfg.Iterations = 5
	cfg.Workers = 1 // would default to in_flight 1 for a new run
	mustDo(t, cfg, testOptions())
	if rc, _ := ReadConfig(dir); rc.InFlight != 3 {
		t.Fatalf("in_flight %d after a resume with 1 worker, want the recorded 3", rc.InFlight)
	}
	cfg.Iterations = 6
	cfg.InFlight = 2
	if _, err := Do(context.Background(), cfg, testOptions()); errs.KindOf(err) != errs.BadState {
		t.Fatalf("changing in_flight on resume: %v, want a refusal", err)
	}
}
