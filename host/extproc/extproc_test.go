package extproc

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"bohost/host/errs"
	"bohost/host/extproc/extproctest"
	"bohost/host/worker"
)

// The test binary doubles as the fake evaluator (BOHOST_FAKE_EVALUATOR=1),
// as a worker process whose objective is a Bridge (BOHOST_EXTPROC_WORKER=1,
// the spec a Config as JSON), and as a process that dies by a signal
// (BOHOST_EXTPROC_DIE=SIGNAL).
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(extproctest.Env) == "1":
		os.Exit(extproctest.Main())
	case os.Getenv("BOHOST_EXTPROC_WORKER") == "1":
		os.Exit(worker.Main(os.Stderr, func(ctx context.Context, h worker.Hello) (worker.Objective, error) {
			var c Config
			if err := json.Unmarshal(h.Spec, &c); err != nil {
				return nil, err
			}
			c.Slot = h.Index
			return Start(ctx, c.Options())
		}))
	case os.Getenv("BOHOST_EXTPROC_DIE") != "":
		for s := syscall.Signal(1); s < 32; s++ {
			if worker.SignalName(s) == os.Getenv("BOHOST_EXTPROC_DIE") {
				DieBy(s)
			}
		}
		os.Exit(99)
	}
	os.Exit(m.Run())
}

// fake returns options that run the fake evaluator with env (KEY=VALUE).
func fake(t testing.TB, env ...string) Options {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Command: []string{exe}, Env: append(os.Environ(), append([]string{extproctest.Env + "=1"}, env...)...), Slot: 3,
		Stderr: &lockedBuf{}, SetupTimeout: 20 * time.Second}
}

// lockedBuf is a goroutine-safe strings.Builder.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// exits records OnExit calls.
type exits struct {
	mu  sync.Mutex
	got []Exit
}

func (e *exits) record(x Exit) {
	e.mu.Lock()
	e.got = append(e.got, x)
	e.mu.Unlock()
}

func (e *exits) list() []Exit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Exit(nil), e.got...)
}

func start(t *testing.T, o Options) (*Bridge, *exits) {
	t.Helper()
	ex := &exits{}
	o.OnExit = ex.record
	b, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, ex
}

var nextID atomic.Uint64

// req is trial n of a run: x = (0.2, 0.5), w = (0.4), the names a and b.
func req(trial int) worker.Request {
	args, _ := json.Marshal(map[string]any{"trial": trial, "iteration": trial / 2, "candidate": trial % 2, "attempt": 1, "names": []string{"a", "b"}})
	return worker.Request{ID: nextID.Add(1), X: []float64{0.2, 0.5}, W: []float64{0.4}, EnvIndex: 2, EnvID: "img2", Args: args}
}

