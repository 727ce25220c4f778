package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"bohost/host/errs"
)

// fakeSweep writes 2 alphas × 2 seeds; alpha_0.5/seed_2 crashed: no
// summary.json, a torn last trials line, no monitor.csv, no final/.
// alpha_0.1/seed_2 lacks final/worst.png and has a bad iterations line 3.
func fakeSweep(t *testing.T) (string, map[string]fakeWritten) {
	t.Helper()
	sweep := filepath.Join(t.TempDir(), "sweep")
	w := map[string]fakeWritten{}
	w["alpha_0.1/seed_1"] = writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: 1, iterations: 10, complete: true,
		finalCVaR: 0.40, finalMean: 0.60, scores: []float64{0.2, 0.4, 0.6, 0.8, 1.0}, gpu: true, deathAt: 5})
	w["alpha_0.1/seed_2"] = writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: 2, iterations: 10, complete: true,
		finalCVaR: 0.44, finalMean: 0.66, scores: []float64{0.7, 0.3, 0.5}, noWorst: true, badIterAt: 3})
	w["alpha_0.5/seed_1"] = writeFakeRun(t, sweep, fakeSpec{alpha: 0.5, seed: 1, iterations: 10, complete: true,
		finalCVaR: 0.35, finalMean: 0.70, scores: []float64{0.1, 0.5, 0.9, 0.95}})
	w["alpha_0.5/seed_2"] = writeFakeRun(t, sweep, fakeSpec{alpha: 0.5, seed: 2, iterations: 6,
		tornTrials: true, noMonitor: true})
	return sweep, w
}

func nonEmpty(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Errorf("expected file %s: %v", path, err)
		return
	}
	if st.Size() == 0 {
		t.Errorf("file %s is empty", path)
	}
}

func hasWarning(ws []Warning, run, kind, file string, line int, substr string) bool {
	for _, w := range ws {
		if w.Run == run && w.Kind == kind && w.File == file && (line < 0 || w.Line == line) && strings.Contains(w.Msg, substr) {
			return true
		}
	}
	return false
}

