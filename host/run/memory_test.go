package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"bohost/host/bo"
	"bohost/host/dataset"
	"bohost/host/monitor"
	"bohost/host/objective"
)

// TestHostRSSFlat runs many evaluations and checks from monitor.csv that
// the host's resident memory stays flat after a warm-up: growth under
// 10 MB. The default version makes 100 cheap evaluations; BOHOST_LONG=1
// makes 500 AirLine evaluations on the default synthetic data set.
func TestHostRSSFlat(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("BOHOST_MEMCHECK_DIR"); d != "" { // make memcheck keeps the run to draw it
		dir = d
		os.RemoveAll(dir)
	}
	cfg := testConfig(dir, smooth)
	cfg.Optimizer.Acquisition, cfg.Optimizer.Mode, cfg.Optimizer.NInitial = bo.AcqRandom, bo.ModePair, 10
	cfg.Iterations = 90
	if os.Getenv("BOHOST_LONG") == "1" {
		spec, _ := json.Marshal(objective.Spec{Airline: &objective.AirlineSpec{Synth: dataset.SynthOptions{Seed: 1}}})
		cfg.Objective = spec
		cfg.Optimizer = bo.Config{Alpha: 0.2, NW: 5, Acquisition: bo.AcqRandom, Mode: bo.ModeAllW, NInitial: 2, Seed: 1,
			RecommendFrom: "evaluated", Optim: optimCheap()}
		cfg.Iterations = 98
		cfg.TimeoutS = 300
	}
	opts := testOptions()
	s := mustDo(t, cfg, opts)
	rows, err := monitor.ReadCSV(filepath.Join(dir, MonitorFile))
	if err != nil {
		t.Fatal(err)
	}
	warm := len(rows) / 5
	if len(rows) < 20 || s.Trials < 100 {
		t.Fatalf("%d monitor rows, %d trials", len(rows), s.Trials)
	}
	base := rows[warm].HostRSS
	peak := base
	for _, r := range rows[warm:] {
		peak = max(peak, r.HostRSS)
	}
	growth := peak - base
	t.Logf("%d trials, %d monitor rows: host RSS %.1f MB after warm-up (row %d), peak after %.1f MB, growth %.2f MB; final %.1f MB; workers %.1f MB",
		s.Trials, len(rows), float64(base)/1e6, warm, float64(peak)/1e6, float64(growth)/1e6, float64(rows[len(rows)-1].HostRSS)/1e6, float64(rows[len(rows)-1].WorkersRSS)/1e6)
	for i := 0; i < len(rows); i += 10 {
		t.Logf("row %d: iter %d rss %.1f MB heap %.1f MB", i, rows[i].Iteration, float64(rows[i].HostRSS)/1e6, float64(rows[i].GoHeap)/1e6)
	}
	if growth >= 10e6 {
		t.Fatalf("host RSS grew by %.1f MB after warm-up (bound 10 MB)", float64(growth)/1e6)
	}
}
