package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bohost/host/errs"
	"bohost/host/worker"
)

// TestBadValuesKeepModelHealthy: an objective that returns -math.huge
// (gopher-lua's finite -1.8e308), -1e200 or an absurd -1e6 in part of the
// box must neither freeze the recommendation nor null the posterior: the
// values the model cannot use are failed trials (error_kind bad_value, with
// a warning) or, when told before there was a scale to judge them by,
// outliers the fit replaces (with a warning). Every iteration keeps a
// finite posterior CVaR within the range of the sound values.
func TestBadValuesKeepModelHealthy(t *testing.T) {
	for _, bad := range []float64{-math.MaxFloat64, -1e200, -1e6} {
		dir := t.TempDir()
		spec := `{"test": {"bad_y": ` + jsonNum(bad) + `, "bad_above": 0.6}}`
		cfg := testConfig(dir, spec)
		s := mustDo(t, cfg, testOptions())
		if s.Status != "finished" || s.PosteriorCVaR == nil {
			t.Fatalf("bad_y %g: summary %+v", bad, s)
		}
		trials, err := ReadTrials(dir)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, nBad := math.Inf(1), math.Inf(-1), 0
		for _, tr := range trials {
			switch {
			case tr.ErrorKind == "bad_value":
				nBad++
				if tr.Status != worker.StatusFailed || tr.Y != nil || tr.Error == nil || !strings.Contains(*tr.Error, "cannot use") {
					t.Errorf("bad_y %g: trial %d: %+v", bad, tr.Trial, tr)
				}
				if f, _ := tr.Score["f"].(float64); f != bad {
					t.Errorf("bad_y %g: trial %d lost the returned value: score %v", bad, tr.Trial, tr.Score)
				}
			case tr.Y != nil && *tr.Y > -10:
				lo, hi = math.Min(lo, *tr.Y), math.Max(hi, *tr.Y)
			}
		}
		ev := eventMsgs(t, dir)
		warned := strings.Contains(ev, "cannot use") || strings.Contains(ev, "an outlier of the successful evaluations")
		if !warned {
			t.Errorf("bad_y %g: no warning in events.jsonl:\n%s", bad, ev)
		}
		if bad < -1e100 && nBad == 0 {
			t.Errorf("bad_y %g: no trial recorded as bad_value", bad)
		}
		b, _ := os.ReadFile(filepath.Join(dir, IterationsFile))
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var it Iteration
			json.Unmarshal([]byte(l), &it)
			span := hi - lo
			if it.PosteriorCVaR == nil || *it.PosteriorCVaR < lo-span || *it.PosteriorCVaR > hi+span {
				t.Errorf("bad_y %g: iteration %d posterior CVaR %v outside the sound data [%g, %g]", bad, it.Iteration, deref2(it.PosteriorCVaR), lo, hi)
			}
		}
		if x := s.RecommendedXVec; len(x) == 0 || x[0] > 0.6 {
			t.Errorf("bad_y %g: recommended %v, in the bad region", bad, x)
		}
	}
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

func deref2(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func eventMsgs(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorstBeforeFirstSuccess: under on_failure = "worst", a failure before
// any success cannot be told a worst score; the run says so in user terms
// (a warning event), records tell "skip", and later failures are told the
// worst score.
func TestWorstBeforeFirstSuccess(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, `{"test": {"fail_below": 0.5}}`)
	cfg.OnFailure = FailWorst
	cfg.Workers = 1
	cfg.MaxConsecutiveFailures = 50
	mustDo(t, cfg, testOptions())
	trials, _ := ReadTrials(dir)
	if len(trials) == 0 || trials[0].Status != worker.StatusFailed {
		t.Fatalf("the test needs the first trial to fail: %+v", trials[:1])
	}
	seenOK := false
	for _, tr := range trials {
		if tr.Status == worker.StatusOK {
			seenOK = true
			continue
		}
		want := "skip"
		if seenOK {
			want = "worst"
		}
		if tr.Tell != want {
			t.Errorf("trial %d (after a success: %v) told %q, want %q", tr.Trial, seenOK, tr.Tell, want)
		}
	}
	ev := eventMsgs(t, dir)
	if !strings.Contains(ev, `failed before any evaluation succeeded: on_failure = \"worst\"`) {
		t.Errorf("no user-terms warning about worst before the first success:\n%s", ev)
	}
}

// TestAllInitialFail: when no evaluation of the initial design succeeds,
// the run stops with a message about the run (none succeeded, the last
// failure), not the raw API's hint to tell results first.
func TestAllInitialFail(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, `{"test": {"fail": 1}}`)
	cfg.MaxConsecutiveFailures = 100
	s, err := Do(context.Background(), cfg, testOptions())
	if errs.KindOf(err) != errs.Failed || s.Status != "failed" {
		t.Fatalf("got %v, %+v", err, s)
	}
	msg := err.Error()
	for _, want := range []string{"none of the 12 evaluations so far succeeded", "deliberate failure", "fix the objective"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "tell the initial design") {
		t.Errorf("message has the raw API's hint: %s", msg)
	}
}