func TestGenerateFakeSweep(t *testing.T) {
	sweep, written := fakeSweep(t)
	out := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("BOHOST_REPORT_KEEP"); d != "" { // for looking at the figures
		out = d
	}
	res, err := Generate(context.Background(), []string{sweep}, Options{Out: out})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}

	// Every expected file exists and is non-empty, and Files lists it.
	listed := map[string]bool{}
	for _, f := range res.Files {
		listed[f] = true
		nonEmpty(t, f)
	}
	want := []string{"summary.md", "summary.csv", "runs.csv", "results.json"}
	for _, base := range []string{"convergence", "tradeoff", "scores", "params"} {
		want = append(want, base+".png", base+".svg")
	}
	for _, run := range []string{"alpha_0.1_seed_1", "alpha_0.1_seed_2", "alpha_0.5_seed_1"} {
		want = append(want, "runs/"+run+"/system.png", "runs/"+run+"/system.svg",
			"runs/"+run+"/overlay_best.png", "runs/"+run+"/overlay_best.svg")
	}
	want = append(want, "runs/alpha_0.1_seed_1/overlay_worst.png", "runs/alpha_0.5_seed_1/overlay_worst.svg")
	for _, f := range want {
		p := filepath.Join(out, filepath.FromSlash(f))
		nonEmpty(t, p)
		if !listed[p] {
			t.Errorf("Result.Files does not list %s", f)
		}
	}
	// What cannot exist does not.
	for _, f := range []string{"runs/alpha_0.1_seed_2/overlay_worst.png", "runs/alpha_0.5_seed_2/system.png", "runs/alpha_0.5_seed_2/overlay_best.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s should not have been drawn", f)
		}
	}

	// Warnings name the run, the file and, for lines, the line.
	ws := res.Warnings
	inc := "alpha_0.5/seed_2"
	checks := []struct {
		run, kind, file string
		line            int
		substr          string
	}{
		{inc, WarnMissing, "summary.json", 0, "file not found"},
		{inc, WarnMissing, "monitor.csv", 0, "file not found"},
		{inc, WarnMalformed, "trials.jsonl", written[inc].tornLine, "torn last line"},
		{inc, WarnFallback, "summary.json", 0, "last iteration's (6) posterior values"},
		{inc, WarnMissing, "final/best.png", 0, "image not found"},
		{inc, WarnMissing, "final/worst.png", 0, "image not found"},
		{"alpha_0.1/seed_2", WarnMissing, "final/worst.png", 0, "image not found"},
		{"alpha_0.1/seed_2", WarnMalformed, "iterations.jsonl", 3, "does not decode"},
	}
	for _, c := range checks {
		if !hasWarning(ws, c.run, c.kind, c.file, c.line, c.substr) {
			t.Errorf("no warning {%s %s %s:%d %q}; got:\n%s", c.run, c.kind, c.file, c.line, c.substr, warningsText(ws))
		}
	}
	for _, w := range ws {
		if w.Run == "alpha_0.1/seed_1" || w.Run == "alpha_0.5/seed_1" {
			if w.Kind == WarnMissing || w.Kind == WarnMalformed {
				t.Errorf("complete run has warning: %s", w)
			}
		}
	}

	// summary.md has a Missing section that names the run and its files.
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	mds := string(md)
	i := strings.Index(mds, "## Missing")
	if i < 0 {
		t.Fatalf("summary.md has no Missing section:\n%s", mds)
	}
	missing := mds[i:]
	if j := strings.Index(missing[3:], "\n## "); j >= 0 {
		missing = missing[:j+3]
	}
	for _, s := range []string{"alpha_0.5/seed_2: summary.json", "alpha_0.5/seed_2: monitor.csv", "alpha_0.5/seed_2: trials.jsonl:" + strconv.Itoa(written[inc].tornLine), "alpha_0.1/seed_2: final/worst.png"} {
		if !strings.Contains(missing, s) {
			t.Errorf("Missing section lacks %q:\n%s", s, missing)
		}
	}

	// summary.csv: one row per alpha, mean ± std by hand.
	rows := readCSV(t, filepath.Join(out, "summary.csv"))
	if len(rows) != 2 {
		t.Fatalf("summary.csv has %d rows, want 2", len(rows))
	}
	a1, a5 := rows[0], rows[1]
	const tol = 1e-12
	s2 := math.Sqrt2
	post := written[inc].lastPosterior
	for _, c := range []struct {
		row  map[string]string
		col  string
		want float64
	}{
		{a1, "alpha", 0.1}, {a1, "n_runs", 2}, {a1, "n_final", 2},
		// final CVaR 0.40, 0.44: mean 0.42, std = |0.44-0.40|/√2.
		{a1, "final_cvar_mean", 0.42}, {a1, "final_cvar_std", 0.04 / s2},
		{a1, "final_mean_mean", 0.63}, {a1, "final_mean_std", 0.06 / s2},
		// lower 10 %: {0.2,…,1.0} → 0.2+0.4·0.2 = 0.28; {0.3,0.5,0.7} → 0.3+0.2·0.2 = 0.34.
		{a1, "lower10_mean", 0.31}, {a1, "lower10_std", 0.06 / s2},
		{a1, "failures_mean", 0.5}, {a1, "failures_total", 1},
		{a5, "alpha", 0.5}, {a5, "n_runs", 2},
		// The crashed run contributes its last posterior CVaR.
		{a5, "final_cvar_mean", (0.35 + post) / 2}, {a5, "final_cvar_std", math.Abs(0.35-post) / s2},
		// Only seed 1 has scores: 0.1 + 0.3·0.4 = 0.22; std unknown.
		{a5, "lower10_mean", 0.22},
		// Evaluations: 6 + 10 (summary) and 6 + 6 − 1 torn (trials.jsonl).
		{a5, "evaluations_mean", (16 + float64(written[inc].trials)) / 2},
	} {
		got, err := strconv.ParseFloat(c.row[c.col], 64)
		if err != nil || math.Abs(got-c.want) > tol {
			t.Errorf("summary.csv alpha=%s %s = %q, want %.15g ± %g", c.row["alpha"], c.col, c.row[c.col], c.want, tol)
		}
	}
	if a1["final_source"] != SourceFinalEval || a5["final_source"] != "mixed" {
		t.Errorf("final_source = %q, %q; want final_eval, mixed", a1["final_source"], a5["final_source"])
	}
	if a5["lower10_std"] != "" {
		t.Errorf("lower10_std with one value = %q, want empty", a5["lower10_std"])
	}
	if a1["seeds"] != "1 2" {
		t.Errorf("seeds = %q, want \"1 2\"", a1["seeds"])
	}
	for _, col := range []string{"x_edge_thresh_q_mean", "x_sigma_std", "x_min_len_mean", "wall_s_mean"} {
		if _, err := strconv.ParseFloat(a1[col], 64); err != nil {
			t.Errorf("summary.csv has no number in %s: %q", col, a1[col])
		}
	}

	// runs.csv and results.json: 4 runs; results.json adds the 2 alpha rows.
	if rr := readCSV(t, filepath.Join(out, "runs.csv")); len(rr) != 4 {
		t.Errorf("runs.csv has %d rows, want 4", len(rr))
	} else if rr[3]["run"] != inc || rr[3]["status"] != "incomplete" || rr[3]["final_source"] != SourcePosterior {
		t.Errorf("runs.csv last row = %v, want the incomplete run from the posterior", rr[3])
	}
	var recs []map[string]any
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	kinds := map[string]int{}
	for _, r := range recs {
		kinds[r["kind"].(string)]++
	}
	if kinds["run"] != 4 || kinds["alpha"] != 2 {
		t.Errorf("results.json kinds = %v, want 4 run and 2 alpha", kinds)
	}
	for _, r := range recs {
		if r["run"] == inc && r["lower10"] != nil {
			t.Errorf("incomplete run lower10 = %v, want null", r["lower10"])
		}
	}
}