func TestBridgeEvaluates(t *testing.T) {
	b, ex := start(t, fake(t, "FAKE_ACTIONS=1:score,2:phase,3:stderr"))
	for trial := range 5 {
		res, err := b.Eval(context.Background(), req(trial))
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		want := extproctest.Objective([]float64{0.2, 0.5}, []float64{0.4})
		if res.Y != want || res.Score["f"] != want {
			t.Fatalf("trial %d: y %v score %v, want %v", trial, res.Y, res.Score, want)
		}
		if trial == 1 && (res.Score["n_lines"] != 12.0 || res.Score["tag"] != "fake") {
			t.Errorf("the score record's extra fields are lost: %v", res.Score)
		}
		if peak, _ := b.ChildPeakRSS(); peak <= 0 {
			t.Errorf("trial %d: no peak RSS for the child", trial)
		}
	}
	if b.Starts() != 1 || len(ex.list()) != 0 {
		t.Errorf("starts %d, exits %v: the evaluator must be started once", b.Starts(), ex.list())
	}
	// The child's stderr is copied by a goroutine: it arrives, not at once
	// (a loaded machine showed it late).
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(b.o.Stderr.(*lockedBuf).String(), "progress line 59"); {
		if time.Now().After(deadline) {
			t.Fatalf("the child's stderr does not reach the worker's")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRequestLine: what the child receives, field by field (the protocol's
// request, docs/evaluators.md).
func TestRequestLine(t *testing.T) {
	b := &Bridge{o: Options{Slot: 1}}
	r := req(6)
	line, _ := json.Marshal(b.request(r, parseArgs(r.Args)))
	var m map[string]any
	json.Unmarshal(line, &m)
	for k, want := range map[string]any{"type": "eval", "trial": 6.0, "iteration": 3.0, "candidate": 0.0, "attempt": 1.0, "worker": 1.0} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, m[k], want, line)
		}
	}
	if fmt.Sprint(m["x_named"]) != "map[a:0.2 b:0.5]" || fmt.Sprint(m["x"]) != "[0.2 0.5]" || fmt.Sprint(m["w"]) != "[0.4]" ||
		fmt.Sprint(m["env"]) != "map[id:img2 index:2]" {
		t.Errorf("request %s", line)
	}
	// Outside a run (no Args): names x0, x1 and the request id in messages.
	r.Args = nil
	q := b.request(r, parseArgs(nil))
	if _, ok := q.XNamed["x1"]; !ok || b.describe(r, parseArgs(nil)) != fmt.Sprintf("request %d", r.ID) {
		t.Errorf("without args: %+v", q)
	}
}

// TestProtocolErrors: every way a stdout line can break the protocol fails
// that trial with an error naming the worker, the trial and what was wrong,
// and the next trial runs on a restarted evaluator.
func TestProtocolErrors(t *testing.T) {
	for _, tc := range []struct{ action, want string }{
		{"garbage", `not JSON: "hello from the evaluator's stdout"`},
		{"badjson", `not JSON: "{\"type\": \"result\", \"id\": `},
		{"notobject", `JSON but not an object: "[1, 2, 3]"`},
		{"notype", `has no "type"`},
		{"wrongtype", `unknown "type" "\"resutl\""`},
		{"wrongid", `is for id`},
		{"version2", `protocol version "2"; this bohost speaks version 1`},
		{"huge", `longer than the 16777216-byte limit`},
		{"truncated", `last line was truncated`},
		{"closestdout", `closed its stdout`},
	} {
		t.Run(tc.action, func(t *testing.T) {
			t.Parallel()
			b, ex := start(t, fake(t, "FAKE_ACTIONS=7:"+tc.action))
			if _, err := b.Eval(context.Background(), req(6)); err != nil {
				t.Fatal(err)
			}
			_, err := b.Eval(context.Background(), req(7))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range []string{"worker 3", "trial 7 (iteration 3, candidate 1, attempt 1)", "broke the protocol", tc.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
			if len(msg) > 1200 {
				t.Errorf("error of %d bytes: a bad line must be quoted, not copied", len(msg))
			}
			if errs.KindOf(err) != errs.Failed {
				t.Errorf("kind %s", errs.KindOf(err))
			}
			res, err := b.Eval(context.Background(), req(8))
			if err != nil || res.Y == 0 {
				t.Fatalf("the trial after a protocol error: %v %+v", err, res)
			}
			if b.Starts() != 2 || len(ex.list()) != 0 {
				t.Errorf("starts %d, exits %v: want one restart, no worker death", b.Starts(), ex.list())
			}
		})
	}
}

// TestBadValues: a reply that is a frame but not a usable value fails the
// trial (bad_value) and keeps the evaluator.
func TestBadValues(t *testing.T) {
	b, ex := start(t, fake(t, "FAKE_ACTIONS=1:nan,2:inf,3:missing,4:ystring,5:error"))
	for _, tc := range []struct {
		trial      int
		kind, want string
	}{
		{1, errs.BadValue, "y = NaN (must be a finite number)"},
		{2, errs.BadValue, "y = +Inf"},
		{3, errs.BadValue, `has no value: give "y"`},
		{4, errs.BadValue, `y must be a number, got "\"high\""`},
		{5, errs.Failed, "reported an error: ValueError: bad threshold"},
	} {
		res, err := b.Eval(context.Background(), req(tc.trial))
		if err == nil || errs.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), fmt.Sprintf("worker 3, trial %d", tc.trial)) {
			t.Errorf("trial %d: %v (kind %s), want %s %q", tc.trial, err, errs.KindOf(err), tc.kind, tc.want)
		}
		if tc.trial == 5 && !strings.Contains(fmt.Sprint(res.Score["traceback"]), "line 9, in evaluate") {
			t.Errorf("the traceback is not in the score record: %v", res.Score)
		}
		if tc.trial == 1 && res.Score["n"] != 1.0 {
			t.Errorf("the score record of a NaN result is lost: %v", res.Score)
		}
	}
	if b.Starts() != 1 || len(ex.list()) != 0 {
		t.Errorf("starts %d exits %v: bad values must not restart the evaluator", b.Starts(), ex.list())
	}
}

