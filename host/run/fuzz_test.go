package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"bohost/host/errs"
	"bohost/host/worker"
)

// inProcess is a dispatcher that evaluates the test objective in the test
// process (no worker processes: fast enough to fuzz).
type inProcess struct{}

func (inProcess) Eval(ctx context.Context, req worker.Request) worker.Result {
	if ctx.Err() != nil {
		return worker.Result{Status: worker.StatusCanceled}
	}
	x, w := req.X, req.W
	y := -(x[0]-0.3)*(x[0]-0.3) - (x[1]-0.6)*(x[1]-0.6) - 0.5*(w[0]-0.5)*(w[0]-0.5)*x[0]
	return worker.Result{Status: worker.StatusOK, Y: y, Score: map[string]any{"f": y}}
}

func (inProcess) Close() error { return nil }

func inProcessOptions() Options {
	return Options{MonitorInterval: -1, NewDispatcher: func(context.Context, worker.Options) (worker.Dispatcher, error) {
		return inProcess{}, nil
	}}
}

// fuzzFiles are the run-directory files a resume reads.
var fuzzFiles = []string{ConfigFile, TrialsFile, CheckpointFile, "checkpoint.prev.json", EventsFile, SummaryFile,
	IterationsFile, fingerprintFile, ManifestFile}

var (
	fuzzBaseOnce sync.Once
	fuzzBase     map[string][]byte
	fuzzBaseErr  error
)

// fuzzBaseDir is an interrupted run (3 of 6 iterations) made in process:
// the files every fuzz input starts from.
func fuzzBaseDir(t testing.TB) map[string][]byte {
	fuzzBaseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bohost-fuzz-base")
		if err != nil {
			fuzzBaseErr = err
			return
		}
		defer os.RemoveAll(dir)
		cfg := fuzzConfig(dir)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := inProcessOptions()
		opts.OnIteration = func(r *Run, it Iteration) error {
			if it.Iteration >= 3 {
				cancel()
			}
			return nil
		}
		if _, err := Do(ctx, cfg, opts); errs.KindOf(err) != errs.Canceled {
			fuzzBaseErr = err
			return
		}
		fuzzBase = map[string][]byte{}
		for _, f := range fuzzFiles {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				fuzzBase[f] = b
			}
		}
	})
	if fuzzBaseErr != nil {
		t.Fatal(fuzzBaseErr)
	}
	return fuzzBase
}

func fuzzConfig(dir string) Config {
	cfg := testConfig(dir, smooth)
	cfg.Iterations = 6
	cfg.Workers = 1
	return cfg
}

// FuzzRunDirFiles replaces one file of an interrupted run's directory with
// arbitrary bytes and resumes it. Whatever the bytes, the resume must not
// panic, must fail with a structured error naming what is wrong (or
// succeed), and must never lose a byte of trials.jsonl: the journal after
// the attempt is the journal before it, less at most an end that was cut
// off and saved beside it.
// Seeds: each file as a finished run wrote it, and damaged versions of it
// (testdata/fuzz/FuzzRunDirFiles).
func FuzzRunDirFiles(f *testing.F) {
	base := fuzzBaseDir(f)
	for i, name := range fuzzFiles {
		b := base[name]
		f.Add(uint8(i), b)
		if len(b) > 2 {
			f.Add(uint8(i), b[:len(b)/2])
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := t.TempDir()
		for name, b := range base {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		name := fuzzFiles[int(which)%len(fuzzFiles)]
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(filepath.Join(dir, TrialsFile))
		r, err := Open(context.Background(), fuzzConfig(dir), inProcessOptions())
		if err == nil {
			r.Close()
		} else {
			var e *errs.Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("%s: unstructured error %T: %v", name, err, err)
			}
			if errs.KindOf(err) == errs.Internal {
				t.Fatalf("%s: internal error (a recovered panic?): %v", name, err)
			}
		}
		after, _ := os.ReadFile(filepath.Join(dir, TrialsFile))
		if !bytes.HasPrefix(before, after) {
			t.Fatalf("%s: trials.jsonl changed beyond a cut end:\nbefore %q\nafter  %q", name, before, after)
		}
		// What was cut is kept byte for byte beside the journal.
		if cut := before[len(after):]; len(cut) > 0 {
			saved, _ := filepath.Glob(filepath.Join(dir, TrialsFile+".torn-*"))
			found := false
			for _, p := range saved {
				if b, _ := os.ReadFile(p); bytes.Equal(b, cut) {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s: %d bytes cut from trials.jsonl are not saved (%v): %q", name, len(cut), saved, cut)
			}
		}
	})
}
