package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bohost/host/airline"
	"bohost/host/dataset"
	"bohost/host/testsupport"
)

// readmeSnippet returns the chunk of the `bin/bohost -e '...'` example in
// docs/airline.md, so the documented snippet is exactly the one tested.
func readmeSnippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testsupport.RepoRoot(), "docs", "airline.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	const open = "bin/bohost -e '"
	i := strings.Index(doc, open)
	if i < 0 {
		t.Fatalf("docs/airline.md has no %q example", open)
	}
	rest := doc[i+len(open):]
	j := strings.Index(rest, "'")
	if j < 0 {
		t.Fatal("docs/airline.md: the bohost -e example is not closed by a quote")
	}
	chunk := rest[:j]
	// README.md shows the same example: keep the two identical.
	readme, err := os.ReadFile(filepath.Join(testsupport.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), open+chunk+"'") {
		t.Fatal("README.md's bin/bohost -e example differs from docs/airline.md's: keep them identical")
	}
	return chunk
}

// parseRecord reads the snippet's output: the item id, then "key<TAB>value" lines.
func parseRecord(t *testing.T, out string) (string, map[string]float64) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	rec := map[string]float64{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("line %q is not key<TAB>value; output:\n%s", l, out)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		rec[k] = f
	}
	return lines[0], rec
}