func warningsText(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString("  ")
		b.WriteString(w.String())
		b.WriteString("\n")
	}
	return b.String()
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(all) < 1 {
		t.Fatalf("%s: no header", path)
	}
	var out []map[string]string
	for _, row := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = row[i]
		}
		out = append(out, m)
	}
	return out
}

func TestGenerateErrors(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		name string
		dirs []string
		opts Options
		kind string
		msg  string
	}{
		{"no dirs", nil, Options{}, errs.BadArg, "no sweep directories"},
		{"missing dir", []string{filepath.Join(empty, "nope")}, Options{}, errs.BadArg, "nope"},
		{"no runs", []string{empty}, Options{}, errs.BadArg, "no run directories"},
		{"bad format", []string{empty}, Options{Formats: []string{"png", "gif"}}, errs.BadArg, `got "gif"`},
		{"bad band", []string{empty}, Options{Band: "iqr"}, errs.BadArg, `got "iqr"`},
	}
	for _, c := range cases {
		_, err := Generate(context.Background(), c.dirs, c.opts)
		if !errs.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %s containing %q", c.name, err, c.kind, c.msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sweep := filepath.Join(t.TempDir(), "s")
	writeFakeRun(t, sweep, fakeSpec{alpha: 0.2, seed: 1, iterations: 3})
	if _, err := Generate(ctx, []string{sweep}, Options{}); !errs.Is(err, errs.Canceled) {
		t.Errorf("canceled context: err = %v, want canceled", err)
	}
}

