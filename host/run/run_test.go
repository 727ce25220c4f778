package run

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"bohost/host/acq"
	"bohost/host/bo"
	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/fault"
	"bohost/host/objective"
	"bohost/host/worker"
)

// TestMain makes the test binary a worker when BOHOST_RUN_TEST_WORKER=1.
func TestMain(m *testing.M) {
	if os.Getenv("BOHOST_RUN_TEST_WORKER") == "1" {
		in, out, err := worker.ClaimStdio()
		if err == nil {
			err = worker.Serve(context.Background(), in, out, testFactory)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testSpec is the objective of the tests: a smooth function of (x, w), with
// deterministic failures chosen by a hash of x.
type testSpec struct {
	Test *struct {
		Fail  int    `json:"fail"`  // 1 in Fail evaluations fails (0: none)
		Crash string `json:"crash"` // "segv": failures crash the worker instead
		Sleep int    `json:"sleep_ms"`
		// BadY, when set, is returned as a successful score for x[0] >
		// BadAbove (a sentinel such as -math.huge, or an absurd value).
		BadY     float64 `json:"bad_y"`
		BadAbove float64 `json:"bad_above"`
		// FailBelow > 0 fails the evaluations with x[0] < FailBelow.
		FailBelow float64 `json:"fail_below"`
		// JitterMs adds a sleep of 0..JitterMs-1 ms chosen by a hash of
		// (x, w): evaluations finish out of order.
		JitterMs int `json:"jitter_ms"`
	} `json:"test"`
}

func testFactory(ctx context.Context, h worker.Hello) (worker.Objective, error) {
	var s testSpec
	if err := json.Unmarshal(h.Spec, &s); err != nil || s.Test == nil {
		return objective.Factory(ctx, h)
	}
	fault.Enable(true)
	t := *s.Test
	return worker.ObjectiveFunc(func(ctx context.Context, req worker.Request) (worker.Result, error) {
		if t.Sleep > 0 {
			time.Sleep(time.Duration(t.Sleep) * time.Millisecond)
		}
		x, w := req.X, req.W
		if t.JitterMs > 0 {
			h := math.Float64bits(x[0]*7.31+w[0]) * 0x9e3779b97f4a7c15
			time.Sleep(time.Duration(h>>40%uint64(t.JitterMs)) * time.Millisecond)
		}
		if t.BadY != 0 && x[0] > t.BadAbove {
			return worker.Result{Y: t.BadY, Score: map[string]any{"f": t.BadY}}, nil
		}
		if x[0] < t.FailBelow {
			return worker.Result{}, errs.New(errs.Failed, "test", "deliberate failure below x0=%v", t.FailBelow)
		}
		if t.Fail > 0 && int(math.Float64bits(x[0]+w[0])%uint64(t.Fail)) == 0 {
			if t.Crash == "segv" {
				fault.Segv()
			}
			return worker.Result{}, errs.New(errs.Failed, "test", "deliberate failure at x0=%v", x[0])
		}
		y := -(x[0]-0.3)*(x[0]-0.3) - (x[1]-0.6)*(x[1]-0.6) - 0.5*(w[0]-0.5)*(w[0]-0.5)*x[0]
		return worker.Result{Y: y, Score: map[string]any{"f": y, "x0": x[0]}}, nil
	}), nil
}

func testConfig(dir string, spec string) Config {
	return Config{
		Dir: dir,
		Optimizer: bo.Config{Space: [][2]float64{{0, 1}, {0, 1}}, Names: []string{"a", "b"},
			Env: bo.Env{Bounds: [][2]float64{{0, 1}}}, Alpha: 0.3, NW: 3, Acquisition: bo.AcqUCB, NInitial: 4, Seed: 7,
			RecommendFrom: "evaluated", Optim: optimCheap()},
		Objective: json.RawMessage(spec), Iterations: 8, Workers: 2, TimeoutS: 30,
	}
}

func testOptions() Options {
	exe, _ := os.Executable()
	return Options{WorkerCommand: []string{exe}, WorkerEnv: []string{"BOHOST_RUN_TEST_WORKER=1"}, MonitorInterval: -1}
}

// strip removes what legitimately differs between runs: timings, pids,
// workers, RSS.
func strip(t *testing.T, trials []Trial) []string {
	t.Helper()
	var out []string
	for _, tr := range trials {
		tr.Time, tr.ElapsedS, tr.Seconds, tr.Worker, tr.PID, tr.PeakRSSBytes, tr.Death = "", 0, 0, 0, 0, 0, nil
		if tr.Error != nil {
			e := "error"
			tr.Error = &e
		}
		b, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func mustDo(t *testing.T, cfg Config, opts Options) Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Do(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("run %s: %v", cfg.Dir, err)
	}
	return s
}

func reference(t *testing.T, spec string, mod func(*Config)) []string {
	t.Helper()
	cfg := testConfig(t.TempDir(), spec)
	if mod != nil {
		mod(&cfg)
	}
	s := mustDo(t, cfg, testOptions())
	if s.Status != "finished" || s.Iterations != cfg.Iterations {
		t.Fatalf("reference summary %+v", s)
	}
	tr, err := ReadTrials(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return strip(t, tr)
}

func compare(t *testing.T, what string, want []string, dir string) {
	t.Helper()
	tr, err := ReadTrials(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := strip(t, tr)
	if len(got) != len(want) {
		t.Fatalf("%s: %d trials, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: trial %d differs:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}

const smooth = `{"test": {}}`

// TestResumeExact interrupts a run at several points (a canceled context,
// as SIGINT does) and damages its files between sessions (torn journal
// line, corrupt or missing checkpoints); every resume must continue with
// exactly the trials of an uninterrupted run.
func TestResumeExact(t *testing.T) {
	want := reference(t, smooth, nil)
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	damage := []func(){
		func() {}, // plain interrupt
		func() { // torn last line: a record being written when the run died
			f, _ := os.OpenFile(filepath.Join(dir, TrialsFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"trial": 99, "x": {"a"`)
			f.Close()
		},
		func() { // truncated checkpoint: falls back to checkpoint.prev.json
			p := filepath.Join(dir, CheckpointFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		},
		func() { // a flipped byte in both: rebuilt from config and journal
			for _, p := range []string{CheckpointFile, "checkpoint.prev.json"} {
				b, _ := os.ReadFile(filepath.Join(dir, p))
				b[len(b)/3] ^= 0x20
				os.WriteFile(filepath.Join(dir, p), b, 0o644)
			}
		},
		func() {
			os.Remove(filepath.Join(dir, CheckpointFile))
			os.Remove(filepath.Join(dir, "checkpoint.prev.json"))
		},
	}
	var log strings.Builder
	for session, stopAt := range []int{1, 3, 4, 6, 7} {
		ctx, cancel := context.WithCancel(context.Background())
		opts := testOptions()
		opts.Log = &log
		opts.OnIteration = func(r *Run, it Iteration) error {
			if it.Iteration >= stopAt {
				cancel()
			}
			return nil
		}
		s, err := Do(ctx, cfg, opts)
		cancel()
		if errs.KindOf(err) != errs.Canceled || s.Status != "interrupted" {
			t.Fatalf("session %d: %v, %+v", session, err, s)
		}
		damage[session]()
	}
	s := mustDo(t, cfg, testOptions())
	if s.Status != "finished" || s.Sessions != 6 {
		t.Fatalf("summary %+v", s)
	}
	compare(t, "resumed run", want, dir)
	events := readEvents(t, dir)
	for _, want := range []string{"start", "resume", "shutdown", "checkpoint_fallback", "finish", "warning"} {
		if events[want] == 0 {
			t.Errorf("no %s event: %v", want, events)
		}
	}
	if events["resume"] != 5 || events["checkpoint_fallback"] < 2 {
		t.Errorf("events %v", events)
	}
	// One iteration record per iteration, none twice.
	b, _ := os.ReadFile(filepath.Join(dir, IterationsFile))
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var it Iteration
		if err := json.Unmarshal([]byte(l), &it); err != nil || it.Iteration != i {
			t.Fatalf("iterations.jsonl line %d: %v %s", i+1, err, l)
		}
	}
	t.Logf("log:\n%s", log.String())
	if !strings.Contains(log.String(), "checkpoint.json") || !strings.Contains(log.String(), "torn") {
		t.Errorf("log lacks the fallback and torn-line messages:\n%s", log.String())
	}
	// A finished run opened again does nothing.
	s2 := mustDo(t, cfg, testOptions())
	if s2.Trials != s.Trials {
		t.Fatalf("re-opening a finished run changed it: %+v", s2)
	}
	// More iterations extend it, still exactly.
	cfg.Iterations = 10
	want10 := reference(t, smooth, func(c *Config) { c.Iterations = 10 })
	mustDo(t, cfg, testOptions())
	compare(t, "extended run", want10, dir)
}

func readEvents(t *testing.T, dir string) map[string]int {
	b, err := os.ReadFile(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("events.jsonl: %v: %s", err, l)
		}
		n[e.Event]++
	}
	return n
}

func TestResumeRefusesChangedConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, smooth)
	cfg.Iterations = 1
	mustDo(t, cfg, testOptions())
	cfg.Optimizer.Alpha = 0.2
	_, err := Do(context.Background(), cfg, testOptions())
	if errs.KindOf(err) != errs.BadState || !strings.Contains(err.Error(), "configuration (changed: optimizer)") || !strings.Contains(err.Error(), "force") {
		t.Fatalf("changed alpha: %v", err)
	}
	opts := testOptions()
	opts.Force = true
	cfg.Iterations = 2
	s, err := Do(context.Background(), cfg, opts)
	if err != nil || s.Status != "finished" {
		t.Fatalf("forced: %v %+v", err, s)
	}
	if readEvents(t, dir)["warning"] == 0 {
		t.Error("forced resume left no warning")
	}
}

// TestChangedScript: an unfinished run refuses a changed script (unless
// forced); a finished run with the same configuration is reused with a
// warning, its script.lua and trials untouched; asking it for more
// iterations under the changed script refuses again.
func TestChangedScript(t *testing.T) {
	tmp := t.TempDir()
	script := filepath.Join(tmp, "sweep.lua")
	write := func(src string) {
		if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("-- version 1\n")
	dir := filepath.Join(tmp, "run")
	cfg := testConfig(dir, smooth)
	cfg.Script, cfg.Iterations = script, 2
	s1 := mustDo(t, cfg, testOptions())
	trials1, _ := os.ReadFile(filepath.Join(dir, TrialsFile))

	write("-- version 2: a comment changed\n")
	var log strings.Builder
	opts := testOptions()
	opts.Log = &log
	s2, err := Do(context.Background(), cfg, opts)
	if err != nil || s2.Status != "finished" || s2.Trials != s1.Trials {
		t.Fatalf("finished run, changed script: %v %+v", err, s2)
	}
	if !strings.Contains(log.String(), "differs from the run's script.lua") || !strings.Contains(log.String(), "results are kept") {
		t.Errorf("no warning about the changed script:\n%s", log.String())
	}
	if readEvents(t, dir)["warning"] == 0 {
		t.Error("no warning event")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ScriptFile)); string(b) != "-- version 1\n" {
		t.Errorf("script.lua was replaced: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, TrialsFile)); string(b) != string(trials1) {
		t.Error("trials.jsonl changed")
	}

	cfg.Iterations = 4
	_, err = Do(context.Background(), cfg, testOptions())
	if errs.KindOf(err) != errs.BadState || !strings.Contains(err.Error(), "script (") || !strings.Contains(err.Error(), "force") {
		t.Fatalf("more iterations under a changed script: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, TrialsFile)); string(b) != string(trials1) {
		t.Error("trials.jsonl changed by a refused resume")
	}
	// a run short of its iteration target refuses as well, unless forced
	dir2 := filepath.Join(tmp, "run2")
	cfg2 := testConfig(dir2, smooth)
	cfg2.Script, cfg2.Iterations = script, 1
	mustDo(t, cfg2, testOptions())
	write("-- version 3\n")
	cfg2.Iterations = 3
	if _, err := Do(context.Background(), cfg2, testOptions()); errs.KindOf(err) != errs.BadState || !strings.Contains(err.Error(), "script (") {
		t.Fatalf("unfinished run, changed script: %v", err)
	}
	opts = testOptions()
	opts.Force = true
	if s, err := Do(context.Background(), cfg2, opts); err != nil || s.Status != "finished" {
		t.Fatalf("forced: %v %+v", err, s)
	}
}

func TestFailurePolicies(t *testing.T) {
	const failing = `{"test": {"fail": 3}}`
	for _, tc := range []struct {
		policy string
		tell   string
	}{{FailWorst, "worst"}, {FailSkip, "skip"}, {FailRetry, "worst"}} {
		t.Run(tc.policy, func(t *testing.T) {
			cfg := testConfig(t.TempDir(), failing)
			cfg.OnFailure, cfg.Iterations, cfg.MaxConsecutiveFailures, cfg.Retries = tc.policy, 5, 100, 2
			s := mustDo(t, cfg, testOptions())
			trials, _ := ReadTrials(cfg.Dir)
			if s.Failures["failed"] == 0 || s.Status != "finished" {
				t.Fatalf("summary %+v", s)
			}
			for i, tr := range trials {
				if tr.Status == "ok" {
					continue
				}
				if tr.Status != "failed" || tr.Error == nil || !strings.Contains(*tr.Error, "deliberate failure") {
					t.Fatalf("trial %d: %+v", i, tr)
				}
				switch {
				case tc.policy == FailRetry && tr.Attempt <= cfg.Retries:
					if tr.Tell != "retry" || tr.Told != nil {
						t.Fatalf("attempt %d told %q", tr.Attempt, tr.Tell)
					}
				case tr.Tell != tc.tell && tr.Tell != "skip":
					t.Fatalf("trial %d tell %q, want %q", i, tr.Tell, tc.tell)
				case tr.Tell == "worst" && tr.Told == nil:
					t.Fatalf("trial %d: worst without a value", i)
				}
			}
			if tc.policy == FailRetry {
				// The objective is deterministic: every retry fails again, so
				// each failed candidate has 1 + Retries lines.
				if s.Failures["failed"]%(1+cfg.Retries) != 0 {
					t.Fatalf("%d failed lines for %d retries", s.Failures["failed"], cfg.Retries)
				}
			}
		})
	}
}

func TestConsecutiveFailuresStop(t *testing.T) {
	cfg := testConfig(t.TempDir(), `{"test": {"fail": 1, "crash": "segv"}}`)
	cfg.MaxConsecutiveFailures = 3
	s, err := Do(context.Background(), cfg, testOptions())
	if errs.KindOf(err) != errs.Failed || s.Status != "failed" || !strings.Contains(s.Reason, "4 evaluations failed in a row") {
		t.Fatalf("%v %+v", err, s)
	}
	trials, _ := ReadTrials(cfg.Dir)
	if len(trials) != 4 {
		t.Fatalf("%d trials", len(trials))
	}
	for _, tr := range trials {
		if tr.Status != "crashed" || tr.Death == nil || tr.Death.Signal != "SIGSEGV" {
			t.Fatalf("trial %+v", tr)
		}
	}
	if readEvents(t, cfg.Dir)["worker_death"] < 4 {
		t.Fatal("deaths not in events.jsonl")
	}
}

func TestHooks(t *testing.T) {
	cfg := testConfig(t.TempDir(), smooth)
	cfg.Iterations = 4
	var iters []int
	var every []int
	opts := testOptions()
	opts.OnIteration = func(r *Run, it Iteration) error {
		iters = append(iters, it.Iteration)
		if it.Iteration == 1 {
			return fmt.Errorf("hook trouble")
		}
		return nil
	}
	opts.Every = map[int]func(*Run) error{2: func(r *Run) error {
		every = append(every, r.Iteration())
		tr, err := r.Trials()
		if err != nil || len(tr) == 0 || r.Best() == nil || r.Dir() != cfg.Dir {
			t.Errorf("run accessors: %v %d", err, len(tr))
		}
		return nil
	}}
	mustDo(t, cfg, opts)
	if !reflect.DeepEqual(iters, []int{0, 1, 2, 3, 4}) || !reflect.DeepEqual(every, []int{2, 4}) {
		t.Fatalf("on_iteration %v, every %v", iters, every)
	}
	if readEvents(t, cfg.Dir)["hook_error"] != 1 {
		t.Fatal("hook error not logged")
	}
	// Fatal hook errors stop the run.
	cfg.Dir = t.TempDir()
	opts.HookErrorsFatal = true
	if _, err := Do(context.Background(), cfg, opts); errs.KindOf(err) != errs.Failed {
		t.Fatalf("fatal hook: %v", err)
	}
}

func TestAllWParallelAndAirlineFinal(t *testing.T) {
	spec, _ := json.Marshal(objective.Spec{Airline: &objective.AirlineSpec{Synth: dataset.SynthOptions{N: 4, Width: 96, Height: 72, Seed: 3}}})
	cfg := Config{Dir: t.TempDir(), Objective: spec, Iterations: 1, Workers: 2, TimeoutS: 60,
		Optimizer: bo.Config{Alpha: 0.5, NW: 2, Acquisition: bo.AcqRandom, Mode: bo.ModeAllW, NInitial: 1, Seed: 1}}
	s := mustDo(t, cfg, testOptions())
	if s.FinalEval == nil || len(s.FinalEval.Scores) != 4 || s.FinalEval.Best == nil || s.FinalEval.Worst == nil {
		t.Fatalf("final eval %+v", s.FinalEval)
	}
	for _, f := range []string{"final/best.png", "final/worst.png", ConfigFile, ManifestFile, ArgsFile, MonitorFile, SummaryFile, IterationsFile} {
		if _, err := os.Stat(filepath.Join(cfg.Dir, f)); err != nil {
			t.Error(err)
		}
	}
	trials, _ := ReadTrials(cfg.Dir)
	if len(trials) != 4 {
		t.Fatalf("%d trials, want 2 x's x 2 w's", len(trials))
	}
	for i, tr := range trials {
		if tr.Trial != i || tr.EnvID == "" || tr.Score["n_lines"] == nil || len(tr.X) != len(tr.XVec) {
			t.Fatalf("trial %+v", tr)
		}
	}
	var cf map[string]any
	b, _ := os.ReadFile(filepath.Join(cfg.Dir, ConfigFile))
	json.Unmarshal(b, &cf)
	if cf["env"].(map[string]any)["n"].(float64) != 4 || len(cf["space"].([]any)) == 0 {
		t.Fatalf("config.json %s", b)
	}
}

func optimCheap() (o acqOptim) { o.Restarts, o.RawSamples = 2, 32; return }

type acqOptim = acq.OptimOptions

func TestProgressBarAndPlainLines(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		cfg := testConfig(t.TempDir(), smooth)
		cfg.Iterations = 3
		var buf strings.Builder
		opts := testOptions()
		opts.Log, opts.Progress, opts.Terminal = &buf, true, terminal
		mustDo(t, cfg, opts)
		out := buf.String()
		if terminal && (!strings.Contains(out, "best CVaR") || !strings.Contains(out, "evals") || strings.Contains(out, "bohost run: iteration")) {
			t.Fatalf("terminal output:\n%q", out)
		}
		if !terminal && (!strings.Contains(out, "bohost run: iteration 3, 21 trials") || strings.Contains(out, "evals")) {
			t.Fatalf("plain output:\n%s", out)
		}
	}
}