// The snippet of docs/airline.md scores one synthetic image through
// `bohost -e` and prints the record; the numbers equal the Go evaluator's.
func TestAirlineSnippetScoresOneImage(t *testing.T) {
	snippet := readmeSnippet(t)
	r := run(t, "", "-e", snippet)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty (the snippet frees its evaluator):\n%s", r.stderr)
	}
	id, rec := parseRecord(t, r.stdout)
	for _, k := range []string{"f", "precision", "recall", "n_lines", "n_gt", "r", "ms"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("record has no %q; output:\n%s", k, r.stdout)
		}
	}

	ds, err := dataset.Synthetic(dataset.SynthOptions{N: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ds.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := airline.New(airline.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.Eval(context.Background(), nil, img, ds.Item(0).Lines)
	if err != nil {
		t.Fatal(err)
	}
	if id != ds.Item(0).ID {
		t.Errorf("id %q, want %q", id, ds.Item(0).ID)
	}
	for _, c := range []struct {
		key  string
		want float64
	}{
		{"f", want.F}, {"precision", want.Precision}, {"recall", want.Recall},
		{"n_lines", float64(want.NLines)}, {"n_gt", float64(want.NGT)}, {"r", want.R},
	} {
		if d := rec[c.key] - c.want; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s = %v, want %v (Go evaluator)", c.key, rec[c.key], c.want)
		}
	}
	if rec["f"] <= 0.3 || rec["f"] > 1 || rec["ms"] <= 0 || rec["r"] != 3 {
		t.Errorf("implausible record %v", rec)
	}
}

// The York Urban variant in the snippet's comment works the same (skipped
// without the shared folder).
func TestAirlineSnippetYorkUrban(t *testing.T) {
	dir, ok := testsupport.YorkUrban()
	if !ok {
		t.Skip("York Urban not found under $BOHOST_SHARED (default ../shared); skipping the York Urban variant")
	}
	snippet := readmeSnippet(t)
	const synth = `airline.dataset{synthetic = {n = 2, seed = 1}}`
	if !strings.Contains(snippet, synth) {
		t.Fatalf("the snippet no longer opens %s:\n%s", synth, snippet)
	}
	york := strings.Replace(snippet, synth, `airline.dataset{dir = "`+filepath.ToSlash(dir)+`", split = "test"}`, 1)
	r := run(t, "", "-e", york)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	id, rec := parseRecord(t, r.stdout)
	if !strings.HasPrefix(id, "P") || rec["f"] <= 0.2 || rec["f"] > 1 || rec["n_gt"] <= 0 {
		t.Errorf("York Urban record %q %v", id, rec)
	}
}

// Bad inputs stop `bohost -e` with exit code 1 and a message naming the file
// or parameter, its valid range and the value received.
func TestAirlineBadInputs(t *testing.T) {
	dir := filepath.ToSlash(t.TempDir())
	write := func(name, body string) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.ToSlash(p)
	}
	write("garbage.png", "this is not a PNG")
	write("badjson/a.png", "x")
	write("badjson/a.json", `{"width": 10, "height": 10, "lines": [[1, 2, 3, 4],]}`)
	write("shortline/a.png", "x")
	write("shortline/a.json", `{"width": 10, "height": 10, "lines": [[1, 2, 3]]}`)
	write("corrupt/a.png", "not an image")
	write("corrupt/a.json", `{"width": 640, "height": 480, "lines": [[1, 2, 30, 40]]}`)
	// A PNG whose header reads (the data set opens) but whose pixels are cut off.
	var png bytes.Buffer
	if err := pngEncode(&png, 64, 48); err != nil {
		t.Fatal(err)
	}
	write("truncated/a.png", string(png.Bytes()[:png.Len()/2]))
	write("truncated/a.json", `{"width": 64, "height": 48, "lines": [[1, 2, 30, 40]]}`)
	write("nojson/a.png", "x")

	const pre = `local airline = require "bohost.airline"
		local ds = airline.dataset{synthetic = {n = 2, width = 160, height = 120, seed = 1}}
		local ev = airline.evaluator{}
	`
	for _, c := range []struct {
		name  string
		chunk string
		want  []string
	}{
		{"missing image file", `ev:detect(nil, "` + dir + `/nope.png")`,
			[]string{"io", dir + "/nope.png", "no such file"}},
		{"missing data set directory", `airline.dataset{dir = "` + dir + `/nowhere"}`,
			[]string{"io", dir + "/nowhere"}},
		{"unreadable image", `ev:detect(nil, "` + dir + `/garbage.png")`,
			[]string{"io", dir + "/garbage.png", "unknown format"}},
		{"unreadable image in a data set", `airline.dataset{dir = "` + dir + `/corrupt"}`,
			[]string{"io", dir + "/corrupt/a.png"}},
		{"truncated image in a data set", `local d = airline.dataset{dir = "` + dir + `/truncated"}; ev:eval(nil, d[1])`,
			[]string{"io", dir + "/truncated/a.png"}},
		{"truncated image in eval_many", `local d = airline.dataset{dir = "` + dir + `/truncated"}; ev:eval_many(nil, {ds[1], d[1]})`,
			[]string{"io", "image 2 of 2", dir + "/truncated/a.png"}},
		{"malformed JSON", `airline.dataset{dir = "` + dir + `/badjson"}`,
			[]string{"io", dir + "/badjson/a.json:1:", "malformed JSON"}},
		{"segment of 3 numbers", `airline.dataset{dir = "` + dir + `/shortline"}`,
			[]string{dir + "/shortline/a.json", "lines"}},
		{"image without annotation", `airline.dataset{dir = "` + dir + `/nojson"}`,
			[]string{"a.json"}},
		{"parameter above its bound", `ev:eval({100, 0.9, 0.03, -6, 0.6, 0.03, 12, 12}, ds[1])`,
			[]string{"bad_arg", "edge_thresh_q", "[-23, 7]", "got 100"}},
		{"parameter below its bound, by name", `ev:eval({sim_thresh_q = 0.2}, ds[1])`,
			[]string{"bad_arg", "sim_thresh_q", "[0.5, 0.99]", "got 0.2"}},
		{"weight out of bounds in eval_many", `ev:eval_many({-6, 0.9, 0.03, -6, 0.6, 0.03, 12, 25}, ds)`,
			[]string{"bad_arg", "w_qg", "[1, 20]", "got 25"}},
		{"NaN parameter", `ev:detect({w_q = 0/0}, ds[1])`,
			[]string{"bad_arg", "w_q", "finite"}},
		{"misspelt parameter", `ev:eval({edge_tresh_q = 0}, ds[1])`,
			[]string{"bad_arg", "edge_tresh_q", "did you mean 'edge_thresh_q'"}},
		{"wrong number of parameters", `ev:eval({1, 2, 3}, ds[1])`,
			[]string{"bad_arg", "3 values", "8 parameters"}},
		{"classical space parameter", `local c = airline.evaluator{space = "classical"}; c:eval({canny_low = 500}, ds[1])`,
			[]string{"bad_arg", "canny_low", "[10, 100]", "got 500"}},
		{"unknown evaluator option", `airline.evaluator{min_lenght = 5}`,
			[]string{"bad_arg", "min_lenght", "min_length"}},
		{"missing edge model", `airline.evaluator{edge_model = "` + dir + `/dexined.onnx"}`,
			[]string{"io", dir + "/dexined.onnx"}},
		{"unknown baseline", `airline.baseline("lds", ds[1])`,
			[]string{"bad_arg", `"lds"`, `did you mean "lsd"`}},
	} {
		r := run(t, "", "-e", pre+c.chunk)
		if r.code != ExitScriptError {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", c.name, r.code, ExitScriptError, r.stderr)
			continue
		}
		first, _, _ := strings.Cut(r.stderr, "\n")
		for _, w := range c.want {
			if !strings.Contains(first, w) {
				t.Errorf("%s: the error line does not mention %q:\n%s", c.name, w, first)
			}
		}
	}
}

// pngEncode writes a w x h grey gradient PNG.
func pngEncode(out io.Writer, w, h int) error {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	return png.Encode(out, g)
}

// scripts/tune_airline.lua runs end to end on the tiny synthetic set with
// both search methods and prints its table and summary line.
func TestTuneAirlineScriptSmoke(t *testing.T) {
	script := filepath.Join(testsupport.RepoRoot(), "scripts", "tune_airline.lua")
	for _, method := range []string{"random", "bo"} {
		r := run(t, "", script, "--smoke", "--quiet", "--method", method)
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", method, r.code, r.stderr)
		}
		for _, want := range []string{"| train | 4 | AirLine tuned |", "| test | 4 | OpenCV LSD |", "tuned x: {edge_thresh_q = ", "tune_airline: done: test F3 tuned "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: output lacks %q:\n%s", method, want, r.stdout)
			}
		}
		if r.stderr != "" {
			t.Errorf("%s: stderr not empty:\n%s", method, r.stderr)
		}
	}
	r := run(t, "", script, "--smoke", "--method", "grid")
	if r.code != ExitScriptError || !strings.Contains(r.stderr, "--method must be random or bo") {
		t.Errorf("bad --method: exit %d\n%s", r.code, r.stderr)
	}
}