// TestGenerateGarbage feeds files full of junk: warnings, never a panic.
func TestGenerateGarbage(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "s")
	dir := filepath.Join(sweep, "alpha_0.3", "seed_7")
	writeText(t, filepath.Join(dir, "config.json"), "{\n  \"alpha\": 0.3,\n  \"seed\": \n}")
	writeText(t, filepath.Join(dir, "summary.json"), `{"status": 3, "final_eval": {"scores": [0.5, null, "x"], "cvar": 0.4, "best": {"lines": [[1,2,3]], "image": "../../../etc/passwd"}}}`)
	writeText(t, filepath.Join(dir, "trials.jsonl"), "not json\n{\"trial\": 1, \"x_vec\": [1e308, -1e308], \"status\": \"ok\"}\n[1,2]\n")
	writeText(t, filepath.Join(dir, "iterations.jsonl"), "{\"iteration\": 1, \"n_trials\": 1, \"posterior_cvar\": 0.3}\n{\"iteration\": 2, \"n_trials\": 1, \"posterior_cvar\": 0.31, \"recommended_x_vec\": [0.5]}\n")
	writeText(t, filepath.Join(dir, "events.jsonl"), "")
	writeText(t, filepath.Join(dir, "monitor.csv"), "time,elapsed_s,host_rss_bytes\nx,1,abc\n\"unterminated,2,3\n")
	writeText(t, filepath.Join(dir, "final", "best.png"), "not a png")
	res, err := Generate(context.Background(), []string{sweep}, Options{Out: filepath.Join(t.TempDir(), "r"), Formats: []string{"png"}})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	ws := res.Warnings
	run := "alpha_0.3/seed_7"
	for _, c := range []struct {
		kind, file string
		line       int
		substr     string
	}{
		{WarnMalformed, "config.json", 4, "invalid character"},
		{WarnFallback, "config.json", 0, "from the directory name"},
		{WarnMalformed, "summary.json", 0, "cannot unmarshal"},
		{WarnMalformed, "trials.jsonl", 1, "does not decode"},
		{WarnMalformed, "trials.jsonl", 3, "does not decode"},
		{WarnMissing, "events.jsonl", 0, "no records"},
		{WarnMalformed, "monitor.csv", 2, "not a number"},
	} {
		if !hasWarning(ws, run, c.kind, c.file, c.line, c.substr) {
			t.Errorf("no warning {%s %s:%d %q}; got:\n%s", c.kind, c.file, c.line, c.substr, warningsText(ws))
		}
	}
	if len(res.Runs) != 1 || res.Runs[0].Alpha != 0.3 || res.Runs[0].Seed != 7 {
		t.Errorf("run identity = %+v, want alpha 0.3 seed 7 from the directory name", res.Runs[0])
	}
	nonEmpty(t, filepath.Join(res.Out, "summary.md"))
}

func TestFindRunsDedupAndNames(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "s")
	writeFakeRun(t, sweep, fakeSpec{alpha: 0.2, seed: 1, iterations: 2})
	writeFakeRun(t, sweep, fakeSpec{alpha: 0.2, seed: 3, iterations: 2})
	// The same sweep twice, and one of its runs directly: each run once.
	dirs, names, err := FindRuns([]string{sweep, sweep, filepath.Join(sweep, "alpha_0.2", "seed_1")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alpha_0.2/seed_1", "alpha_0.2/seed_3"}
	if len(dirs) != 2 || strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("FindRuns names = %v, want %v", names, want)
	}
}

