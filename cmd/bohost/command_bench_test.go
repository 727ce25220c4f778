package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"bohost/host/extproc/extproctest"
	"bohost/host/worker"
)

// BenchmarkObjectiveRoundTrip is the cost of one evaluation of a trivial
// objective through a real worker pool (the bohost binary's workers, one
// worker, evaluations one after another), for a Lua objective and for
// command objectives (the Go fake evaluator, and a Python evaluator using
// bohost_worker.py where python3 exists). The difference is the external
// evaluator protocol's overhead per evaluation (docs/evaluators.md):
//
//	go test -run '^$' -bench ObjectiveRoundTrip ./cmd/bohost
func BenchmarkObjectiveRoundTrip(b *testing.B) {
	bin := buildBohost(b)
	dir := b.TempDir()
	lua := filepath.Join(dir, "obj.lua")
	os.WriteFile(lua, []byte("return {evaluate = function(x, w) return {f = -(x[1] - 0.3)^2 - 0.1 * w[1]} end}\n"), 0o644)
	py := filepath.Join(dir, "eval.py")
	os.WriteFile(py, []byte("import bohost_worker\nbohost_worker.serve(lambda x, w, env: {'f': -(x['a'] - 0.3) ** 2 - 0.1 * w[0]})\n"), 0o644)
	exe, _ := os.Executable()
	specs := []struct {
		name string
		spec any
	}{
		{"lua", map[string]any{"lua": map[string]any{"file": lua, "fn": "evaluate"}}},
		{"command_go", map[string]any{"command": map[string]any{"command": []string{exe}, "env": map[string]string{extproctest.Env: "1"}}}},
	}
	if p, err := exec.LookPath("python3"); err == nil {
		specs = append(specs, struct {
			name string
			spec any
		}{"command_python", map[string]any{"command": map[string]any{"command": []string{p, py}}}})
	}
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	for _, s := range specs {
		b.Run(s.name, func(b *testing.B) {
			spec, _ := json.Marshal(s.spec)
			p, err := worker.NewPool(context.Background(), worker.Options{Command: []string{bin, "worker"}, Size: 1, Spec: spec})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			args, _ := json.Marshal(map[string]any{"trial": 0, "iteration": 0, "candidate": 0, "attempt": 1, "names": []string{"a"}})
			req := worker.Request{X: []float64{0.4}, W: []float64{0.5}, EnvIndex: -1, Args: args}
			for range 20 { // warm up
				p.Eval(context.Background(), req)
			}
			b.ResetTimer()
			for range b.N {
				req.ID = 0
				if r := p.Eval(context.Background(), req); r.Status != "ok" {
					b.Fatalf("%s: %+v", s.name, r)
				}
			}
		})
	}
}