// TestChildDeaths: an evaluator that dies makes the worker die the same way
// (OnExit), with a note naming the trial.
func TestChildDeaths(t *testing.T) {
	for _, tc := range []struct {
		action string
		sig    syscall.Signal
		code   int
		want   string
	}{
		{"segv", syscall.SIGSEGV, -1, "was killed by SIGSEGV during trial 4"},
		{"abort", syscall.SIGABRT, -1, "was killed by SIGABRT"},
		{"kill9", syscall.SIGKILL, -1, "was killed by SIGKILL"},
		{"exit3", 0, 3, "exited with status 3 during trial 4"},
		{"exit0", 0, 0, "exited with status 0 during trial 4 (iteration 2, candidate 0, attempt 1) without answering"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			t.Parallel()
			b, ex := start(t, fake(t, "FAKE_ACTIONS=4:"+tc.action))
			_, err := b.Eval(context.Background(), req(4))
			got := ex.list()
			if err == nil || len(got) != 1 {
				t.Fatalf("err %v, exits %v", err, got)
			}
			e := got[0]
			if e.Signal != tc.sig || e.Code != tc.code || !strings.Contains(e.Note, tc.want) || !strings.Contains(e.Note, "worker 3 ends the same way") {
				t.Errorf("exit %+v, want signal %v code %d note %q", e, tc.sig, tc.code, tc.want)
			}
			if tc.action == "segv" && !strings.Contains(b.o.Stderr.(*lockedBuf).String(), "about to segfault") {
				t.Errorf("the child's last stderr line is not on the worker's stderr")
			}
		})
	}
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		b, ex := start(t, fake(t, "FAKE_ACTIONS=1:answer_exit3"))
		if _, err := b.Eval(context.Background(), req(1)); err != nil {
			t.Fatalf("the answer before the exit is lost: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(ex.list()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := ex.list(); len(got) != 1 || got[0].Code != 3 || !strings.Contains(got[0].Note, "between evaluations") {
			t.Fatalf("idle exit: %+v", got)
		}
	})
}

// TestSetupFailures: an evaluator that cannot start says why, with its
// stderr.
func TestSetupFailures(t *testing.T) {
	for _, tc := range []struct{ setup, want string }{
		{"error", "reported a setup error: cannot load model.pt: no such file"},
		{"exit", "exited with status 4 before its ready line"},
		{"silent", "sent no ready line within 1s"},
		{"garbage", `its first line must be {"bohost": 1, "type": "ready"}: its stdout line is not JSON: "Loading model... done"`},
		{"noversion", "must say the protocol version it speaks"},
		{"version2", "protocol version \"2\""},
	} {
		t.Run(tc.setup, func(t *testing.T) {
			t.Parallel()
			o := fake(t, "FAKE_SETUP="+tc.setup)
			o.SetupTimeout = time.Second
			o.OnExit = func(Exit) {}
			_, err := Start(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "worker 3") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if tc.setup != "silent" && !strings.Contains(err.Error(), "setup done") {
				t.Errorf("the evaluator's stderr is not in the error: %v", err)
			}
		})
	}
	o := fake(t)
	o.Command = []string{"/nonexistent/evaluator"}
	if _, err := Start(context.Background(), o); err == nil || !strings.Contains(err.Error(), "/nonexistent/evaluator") {
		t.Errorf("a missing program: %v", err)
	}
}