// TestSessionsCountKilled: sessions that died without a summary (killed)
// are counted too: every session that opened the directory.
func TestSessionsCountKilled(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	for i := 0; i < 3; i++ { // three sessions that die after opening (no summary)
		r, err := Open(context.Background(), cfg, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	s := mustDo(t, cfg, testOptions())
	if s.Sessions != 4 {
		t.Fatalf("sessions = %d, want 4 (three killed, one finished)", s.Sessions)
	}
}

// TestProgressNotFullWhenInterrupted: the terminal bar of an interrupted
// run ends where the run stopped, not at 100 %.
func TestProgressNotFullWhenInterrupted(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	opts := testOptions()
	opts.Log, opts.Progress, opts.Terminal = &log, true, true
	opts.OnIteration = func(r *Run, it Iteration) error {
		if it.Iteration >= 2 {
			cancel()
		}
		return nil
	}
	s, err := Do(ctx, cfg, opts)
	if errs.KindOf(err) != errs.Canceled {
		t.Fatalf("got %v, %+v", err, s)
	}
	out := log.String()
	if strings.Contains(out, "100%") {
		t.Errorf("the bar of an interrupted run shows 100%%:\n%q", out)
	}
	if !strings.Contains(out, "18/36") {
		t.Errorf("the bar does not show where the run stopped (18/36):\n%q", out)
	}
	// A finished run does end at 100 %.
	log.Reset()
	opts.OnIteration = nil
	mustDo(t, cfg, opts)
	if !strings.Contains(log.String(), "100%") {
		t.Errorf("the bar of a finished run does not reach 100%%:\n%q", log.String())
	}
}

// TestSummaryWriteFailure: a run whose summary.json cannot be written does
// not report success: Execute returns an io error naming summary.json, and
// the journal keeps every trial.
func TestSummaryWriteFailure(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	opts := testOptions()
	opts.OnIteration = func(r *Run, it Iteration) error {
		if it.Iteration == cfg.Iterations {
			// A directory where summary.json goes: the atomic rename fails
			// as it would on a read-only or full file system.
			return os.MkdirAll(filepath.Join(dir, SummaryFile, "x"), 0o755)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Do(ctx, cfg, opts)
	if errs.KindOf(err) != errs.IO || !strings.Contains(err.Error(), "summary.json could not be written") {
		t.Fatalf("got %v (summary %+v), want an io error about summary.json", err, s)
	}
	if tr, _ := ReadTrials(dir); len(tr) != 36 {
		t.Fatalf("%d trials journaled, want 36", len(tr))
	}
}

// TestHookErrorDuringStop: a hook that fails because the run is being
// stopped (its print hit the closed stdout that raised the SIGPIPE, say) is
// part of the interruption: the run ends interrupted (resumable, exit
// 130-style), not failed, even with hook_errors = "raise", and no
// hook_error is logged.
func TestHookErrorDuringStop(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := testOptions()
	opts.HookErrorsFatal = true
	opts.OnIteration = func(r *Run, it Iteration) error {
		if it.Iteration == 2 {
			cancel()
			return errors.New("write |1: broken pipe")
		}
		return nil
	}
	s, err := Do(ctx, cfg, opts)
	if errs.KindOf(err) != errs.Canceled || s.Status != "interrupted" {
		t.Fatalf("got %v, status %s: want an interrupted run", err, s.Status)
	}
	if n := readEvents(t, dir)["hook_error"]; n != 0 {
		t.Fatalf("%d hook_error events for a hook stopped by the interruption", n)
	}
}
