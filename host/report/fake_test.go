package report

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSpec describes one synthetic run directory written per docs/rundir.md.
type fakeSpec struct {
	alpha      float64
	seed       int64
	iterations int
	nW         int

	complete   bool      // write summary.json and final/
	finalCVaR  float64   // summary.json final_eval.cvar
	finalMean  float64   // summary.json final_eval.mean
	scores     []float64 // summary.json final_eval.scores
	tornTrials bool      // cut the last trials.jsonl line in half, no newline
	noMonitor  bool
	noWorst    bool // summary names final/worst.png but the file is absent
	gpu        bool // fill the gpu_* columns of monitor.csv
	deathAt    int  // trial index whose worker dies (0: none)
	badIterAt  int  // 1-based line of iterations.jsonl replaced by junk (0: none)

	reference bool      // the risk-neutral reference: SWEEP/mean/seed_<s>/, alpha 1, sweep.role "reference"
	holdout   []float64 // holdout.json scores on images H000, H001, … (nil: no holdout.json)
}

var fakeSpace = map[string]any{
	"names": []string{"edge_thresh_q", "sigma", "min_len"},
	"lo":    []float64{0.01, 0.5, 5},
	"hi":    []float64{0.5, 3, 80},
	"scale": []string{"log", "linear", "linear"},
}

