package journal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"bohost/host/errs"
)

type rec struct {
	Trial int     `json:"trial"`
	Y     float64 `json:"y"`
	Note  string  `json:"note,omitempty"`
}

func readRecs(t *testing.T, path string) ([]rec, Report, error) {
	t.Helper()
	var out []rec
	rep, err := ReadAll(path, func(line []byte) error {
		var r rec
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, rep, err
}

func TestAppendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trials.jsonl")
	w, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := w.Append(rec{Trial: i, Y: float64(i) / 3, Note: "line\nbreak"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec{}); !errs.Is(err, errs.BadState) {
		t.Errorf("append after close: got %v, want bad_state", err)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 5 {
		t.Errorf("file has %d newlines, want 5 (one per record)", n)
	}
	got, rep, err := readRecs(t, path)
	if err != nil || rep.Torn || rep.Lines != 5 {
		t.Fatalf("read: err=%v report=%+v", err, rep)
	}
	for i, r := range got {
		if r.Trial != i || r.Y != float64(i)/3 || r.Note != "line\nbreak" {
			t.Errorf("record %d = %+v", i, r)
		}
	}

	// Reopening appends after the existing records.
	w, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(rec{Trial: 5}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, _, err = readRecs(t, path)
	if err != nil || len(got) != 6 || got[5].Trial != 5 {
		t.Fatalf("after reopen: %v %+v", err, got)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := ReadAll(filepath.Join(t.TempDir(), "none.jsonl"), nil)
	if !errors.Is(err, fs.ErrNotExist) || !errs.Is(err, errs.IO) {
		t.Errorf("got %v, want io error wrapping fs.ErrNotExist", err)
	}
}

// TestTornAndCorrupt checks the reader's rules on hand-made files.
func TestTornAndCorrupt(t *testing.T) {
	good := `{"trial":0,"y":1}` + "\n" + `{"trial":1,"y":2}` + "\n"
	for _, tc := range []struct {
		name    string
		content string
		lines   int
		torn    bool
		tornAt  int64 // TornOffset
		badLine int   // >0: want an error naming this line
	}{
		{"clean", good, 2, false, 0, 0},
		{"empty", "", 0, false, 0, 0},
		{"blank lines", good + "\n  \n", 2, false, 0, 0},
		{"no newline valid json", good + `{"trial":2,"y":3}`, 2, true, int64(len(good)), 0},
		{"no newline partial", good + `{"trial":2,"y`, 2, true, int64(len(good)), 0},
		{"invalid last line", good + "{\"trial\":2,\n", 2, true, int64(len(good)), 0},
		{"two invalid at end", good + "{x\n{y\n", 2, true, int64(len(good)), 0},
		{"invalid then blank", good + "{x\n\n", 2, true, int64(len(good)), 0},
		{"bad in middle", `{"trial":0,"y":1}` + "\n" + "{garbage\n" + `{"trial":1,"y":2}` + "\n", 1, false, 0, 2},
		{"nul bytes then valid", "\x00\x00\x00\n" + good, 0, false, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, rep, err := readRecs(t, path)
			if tc.badLine > 0 {
				want := path + ":" + string(rune('0'+tc.badLine)) + ":"
				if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), want) {
					t.Fatalf("got err %v, want io error containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.lines || rep.Lines != tc.lines || rep.Torn != tc.torn {
				t.Fatalf("lines %d (report %d) torn %v; want %d torn %v", len(got), rep.Lines, rep.Torn, tc.lines, tc.torn)
			}
			if tc.torn {
				if rep.TornOffset != tc.tornAt || rep.TornBytes != int64(len(tc.content))-tc.tornAt || rep.String() == "" {
					t.Errorf("report %+v, want torn at %d", rep, tc.tornAt)
				}
				// Open without repair refuses; with repair it truncates and appends cleanly.
				if _, err := Open(path, nil); !errs.Is(err, errs.BadState) {
					t.Errorf("Open on torn file: got %v, want bad_state", err)
				}
				w, err := Open(path, &Options{TruncateTorn: true})
				if err != nil {
					t.Fatal(err)
				}
				if r := w.Repaired(); !r.Torn || r.TornOffset != tc.tornAt {
					t.Errorf("Repaired() = %+v", r)
				}
				if err := w.Append(rec{Trial: 9}); err != nil {
					t.Fatal(err)
				}
				w.Close()
				got, rep, err := readRecs(t, path)
				if err != nil || rep.Torn || len(got) != tc.lines+1 || got[len(got)-1].Trial != 9 {
					t.Fatalf("after repair: err=%v rep=%+v recs=%+v", err, rep, got)
				}
			}
		})
	}
}

// TestTruncateEveryLength cuts a journal at every byte length: reading never
// fails and yields exactly the records whose newline survived.
func TestTruncateEveryLength(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.jsonl")
	w, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		w.Append(rec{Trial: i, Y: 0.1 * float64(i), Note: "é"})
	}
	w.Close()
	full, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.jsonl")
	for n := 0; n <= len(full); n++ {
		os.WriteFile(cut, full[:n], 0o644)
		got, rep, err := readRecs(t, cut)
		if err != nil {
			t.Fatalf("length %d: %v", n, err)
		}
		want := strings.Count(string(full[:n]), "\n")
		if len(got) != want {
			t.Fatalf("length %d: %d records, want %d", n, len(got), want)
		}
		if rep.Torn != (n > 0 && full[n-1] != '\n') {
			t.Fatalf("length %d: torn=%v", n, rep.Torn)
		}
	}
}

func TestCallbackError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	os.WriteFile(path, []byte("{\"a\":1}\n[1,2]\n"), 0o644)
	_, err := ReadAll(path, func(line []byte) error {
		var m map[string]int
		return json.Unmarshal(line, &m)
	})
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("got %v, want an error naming %s:2", err, path)
	}
}

func TestExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	w, err := Open(path, &Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, &Options{Exclusive: true}); !errs.Is(err, errs.BadState) {
		t.Errorf("second exclusive open: got %v, want bad_state", err)
	}
	w.Close()
	w2, err := Open(path, &Options{Exclusive: true})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	w2.Close()
}

func TestAppendErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	w, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(map[string]any{"f": func() {}}); !errs.Is(err, errs.BadArg) {
		t.Errorf("unmarshalable: got %v, want bad_arg", err)
	}
	if err := w.AppendRaw([]byte("{\"a\":\n1}")); !errs.Is(err, errs.BadArg) {
		t.Errorf("raw with newline: got %v, want bad_arg", err)
	}
	if err := w.AppendRaw([]byte("{")); !errs.Is(err, errs.BadArg) {
		t.Errorf("invalid raw: got %v, want bad_arg", err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	w, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := w.Append(rec{Trial: g*100 + i, Note: strings.Repeat("x", 1000)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	got, rep, err := readRecs(t, path)
	if err != nil || rep.Torn || len(got) != 100 {
		t.Fatalf("err=%v rep=%+v n=%d", err, rep, len(got))
	}
}

// TestCutEndIsSaved: what Open cuts off (a torn write, or invalid complete
// lines at the end, which may be a record damaged by hand or by the disk)
// is saved byte for byte beside the journal before the file is truncated.
func TestCutEndIsSaved(t *testing.T) {
	for _, end := range []string{`{"a": 3`, "A\n", "{\"a\": 3, \"b\": tru\n\n", "\x00\x00\x00\x00"} {
		p := filepath.Join(t.TempDir(), "j.jsonl")
		good := "{\"a\": 1}\n{\"a\": 2}\n"
		os.WriteFile(p, []byte(good+end), 0o644)
		w, err := Open(p, &Options{TruncateTorn: true})
		if err != nil {
			t.Fatalf("%q: %v", end, err)
		}
		rep := w.Repaired()
		w.Close()
		b, _ := os.ReadFile(p)
		if string(b) != good {
			t.Fatalf("%q: journal after repair %q", end, b)
		}
		saved, err := os.ReadFile(rep.SavedTo)
		if err != nil || string(saved) != end {
			t.Fatalf("%q: saved %q to %q (%v)", end, saved, rep.SavedTo, err)
		}
		if !strings.Contains(rep.String(), rep.SavedTo) {
			t.Errorf("the report does not say where the bytes went: %s", rep.String())
		}
		// A second cut at the same offset does not overwrite the first.
		os.WriteFile(p, []byte(good+"B\n"), 0o644)
		w, err = Open(p, &Options{TruncateTorn: true})
		if err != nil {
			t.Fatal(err)
		}
		rep2 := w.Repaired()
		w.Close()
		if rep2.SavedTo == rep.SavedTo {
			t.Fatalf("second cut saved over the first: %s", rep2.SavedTo)
		}
		if b, _ := os.ReadFile(rep.SavedTo); string(b) != end {
			t.Fatalf("first saved end changed to %q", b)
		}
	}
}