func TestGeneratePDF(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "s")
	writeFakeRun(t, sweep, fakeSpec{alpha: 0.25, seed: 1, iterations: 4, complete: true,
		finalCVaR: 0.3, finalMean: 0.5, scores: []float64{0.2, 0.5, 0.8}})
	res, err := Generate(context.Background(), []string{sweep}, Options{Formats: []string{"PDF"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Out != filepath.Join(sweep, "report") {
		t.Errorf("default Out = %s, want SWEEP/report", res.Out)
	}
	b, err := os.ReadFile(filepath.Join(res.Out, "tradeoff.pdf"))
	if err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Errorf("tradeoff.pdf missing or not a PDF: %v", err)
	}
	if _, err := os.Stat(filepath.Join(res.Out, "tradeoff.png")); err == nil {
		t.Errorf("png written although only pdf was asked for")
	}
}

func TestLoadRunResumeDuplicates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	writeText(t, filepath.Join(dir, "config.json"), `{"alpha": 0.2, "seed": 12345678901234567, "convention": "botorch"}`)
	var lines []string
	for _, it := range []int{1, 2, 3, 2, 3, 4} {
		lines = append(lines, `{"iteration": `+strconv.Itoa(it)+`, "n_trials": `+strconv.Itoa(10*it)+`, "posterior_cvar": 0.`+strconv.Itoa(len(lines)+1)+`}`)
	}
	writeText(t, filepath.Join(dir, "iterations.jsonl"), strings.Join(lines, "\n")+"\n")
	writeText(t, filepath.Join(dir, "monitor.csv"), "time,elapsed_s,host_rss_bytes\nt,1,100\nt,2,200\nt,3")
	r := LoadRun(dir, "r")
	if r.Monitor == nil || r.Monitor.Rows != 2 || r.Monitor.Col("host_rss_bytes")[1] != 200 {
		t.Errorf("monitor = %+v, want the 2 whole rows", r.Monitor)
	}
	if !hasWarning(r.Warnings, "r", WarnMalformed, "monitor.csv", 4, "torn last row") {
		t.Errorf("no warning about the torn monitor row; got:\n%s", warningsText(r.Warnings))
	}
	if r.Seed != 12345678901234567 || r.Alpha != 0.2 || r.Convention != "botorch" {
		t.Errorf("identity = alpha %g, seed %d, convention %q", r.Alpha, r.Seed, r.Convention)
	}
	var got []string
	for _, it := range r.Iterations {
		got = append(got, strconv.Itoa(it.Iteration)+"="+strconv.FormatFloat(*it.PosteriorCVaR, 'g', -1, 64))
	}
	// The records after the resume (lines 4, 5) replace iterations 2 and 3.
	if want := "1=0.1 2=0.4 3=0.5 4=0.6"; strings.Join(got, " ") != want {
		t.Errorf("iterations = %s, want %s", strings.Join(got, " "), want)
	}
	if !hasWarning(r.Warnings, "r", WarnNote, "iterations.jsonl", 0, "2 records repeat") {
		t.Errorf("no warning about repeated iterations; got:\n%s", warningsText(r.Warnings))
	}
}

// BenchmarkGenerate times a full report of the 2 × 2 fake sweep, PNG only.
func BenchmarkGenerate(b *testing.B) {
	sweep := filepath.Join(b.TempDir(), "sweep")
	tb := testing.TB(b)
	for _, s := range []fakeSpec{
		{alpha: 0.1, seed: 1, iterations: 30, complete: true, finalCVaR: 0.4, finalMean: 0.6, scores: []float64{0.2, 0.5, 0.8}},
		{alpha: 0.1, seed: 2, iterations: 30, complete: true, finalCVaR: 0.45, finalMean: 0.6, scores: []float64{0.3, 0.5, 0.8}},
		{alpha: 0.5, seed: 1, iterations: 30, complete: true, finalCVaR: 0.35, finalMean: 0.7, scores: []float64{0.1, 0.6, 0.9}},
		{alpha: 0.5, seed: 2, iterations: 30, complete: true, finalCVaR: 0.33, finalMean: 0.72, scores: []float64{0.1, 0.7, 0.9}},
	} {
		writeFakeRun(tb, sweep, s)
	}
	out := filepath.Join(b.TempDir(), "out")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Generate(context.Background(), []string{sweep}, Options{Out: out, Formats: []string{"png"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSpaceAcceptsListAndColumnarForms(t *testing.T) {
	var a, b Space
	if err := json.Unmarshal([]byte(`[{"name":"a","lo":0,"hi":1},{"name":"b","lo":1,"hi":10,"scale":"log"}]`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"names":["a","b"],"lo":[0,1],"hi":[1,10],"scale":["linear","log"]}`), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("list %+v != columnar %+v", a, b)
	}
}