// fakeWritten is what the test needs to know about a written run.
type fakeWritten struct {
	dir            string
	lastPosterior  float64 // last iteration's posterior_cvar
	lastMean       float64
	trials         int // complete trial lines
	tornLine       int // 1-based line of the torn trial (0: none)
	iterationLines int
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonLineOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFakeRun writes SWEEP/alpha_<a>/seed_<s>/ with realistic content: a
// config, n_w evaluations of 2 initial points then one evaluation per
// iteration, rising posterior and observed CVaR, events, a monitor sampled
// every 2 s, and (when complete) summary.json and final/ images.
func writeFakeRun(t testing.TB, sweep string, s fakeSpec) fakeWritten {
	t.Helper()
	dir := filepath.Join(sweep, fmt.Sprintf("alpha_%g", s.alpha), fmt.Sprintf("seed_%d", s.seed))
	role := "alpha"
	if s.reference {
		s.alpha, role = 1, "reference"
		dir = filepath.Join(sweep, "mean", fmt.Sprintf("seed_%d", s.seed))
	}
	if s.nW == 0 {
		s.nW = 3
	}
	rng := rand.New(rand.NewPCG(uint64(s.seed), uint64(s.alpha*1000)))
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	stamp := func(el float64) string {
		return t0.Add(time.Duration(el * float64(time.Second))).Format(time.RFC3339Nano)
	}
	names := fakeSpace["names"].([]string)
	lo, hi := fakeSpace["lo"].([]float64), fakeSpace["hi"].([]float64)
	randX := func() []float64 {
		x := make([]float64, 3)
		x[0] = lo[0] * math.Pow(hi[0]/lo[0], rng.Float64())
		x[1] = lo[1] + (hi[1]-lo[1])*rng.Float64()
		x[2] = lo[2] + (hi[2]-lo[2])*rng.Float64()
		return x
	}
	xmap := func(x []float64) map[string]any {
		m := map[string]any{}
		for i, n := range names {
			m[n] = x[i]
		}
		return m
	}

	writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{
		"format": 1, "bohost_version": "0.1.0-test", "space": fakeSpace,
		"env": map[string]any{"kind": "images", "n": s.nW}, "alpha": s.alpha, "convention": "bohost",
		"n_w": s.nW, "acquisition": "rho_kg", "n_initial": 2, "iterations": s.iterations, "seed": s.seed,
		"objective": "f", "on_failure": "worst", "workers": 2, "timeout_s": 60, "max_rss": "4GiB",
		"data":  map[string]any{"dir": "/data/yorkurban", "split": "test"},
		"sweep": map[string]any{"alphas": []float64{0.1, 0.5}, "role": role},
	})
	writeJSON(t, filepath.Join(dir, "args.json"), map[string]any{"script": "alpha_sweep.lua", "args": []string{"--alpha", fmt.Sprint(s.alpha)}})

	var trials, iters, events []string
	el := 0.0
	trial := 0
	var deaths []float64
	addTrial := func(iter int, x []float64, w int) {
		trial++
		el += 0.3 + 0.2*rng.Float64()
		y := 0.3 + 0.5*rng.Float64()
		rec := map[string]any{
			"trial": trial, "iteration": iter, "time": stamp(el), "elapsed_s": el,
			"x": xmap(x), "x_vec": x, "w": []float64{float64(w) / float64(s.nW)}, "env_index": w,
			"env_id": fmt.Sprintf("P10201%02d", w), "status": "ok", "y": y, "told": y,
			"score":   map[string]any{"f": y, "precision": y + 0.05, "recall": y - 0.05, "n_lines": 100 + w, "ms": 30.5},
			"seconds": 0.4, "worker": trial % 2, "peak_rss_bytes": 300e6 + 1e6*float64(trial), "error": nil, "death": nil,
		}
		if trial == s.deathAt {
			rec["status"], rec["y"], rec["told"] = "crashed", nil, 0.0
			rec["error"] = "worker died: SIGSEGV"
			rec["death"] = map[string]any{"signal": "SIGSEGV", "exit_code": -1, "pid": 4242, "stderr_tail": "segfault in cv::HoughLines",
				"peak_rss_bytes": 9e8, "oom_kill_delta": 0, "last_monitor": map[string]any{"host_rss_bytes": 5e8}, "phase": "eval"}
			deaths = append(deaths, el)
		}
		trials = append(trials, jsonLineOf(t, rec))
	}
	for p := 0; p < 2; p++ {
		x := randX()
		for w := 0; s.nW > w; w++ {
			addTrial(0, x, w)
		}
	}
	best := randX()
	var w fakeWritten
	for it := 1; it <= s.iterations; it++ {
		x := randX()
		addTrial(it, x, rng.IntN(s.nW))
		// The recommendation drifts towards a fixed point as the model learns.
		for k := range best {
			target := lo[k] + 0.3*(hi[k]-lo[k])
			best[k] += 0.3 * (target - best[k])
		}
		post := 0.25 + 0.2*(1-math.Exp(-float64(it)/3)) + 0.01*rng.NormFloat64()
		mean := post + 0.15
		var obs any
		if it >= 2 {
			obs = 0.2 + 0.2*(1-math.Exp(-float64(it-1)/3))
		}
		el += 0.05
		iters = append(iters, jsonLineOf(t, map[string]any{
			"iteration": it, "time": stamp(el), "elapsed_s": el, "n_trials": trial,
			"recommended_x": xmap(best), "recommended_x_vec": append([]float64(nil), best...),
			"posterior_cvar": post, "posterior_mean": mean, "best_observed_cvar": obs,
			"acq_value": 0.01 / float64(it), "fit_s": 0.03, "acq_s": 0.2,
		}))
		w.lastPosterior, w.lastMean = post, mean
	}
	if s.badIterAt > 0 && s.badIterAt <= len(iters) {
		iters[s.badIterAt-1] = `{"iteration": 2, "posterior_cvar": "oops"}`
	}
	w.iterationLines = len(iters)

	events = append(events, jsonLineOf(t, map[string]any{"time": stamp(0), "elapsed_s": 0.0, "event": "start", "msg": "run started"}))
	for _, d := range deaths {
		events = append(events, jsonLineOf(t, map[string]any{"time": stamp(d), "elapsed_s": d, "event": "worker_death", "msg": "worker 1 died: SIGSEGV", "pid": 4242}))
	}
	if s.complete {
		events = append(events, jsonLineOf(t, map[string]any{"time": stamp(el), "elapsed_s": el, "event": "finish", "msg": "done"}))
	}

	w.trials = len(trials)
	trialsText := strings.Join(trials, "\n") + "\n"
	if s.tornTrials {
		last := trials[len(trials)-1]
		trialsText = strings.Join(trials[:len(trials)-1], "\n") + "\n" + last[:len(last)/2]
		w.trials--
		w.tornLine = len(trials)
	}
	writeText(t, filepath.Join(dir, "trials.jsonl"), trialsText)
	writeText(t, filepath.Join(dir, "iterations.jsonl"), strings.Join(iters, "\n")+"\n")
	writeText(t, filepath.Join(dir, "events.jsonl"), strings.Join(events, "\n")+"\n")

	if !s.noMonitor {
		var b strings.Builder
		b.WriteString("time,elapsed_s,iteration,cpu_pct,host_rss_bytes,workers_rss_bytes,go_heap_bytes,gpu_used_bytes,gpu_total_bytes,gpu_pool_bytes\n")
		for tm := 0.0; tm <= el; tm += 2 {
			host := 2.0e8 + 1e7*tm/2 + 5e6*rng.Float64()
			workers := 6e8 + 2e8*math.Sin(tm/5) + 1e7*rng.Float64()
			gpu := ""
			if s.gpu {
				gpu = fmt.Sprintf("%.0f,%.0f,%.0f", 1.5e9+1e8*rng.Float64(), 80e9, 1.2e9)
			} else {
				gpu = ",,"
			}
			fmt.Fprintf(&b, "%s,%.3f,%d,%.1f,%.0f,%.0f,%.0f,%s\n", stamp(tm), tm, int(tm/3), 150+50*rng.Float64(), host, workers, 5e7, gpu)
		}
		writeText(t, filepath.Join(dir, "monitor.csv"), b.String())
	}

	if s.complete {
		scores := make([]any, len(s.scores))
		envs := make([]string, len(s.scores))
		for i, v := range s.scores {
			scores[i] = v
			envs[i] = fmt.Sprintf("P10201%02d", i)
		}
		segs := func(n int, off float64) [][]float64 {
			var out [][]float64
			for i := 0; i < n; i++ {
				y := 10 + float64(i)*18 + off
				out = append(out, []float64{10 + off, y, 150 - off, y + 6})
			}
			return out
		}
		fails := map[string]int{"failed": 0, "crashed": 0, "timeout": 0, "oom": 0}
		if s.deathAt > 0 {
			fails["crashed"] = 1
		}
		writeJSON(t, filepath.Join(dir, "summary.json"), map[string]any{
			"status": "finished", "reason": "iterations reached", "iterations": s.iterations, "trials": trial,
			"alpha": s.alpha, "convention": "bohost", "n_w": s.nW, "seed": s.seed, "acquisition": "rho_kg",
			"recommended_x": xmap(best), "recommended_x_vec": best, "posterior_cvar": w.lastPosterior,
			"best_observed_cvar": 0.38,
			"final_eval": map[string]any{"env_ids": envs, "scores": scores, "cvar": s.finalCVaR, "mean": s.finalMean,
				"best":  map[string]any{"env_id": envs[len(envs)-1], "image": "final/best.png", "score": 0.8, "lines": segs(6, 0), "gt": segs(5, 3)},
				"worst": map[string]any{"env_id": envs[0], "image": "final/worst.png", "score": 0.2, "lines": segs(3, 1), "gt": segs(6, 4)}},
			"failures": fails, "wall_s": el + 1, "peak_rss_bytes": 9e8,
		})
		writeFakeImage(t, filepath.Join(dir, "final", "best.png"), 160, 120, 1)
		if !s.noWorst {
			writeFakeImage(t, filepath.Join(dir, "final", "worst.png"), 160, 120, 2)
		}
	}
	if s.holdout != nil {
		ids := make([]string, len(s.holdout))
		for i := range ids {
			ids[i] = fmt.Sprintf("H%03d", i)
		}
		writeJSON(t, filepath.Join(dir, "holdout.json"), map[string]any{"format": 1, "split": "test", "score": "f",
			"x_vec": best, "data_sha256": "abc", "env_ids": ids, "scores": s.holdout})
	}
	w.dir = dir
	return w
}

func writeText(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeFakeImage writes a small colour scene: a sky gradient, a building
// with windows, so overlays have something to sit on.
func writeFakeImage(t testing.TB, path string, w, h int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(120 + y/2), uint8(150 + y/3), 220, 255}
			if x > w/5 && x < 4*w/5 && y > h/4 {
				c = color.RGBA{140, 110, 90, 255}
				if (x/8)%2 == 0 && (y/10)%2 == 0 {
					c = color.RGBA{40, 50, 70, 255}
				}
			}
			n := uint8(rng.IntN(12))
			c.R, c.G, c.B = c.R-n/2, c.G-n/2, c.B-n/2
			img.Set(x, y, c)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
