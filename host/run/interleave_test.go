package run

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"bohost/host/bo"
	"bohost/host/errs"
)

// interleaveConfig is an all_w run (qLogNEI, n_w 4) with three x's in
// flight over three workers: the interleave schedule by default.
func interleaveConfig(dir, spec string) Config {
	cfg := testConfig(dir, spec)
	cfg.Optimizer.Acquisition = bo.AcqQLogNEI
	cfg.Optimizer.Mode = bo.ModeAllW
	cfg.Optimizer.NW = 4
	cfg.Optimizer.NInitial = 3
	cfg.Iterations = 7
	cfg.Workers = 3
	cfg.InFlight = 3
	return cfg
}

// TestInterleaveOrder: trials.jsonl follows the interleave schedule (the
// initial design, then the in-flight x's in turns, candidate i of
// iteration g at tick ⌊(g−1)·4/3⌋ + i + 1), whatever order the evaluations
// finish in; the schedule is recorded; no x is proposed twice.
func TestInterleaveOrder(t *testing.T) {
	dir := t.TempDir()
	s := mustDo(t, interleaveConfig(dir, jittery), testOptions())
	if s.Status != "finished" || s.Iterations != 7 {
		t.Fatalf("summary %+v", s)
	}
	if rc, err := ReadConfig(dir); err != nil || rc.Schedule != ScheduleInterleave || rc.InFlight != 3 {
		t.Fatalf("recorded schedule %q, in_flight %d (%v); want interleave, 3", rc.Schedule, rc.InFlight, err)
	}
	type gi struct{ g, i int }
	var want []gi
	for i := 0; i < 12; i++ {
		want = append(want, gi{0, i})
	}
	var bo []gi
	for g := 1; g <= 7; g++ {
		for i := 0; i < 4; i++ {
			bo = append(bo, gi{g, i})
		}
	}
	tick := func(a gi) int { return (a.g-1)*4/3 + a.i + 1 }
	slices.SortStableFunc(bo, func(a, b gi) int {
		if c := cmp.Compare(tick(a), tick(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.g, b.g)
	})
	want = append(want, bo...)
	trials, err := ReadTrials(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != len(want) {
		t.Fatalf("%d trials, want %d", len(trials), len(want))
	}
	seen := map[string]int{}
	for k, tr := range trials {
		if tr.Iteration != want[k].g || tr.Candidate != want[k].i {
			t.Fatalf("trial %d is iteration %d candidate %d, want %d/%d", k, tr.Iteration, tr.Candidate, want[k].g, want[k].i)
		}
		key := jsonNum(tr.XVec[0]) + "," + jsonNum(tr.XVec[1])
		if g, ok := seen[key]; ok && g != tr.Iteration {
			t.Errorf("x %v proposed by iterations %d and %d", tr.XVec, g, tr.Iteration)
		}
		seen[key] = tr.Iteration
	}
	// Three x's in flight at most, and at times: between two trials, the
	// iterations with trials on both sides.
	first, last := map[int]int{}, map[int]int{}
	for k, tr := range trials {
		if _, ok := first[tr.Iteration]; !ok {
			first[tr.Iteration] = k
		}
		last[tr.Iteration] = k
	}
	most := 0
	for k := range trials {
		n := 0
		for g := 1; g <= 7; g++ {
			if first[g] <= k && last[g] > k {
				n++
			}
		}
		most = max(most, n)
	}
	if most != 3 {
		t.Errorf("at most %d iterations in flight, want 3", most)
	}
}

// TestInterleaveResumeExact interrupts an interleaved run at several
// points (one session without a checkpoint); the resumed run's trials are
// the uninterrupted run's, line for line.
func TestInterleaveResumeExact(t *testing.T) {
	want := reference(t, jittery, func(c *Config) { *c = interleaveConfig(c.Dir, jittery) })
	dir := t.TempDir()
	cfg := interleaveConfig(dir, jittery)
	for session, stopAt := range []int{1, 2, 4, 6} {
		interrupt(t, cfg, stopAt)
		if session == 1 {
			os.Remove(filepath.Join(dir, CheckpointFile))
			os.Remove(filepath.Join(dir, "checkpoint.prev.json"))
		}
	}
	s := mustDo(t, cfg, testOptions())
	if s.Status != "finished" || s.Iterations != 7 {
		t.Fatalf("summary %+v", s)
	}
	compare(t, "resumed interleaved run", want, dir)
}

// TestScheduleResumeKeepsRecorded: a run made before the schedule option
// (no "schedule" in config.json) resumes in fifo order, the order it was
// journaled in, and gives the trials of an uninterrupted fifo run; asking
// for another schedule on resume is refused.
func TestScheduleResumeKeepsRecorded(t *testing.T) {
	fifo := func(c *Config) { *c = interleaveConfig(c.Dir, smooth); c.Schedule = ScheduleFIFO }
	want := reference(t, smooth, fifo)
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	fifo(&cfg)
	interrupt(t, cfg, 2)
	// What an older bohost wrote: no schedule.
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["schedule"] != ScheduleFIFO {
		t.Fatalf("config.json schedule %v, want fifo", m["schedule"])
	}
	delete(m, "schedule")
	b, _ = json.Marshal(m)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Schedule = ""
	mustDo(t, cfg, testOptions())
	compare(t, "fifo run resumed without a recorded schedule", want, dir)
	if rc, _ := ReadConfig(dir); rc.Schedule != ScheduleFIFO {
		t.Errorf("schedule after resume %q, want fifo", rc.Schedule)
	}
	cfg.Iterations = 8
	cfg.Schedule = ScheduleInterleave
	if _, err := Do(context.Background(), cfg, testOptions()); errs.KindOf(err) != errs.BadState {
		t.Fatalf("changing the schedule on resume: %v, want a refusal", err)
	}
}

// interrupt runs cfg until iteration stopAt is recorded and cancels it (as
// SIGINT does); the run must stop as interrupted.
func interrupt(t *testing.T, cfg Config, stopAt int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := testOptions()
	opts.OnIteration = func(r *Run, it Iteration) error {
		if it.Iteration >= stopAt {
			cancel()
		}
		return nil
	}
	s, err := Do(ctx, cfg, opts)
	if errs.KindOf(err) != errs.Canceled || s.Status != "interrupted" {
		t.Fatalf("interrupted at iteration %d: %v, %+v", stopAt, err, s)
	}
}