func TestLogFile(t *testing.T) {
	dir := t.TempDir()
	o := fake(t, "FAKE_ACTIONS=1:stderr,2:garbage")
	o.LogPath = LogPathFor(dir, 3)
	o.GPU = "1"
	b, _ := start(t, o)
	b.Eval(context.Background(), req(1))
	b.Eval(context.Background(), req(2))
	b.Eval(context.Background(), req(3))
	b.Close()
	log, err := os.ReadFile(filepath.Join(dir, "workers", "worker_3.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"evaluator started: pid", "CUDA_VISIBLE_DEVICES=1", "progress line 59", "protocol error", "is killed and started again"} {
		if !strings.Contains(string(log), w) {
			t.Errorf("the log lacks %q:\n%s", w, log)
		}
	}
	if n := strings.Count(string(log), "evaluator started"); n != 2 {
		t.Errorf("%d starts in the log, want 2", n)
	}
}

func TestChildEnv(t *testing.T) {
	base := []string{"PATH=/bin", "PYTHONPATH=/old", "CUDA_VISIBLE_DEVICES=7"}
	env := ChildEnv(base, map[string]string{"A": "1", "PYTHONPATH": "/user"}, 2, "1", "/helper")
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s twice", k)
		}
		got[k] = v
	}
	for k, want := range map[string]string{"PATH": "/bin", "A": "1", "PYTHONPATH": "/helper:/user", "CUDA_VISIBLE_DEVICES": "1",
		"BOHOST_PROTOCOL": "1", "BOHOST_WORKER": "2", "PYTHONUNBUFFERED": "1"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if e := ChildEnv(base, nil, 0, "", ""); strings.Join(e, " ") != "PATH=/bin PYTHONPATH=/old CUDA_VISIBLE_DEVICES=7 BOHOST_PROTOCOL=1 BOHOST_WORKER=0 PYTHONUNBUFFERED=1" {
		t.Errorf("without gpus or helper: %v", e)
	}
	// gpus = {0, 1} over 5 slots, and a count of 3 (0, 1, 2).
	var got2 []string
	for slot := range 5 {
		got2 = append(got2, GPUFor([]int{0, 1}, slot))
	}
	if strings.Join(got2, ",") != "0,1,0,1,0" || GPUFor([]int{4}, 3) != "4" || GPUFor(nil, 1) != "" {
		t.Errorf("GPUFor: %v", got2)
	}
	o := Config{Command: []string{"x"}, GPUs: []int{2, 3}, Slot: 1, RunDir: "/r"}.Options()
	if o.GPU != "3" || o.LogPath != "/r/workers/worker_1.log" || !contains(o.Env, "CUDA_VISIBLE_DEVICES=3") {
		t.Errorf("Config.Options: %+v", o)
	}
}

// alive reports whether pid runs (a zombie, dead and not yet reaped by
// whoever inherited it, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestDieBy: the worker really dies by the child's signal (the Go runtime
// would otherwise turn a SIGSEGV into exit status 2).
func TestDieBy(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGABRT, syscall.SIGTERM, syscall.SIGKILL} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BOHOST_EXTPROC_DIE="+worker.SignalName(sig))
		cmd.Dir = t.TempDir() // a core file, if any, lands here
		cmd.Run()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != sig {
			t.Errorf("%v: %v", sig, cmd.ProcessState)
		}
	}
}

func TestWriteHelper(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	content := []byte("PROTOCOL = 1\n")
	dir, err := WriteHelper(content)
	if err != nil {
		t.Fatal(err)
	}
	if dir != HelperDirs(content)[0] {
		t.Errorf("written to %s, not %s", dir, HelperDirs(content)[0])
	}
	if b, _ := os.ReadFile(filepath.Join(dir, HelperFile)); string(b) != string(content) {
		t.Errorf("content %q", b)
	}
	if again, err := WriteHelper(content); err != nil || again != dir {
		t.Errorf("again: %s %v", again, err)
	}
	if other := HelperDirs([]byte("PROTOCOL = 2\n"))[0]; other == dir {
		t.Error("two versions of the helper share a directory")
	}
}

func TestParseLine(t *testing.T) {
	r, err := parseLine([]byte(`{"type": "result", "id": 3, "score": {"f": 0.5, "n": NaN, "s": "NaN inside"}}`))
	if err != nil || r.Y != 0.5 || r.Score["s"] != "NaN inside" || r.Score["n"] != "NaN" {
		t.Errorf("%+v %v", r, err)
	}
	r, err = parseLine([]byte(`{"type": "result", "id": 3, "y": -Infinity}`))
	if err != nil || !math.IsInf(r.Y, -1) {
		t.Errorf("%+v %v", r, err)
	}
	if _, err := parseLine([]byte(`{"type": "result", "id": 3.5, "y": 1}`)); err == nil {
		t.Error("a fractional id is accepted")
	}
	if r, err := parseLine([]byte(`{"type": "result", "id": 3, "score": {"y": 2}}`)); err != nil || r.Y != 2 {
		t.Errorf("score.y: %+v %v", r, err)
	}
}

// TestInPool: the bridge in real worker processes of a real pool: an
// evaluator that segfaults, hangs, goes over the memory cap, exits 0 without
// answering or writes to stdout costs one evaluation each, with a death
// certificate naming the cause and holding the evaluator's last stderr
// lines; the others are ok; every worker start runs the setup once.
func TestInPool(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dir := t.TempDir()
	setups := filepath.Join(dir, "setups")
	exe, _ := os.Executable()
	spec, _ := json.Marshal(Config{Command: []string{exe}, RunDir: dir, Env: map[string]string{
		extproctest.Env: "1", "FAKE_SETUP_LOG": setups, "FAKE_SETUP_BYTES": fmt.Sprint(48 << 20), "FAKE_OOM_BYTES": fmt.Sprint(420 << 20),
		"FAKE_ACTIONS": "1:segv,3:hang,5:oom,7:exit0,9:garbage,11:kill9"}})
	var mu sync.Mutex
	var deaths []worker.Death
	p, err := worker.NewPool(context.Background(), worker.Options{Command: []string{exe}, Env: []string{"BOHOST_EXTPROC_WORKER=1"},
		Size: 1, Spec: spec, MaxRSSBytes: 300 << 20, Timeout: 3 * time.Second, MemoryCgroup: "off",
		OnDeath: func(d worker.Death) { mu.Lock(); deaths = append(deaths, d); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := map[int]string{1: "crashed", 3: "timeout", 5: "oom", 7: "crashed", 9: "failed", 11: "crashed"}
	for trial := range 13 {
		r := req(trial)
		res := p.Eval(context.Background(), r)
		st := want[trial]
		if st == "" {
			st = "ok"
		}
		if res.Status != st {
			t.Errorf("trial %d: %s (%s), want %s", trial, res.Status, res.Error, st)
			continue
		}
		d := res.Death
		switch trial {
		case 1:
			if d == nil || d.Signal != "SIGSEGV" || !strings.Contains(d.StderrTail, "about to segfault") || !strings.Contains(d.Reason, "the evaluator (pid") {
				t.Errorf("segfault: %+v", d)
			}
		case 5:
			if d == nil || d.Cause != worker.CauseRSSCap {
				t.Errorf("over the cap: %+v", d)
			}
		case 7:
			if d == nil || d.ExitCode != 0 || !strings.Contains(res.Error, "without answering") {
				t.Errorf("exit 0: %s %+v", res.Error, d)
			}
		case 9:
			if !strings.Contains(res.Error, "worker 0, trial 9") || !strings.Contains(res.Error, "hello from the evaluator's stdout") {
				t.Errorf("garbage: %s", res.Error)
			}
		case 11:
			if d == nil || d.Signal != "SIGKILL" {
				t.Errorf("kill -9: %+v", d)
			}
		}
		if res.Status == "ok" && res.PeakRSSBytes < 48<<20 {
			t.Errorf("trial %d: peak RSS %d does not count the evaluator's 48 MiB", trial, res.PeakRSSBytes)
		}
	}
	// Setups: the first start, one per worker death (5) and one per protocol
	// restart (1).
	b, _ := os.ReadFile(setups)
	if n := strings.Count(string(b), "setup pid"); n != 7 {
		t.Errorf("%d setups, want 7 (one per worker start, one per protocol restart):\n%s", n, b)
	}
	// Every evaluator started is gone but the live one.
	live := 0
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var pid int
		fmt.Sscanf(l, "setup pid %d", &pid)
		if pid > 0 && alive(pid) {
			live++
		}
	}
	if live > 1 {
		t.Errorf("%d evaluators alive, want 1", live)
	}
	if pids := p.PIDs(); len(pids) != 2 {
		t.Errorf("PIDs %v: want the worker and its evaluator", pids)
	}
	if _, err := os.Stat(LogPathFor(dir, 0)); err != nil {
		t.Errorf("no log: %v", err)
	}
}

// BenchmarkBridge is the protocol's round trip per evaluation (write the
// request line, the fake evaluator parses it and replies, the reply is
// parsed), in-process: cmd/bohost's BenchmarkObjectiveRoundTrip compares
// whole evaluations through the worker pool with a Lua objective.
func BenchmarkBridge(b *testing.B) {
	o := fake(b)
	o.OnExit = func(e Exit) { b.Errorf("exit %+v", e) }
	br, err := Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	r := req(1)
	b.ResetTimer()
	for range b.N {
		r.ID = nextID.Add(1)
		if _, err := br.Eval(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCloseEndsTheEvaluatorCleanly: at the pool's clean shutdown the
// evaluator gets EOF on its stdin and exits by itself (so it can flush what
// it keeps), and no OnExit is reported.
func TestCloseEndsTheEvaluatorCleanly(t *testing.T) {
	b, ex := start(t, fake(t))
	if _, err := b.Eval(context.Background(), req(0)); err != nil {
		t.Fatal(err)
	}
	c := b.c
	b.Close()
	if !c.waitExit(time.Second) || c.state.ExitCode() != 0 || c.killed.Load() {
		t.Errorf("the evaluator did not exit by itself: %v (killed %v)", c.state, c.killed.Load())
	}
	time.Sleep(100 * time.Millisecond)
	if got := ex.list(); len(got) != 0 {
		t.Errorf("exits %+v", got)
	}
}
