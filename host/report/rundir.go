package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"bohost/host/errs"
)

// Warning kinds.
const (
	WarnMissing   = "missing"   // a file or field the report wanted is absent
	WarnMalformed = "malformed" // a file or line could not be decoded and was skipped
	WarnFallback  = "fallback"  // a value came from a second-best source
	WarnNote      = "note"      // anything else worth knowing (duplicates, empty groups)
)

// Warning says what the report could not use, for which run, from which
// file and line (0 when it is about the whole file).
type Warning struct {
	Run  string // run name (its path relative to the given directory); "" for the whole report
	Kind string // WarnMissing, WarnMalformed, WarnFallback or WarnNote
	File string // file name inside the run directory, e.g. "trials.jsonl"
	Line int    // 1-based line, 0 for the whole file
	Msg  string
}

func (w Warning) String() string {
	var b strings.Builder
	if w.Run != "" {
		b.WriteString(w.Run)
		b.WriteString(": ")
	}
	if w.File != "" {
		b.WriteString(w.File)
		if w.Line > 0 {
			fmt.Fprintf(&b, ":%d", w.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(w.Kind)
	b.WriteString(": ")
	b.WriteString(w.Msg)
	return b.String()
}

// Space is config.json's search space. Scale is "linear" or "log" per
// dimension (a single string in the file applies to all).
type Space struct {
	Names []string  `json:"names"`
	Lo    []float64 `json:"lo"`
	Hi    []float64 `json:"hi"`
	Scale scales    `json:"scale"`
}

// UnmarshalJSON accepts the columnar form {"names","lo","hi","scale"} and
// the list form host/run writes: [{"name","lo","hi","scale"}, ...].
func (sp *Space) UnmarshalJSON(b []byte) error {
	var list []struct {
		Name  string  `json:"name"`
		Lo    float64 `json:"lo"`
		Hi    float64 `json:"hi"`
		Scale string  `json:"scale"`
	}
	if err := json.Unmarshal(b, &list); err == nil {
		*sp = Space{}
		for _, p := range list {
			sp.Names = append(sp.Names, p.Name)
			sp.Lo = append(sp.Lo, p.Lo)
			sp.Hi = append(sp.Hi, p.Hi)
			sc := p.Scale
			if sc == "" {
				sc = "linear"
			}
			sp.Scale = append(sp.Scale, sc)
		}
		return nil
	}
	type columnar Space
	var c columnar
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	*sp = Space(c)
	return nil
}

type scales []string

func (s *scales) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = scales{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Config holds the fields of config.json the report uses.
type Config struct {
	Format        int             `json:"format"`
	BohostVersion string          `json:"bohost_version"`
	Space         Space           `json:"space"`
	Alpha         *float64        `json:"alpha"`
	Convention    string          `json:"convention"`
	NW            int             `json:"n_w"`
	Acquisition   string          `json:"acquisition"`
	NInitial      int             `json:"n_initial"`
	Iterations    int             `json:"iterations"`
	Seed          *json.Number    `json:"seed"`
	Objective     json.RawMessage `json:"objective"` // a string or the objective spec object
	Sweep         *SweepInfo      `json:"sweep"`     // what the sweep script recorded (free-form; these keys are read)
	Env           EnvInfo         `json:"env"`       // the environment list's description
}

// EnvInfo is config.json's env: {"kind": "list" | "box", "n": N, ...}.
type EnvInfo struct {
	Kind string `json:"kind"`
	N    int    `json:"n"`
}

// UnmarshalJSON accepts any JSON value: what the report cannot read is left
// zero, never a decoding error.
func (e *EnvInfo) UnmarshalJSON(b []byte) error {
	var v struct {
		Kind json.RawMessage `json:"kind"`
		N    json.RawMessage `json:"n"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	_ = json.Unmarshal(v.Kind, &e.Kind)
	_ = json.Unmarshal(v.N, &e.N)
	return nil
}

// SweepInfo is the part of config.json's free-form sweep the report reads:
// scripts/alpha_sweep.lua records role "reference" for the risk-neutral
// reference run and "alpha" for the others; scripts/baselines.lua role
// "baseline" with the baseline's name ("defaults", "random search", "EI on
// the mean"), tuned false for a run that only scored fixed parameters (no
// optimisation: no trials, iterations or monitor), and varies, the settings
// it is meant to differ in from the reference.
type SweepInfo struct {
	Alphas []float64 `json:"alphas"`
	Role   string    `json:"role"`
	Name   string    `json:"name"`
	Tuned  *bool     `json:"tuned"`
	Varies []string  `json:"varies"`
}

// UnmarshalJSON accepts any JSON value: a sweep field the report does not
// understand is ignored (it is free-form), never a decoding error.
func (si *SweepInfo) UnmarshalJSON(b []byte) error {
	var v struct {
		Alphas json.RawMessage `json:"alphas"`
		Role   json.RawMessage `json:"role"`
		Name   json.RawMessage `json:"name"`
		Tuned  json.RawMessage `json:"tuned"`
		Varies json.RawMessage `json:"varies"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	_ = json.Unmarshal(v.Alphas, &si.Alphas)
	_ = json.Unmarshal(v.Role, &si.Role)
	_ = json.Unmarshal(v.Name, &si.Name)
	_ = json.Unmarshal(v.Tuned, &si.Tuned)
	_ = json.Unmarshal(v.Varies, &si.Varies)
	return nil
}

// Holdout is holdout.json: the run's recommended x scored on held-out images
// (written by scripts/alpha_sweep.lua and scripts/holdout.lua).
type Holdout struct {
	Format     int        `json:"format"`
	Split      string     `json:"split"`
	Score      string     `json:"score"` // the score field, e.g. "f"
	XVec       []float64  `json:"x_vec"`
	DataSHA256 string     `json:"data_sha256"`
	EnvIDs     []string   `json:"env_ids"`
	Scores     []*float64 `json:"scores"` // null where the evaluation failed
}

// Death describes a worker that died during a trial.
type Death struct {
	Signal   string  `json:"signal"`
	ExitCode int     `json:"exit_code"`
	PID      int     `json:"pid"`
	Phase    string  `json:"phase"`
	PeakRSS  float64 `json:"peak_rss_bytes"`
	OOMDelta any     `json:"oom_kill_delta"` // a count, or "unavailable"
}

// Trial is one line of trials.jsonl.
type Trial struct {
	Trial     int            `json:"trial"`
	Iteration int            `json:"iteration"`
	ElapsedS  float64        `json:"elapsed_s"`
	X         map[string]any `json:"x"`
	XVec      []float64      `json:"x_vec"`
	EnvIndex  int            `json:"env_index"`
	EnvID     string         `json:"env_id"`
	Status    string         `json:"status"`
	Y         *float64       `json:"y"`
	Told      *float64       `json:"told"`
	Seconds   float64        `json:"seconds"`
	Worker    int            `json:"worker"`
	PeakRSS   float64        `json:"peak_rss_bytes"`
	Death     *Death         `json:"death"`
	Score     trialScore     `json:"score"` // which metric and r (metriclabel.go)
}

// Iteration is one line of iterations.jsonl.
type Iteration struct {
	Iteration        int            `json:"iteration"`
	ElapsedS         float64        `json:"elapsed_s"`
	NTrials          *int           `json:"n_trials"`
	RecommendedX     map[string]any `json:"recommended_x"`
	RecommendedXVec  []float64      `json:"recommended_x_vec"`
	PosteriorCVaR    *float64       `json:"posterior_cvar"`
	PosteriorMean    *float64       `json:"posterior_mean"`
	BestObservedCVaR *float64       `json:"best_observed_cvar"`
	AcqValue         *float64       `json:"acq_value"`
	FitS             float64        `json:"fit_s"`
	AcqS             float64        `json:"acq_s"`
}

// Event is one line of events.jsonl.
type Event struct {
	ElapsedS float64 `json:"elapsed_s"`
	Event    string  `json:"event"`
	Msg      string  `json:"msg"`
}

// FinalImage is summary.json's final_eval.best or .worst.
type FinalImage struct {
	EnvID string      `json:"env_id"`
	Image string      `json:"image"`
	Score *float64    `json:"score"`
	Lines [][]float64 `json:"lines"`
	GT    [][]float64 `json:"gt"`
}

// FinalEval is summary.json's final_eval.
type FinalEval struct {
	EnvIDs []string    `json:"env_ids"`
	Scores []*float64  `json:"scores"`
	CVaR   *float64    `json:"cvar"`
	Mean   *float64    `json:"mean"`
	Best   *FinalImage `json:"best"`
	Worst  *FinalImage `json:"worst"`
}

// Summary is summary.json.
type Summary struct {
	Status           string         `json:"status"`
	Reason           string         `json:"reason"`
	Iterations       *int           `json:"iterations"`
	Trials           *int           `json:"trials"`
	Alpha            *float64       `json:"alpha"`
	Convention       string         `json:"convention"`
	NW               int            `json:"n_w"`
	Seed             *json.Number   `json:"seed"`
	Acquisition      string         `json:"acquisition"`
	RecommendedX     map[string]any `json:"recommended_x"`
	RecommendedXVec  []float64      `json:"recommended_x_vec"`
	PosteriorCVaR    *float64       `json:"posterior_cvar"`
	BestObservedCVaR *float64       `json:"best_observed_cvar"`
	FinalEval        *FinalEval     `json:"final_eval"`
	Failures         map[string]int `json:"failures"`
	WallS            *float64       `json:"wall_s"`
	PeakRSS          *float64       `json:"peak_rss_bytes"`
}

// Monitor is monitor.csv by column; an empty or unparsable cell is NaN.
type Monitor struct {
	Columns map[string][]float64
	Rows    int
}

// Col returns the named column, or nil when the file has no such column or
// every cell of it is empty.
func (m *Monitor) Col(name string) []float64 {
	if m == nil {
		return nil
	}
	c := m.Columns[name]
	for _, v := range c {
		if !math.IsNaN(v) {
			return c
		}
	}
	return nil
}

// Run is everything read from one run directory. Absent files leave their
// field nil (or empty) and add a warning.
type Run struct {
	Dir        string // path as found
	Name       string // label: path relative to the directory it was found under
	Alpha      float64
	Convention string
	Seed       int64

	Config     *Config
	ConfigRaw  json.RawMessage // config.json as written (valid JSON), for comparing settings
	Trials     []Trial
	Iterations []Iteration
	Events     []Event
	Summary    *Summary
	Monitor    *Monitor
	Holdout    *Holdout // nil without holdout.json (an optional file)

	// Reference is true for the risk-neutral reference: a run whose
	// recorded objective is the mean over environments (alpha 1 under the
	// bohost convention: CVaR_1 is the mean). scripts/alpha_sweep.lua also
	// records sweep.role = "reference" in its config.json.
	Reference bool
	// Baseline names a baseline run (config.json sweep.role "baseline":
	// default parameters, random search, plain EI on the mean); "" for the
	// reference and the alphas. Baselines are never the reference, whatever
	// their alpha, and form groups of their own.
	Baseline string
	// ScoredOnly marks a baseline that scored fixed parameters without
	// optimising (sweep.tuned false): it has no trials, iterations, events
	// or monitor, and their absence is not reported.
	ScoredOnly bool

	Warnings []Warning
}

func (r *Run) warn(kind, file string, line int, format string, args ...any) {
	r.Warnings = append(r.Warnings, Warning{Run: r.Name, Kind: kind, File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// FindRuns returns the run directories (those holding config.json) at or
// below each path, sorted and without duplicates, each with a name relative
// to the path it was found under. It does not descend into a run directory.
func FindRuns(paths []string) (dirs, names []string, err error) {
	const op = "report.find"
	seen := map[string]bool{}
	type found struct{ dir, name string }
	var all []found
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			return nil, nil, errs.New(errs.BadArg, op, "sweep directory %q: %v", root, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return nil, nil, errs.New(errs.BadArg, op, "sweep path %q is not a directory", root)
		}
		var local []found
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				return nil // unreadable subfolder: skip it
			}
			if !d.IsDir() {
				return nil
			}
			if _, err := os.Stat(filepath.Join(p, "config.json")); err != nil {
				return nil
			}
			abs, _ := filepath.Abs(p)
			if !seen[abs] {
				seen[abs] = true
				rel, _ := filepath.Rel(root, p)
				if rel == "." || rel == "" {
					rel = filepath.Base(abs)
				}
				local = append(local, found{p, filepath.ToSlash(rel)})
			}
			return filepath.SkipDir
		})
		if err != nil {
			return nil, nil, errs.Wrap(errs.IO, op, err)
		}
		sort.Slice(local, func(i, j int) bool { return local[i].name < local[j].name })
		all = append(all, local...)
	}
	// Names must be unique even across sweeps.
	used := map[string]int{}
	for _, f := range all {
		name := f.name
		if n := used[f.name]; n > 0 {
			name = fmt.Sprintf("%s#%d", f.name, n+1)
		}
		used[f.name]++
		dirs = append(dirs, f.dir)
		names = append(names, name)
	}
	return dirs, names, nil
}

var (
	alphaDir = regexp.MustCompile(`alpha[_=-]?([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)`)
	seedDir  = regexp.MustCompile(`seed[_=-]?([0-9]+)`)
)

// LoadRun reads a run directory. It never fails: whatever is missing or
// malformed becomes a warning in Run.Warnings, naming the file and line.
func LoadRun(dir, name string) *Run {
	r := &Run{Dir: dir, Name: name, Alpha: math.NaN(), Convention: "bohost"}

	if b, ok := r.readFile("config.json", "it holds alpha, seed and the space bounds"); ok {
		if json.Valid(b) {
			r.ConfigRaw = b
		}
		var c Config
		if err := json.Unmarshal(b, &c); err != nil {
			r.warn(WarnMalformed, "config.json", jsonLine(b, err), "%v", err)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				r.Config = &c // the other fields decoded
			}
		} else {
			r.Config = &c
		}
	}
	if b, ok := r.readFile("summary.json", "the run did not finish; final values come from iterations.jsonl"); ok {
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			r.warn(WarnMalformed, "summary.json", jsonLine(b, err), "%v", err)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				r.Summary = &s
			}
		} else {
			r.Summary = &s
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "holdout.json")); err == nil {
		var h Holdout
		if err := json.Unmarshal(b, &h); err != nil {
			r.warn(WarnMalformed, "holdout.json", jsonLine(b, err), "%v; no held-out scores for this run", err)
		} else if len(h.EnvIDs) != len(h.Scores) {
			r.warn(WarnMalformed, "holdout.json", 0, "%d env_ids but %d scores; no held-out scores for this run", len(h.EnvIDs), len(h.Scores))
		} else {
			r.Holdout = &h
		}
	}
	readJSONL(r, "trials.jsonl", &r.Trials)
	readJSONL(r, "iterations.jsonl", &r.Iterations)
	r.Trials = lastOf(r, "trials.jsonl", "trial", r.Trials, func(t Trial) int { return t.Trial })
	r.Iterations = lastOf(r, "iterations.jsonl", "iteration", r.Iterations, func(it Iteration) int { return it.Iteration })
	readJSONL(r, "events.jsonl", &r.Events)
	r.Monitor = readMonitor(r)

	// Identity: config first, then summary, then the directory name.
	switch {
	case r.Config != nil && r.Config.Alpha != nil:
		r.Alpha = *r.Config.Alpha
	case r.Summary != nil && r.Summary.Alpha != nil:
		r.Alpha = *r.Summary.Alpha
		r.warn(WarnFallback, "config.json", 0, "no alpha; using summary.json's alpha %g", r.Alpha)
	default:
		if m := alphaDir.FindStringSubmatch(dir); m != nil {
			r.Alpha, _ = strconv.ParseFloat(m[1], 64)
			r.warn(WarnFallback, "config.json", 0, "no alpha; using %g from the directory name", r.Alpha)
		} else {
			r.warn(WarnMissing, "config.json", 0, "no alpha in config.json, summary.json or the directory name; the run is grouped under alpha = NaN")
		}
	}
	switch {
	case r.Config != nil && r.Config.Convention != "":
		r.Convention = r.Config.Convention
	case r.Summary != nil && r.Summary.Convention != "":
		r.Convention = r.Summary.Convention
	}
	r.Reference = r.Alpha == 1 && r.Convention == "bohost"
	if sw := r.sweep(); sw != nil && sw.Role == "baseline" {
		r.Reference, r.Baseline = false, sw.Name
		if r.Baseline == "" {
			r.Baseline = "baseline"
		}
		if sw.Tuned != nil && !*sw.Tuned {
			r.ScoredOnly = true
			kept := r.Warnings[:0]
			for _, w := range r.Warnings {
				switch w.File {
				case "trials.jsonl", "iterations.jsonl", "events.jsonl", "monitor.csv":
					if w.Kind == WarnMissing {
						continue
					}
				}
				kept = append(kept, w)
			}
			r.Warnings = kept
		}
	}
	if r.Config != nil && r.Config.Sweep != nil && r.Config.Sweep.Role == "reference" && !r.Reference {
		r.warn(WarnNote, "config.json", 0, "sweep.role is \"reference\" but the objective is CVaR at alpha %g (%s), not the mean: treated as an alpha", r.Alpha, r.Convention)
	}
	seed := func(file string, n *json.Number) bool {
		if n == nil {
			return false
		}
		if v, err := n.Int64(); err == nil {
			r.Seed = v
			return true
		}
		if v, err := n.Float64(); err == nil && v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			r.Seed = int64(v)
			return true
		}
		r.warn(WarnMalformed, file, 0, "seed %s is not an integer", n.String())
		return false
	}
	switch {
	case r.Config != nil && seed("config.json", r.Config.Seed):
	case r.Summary != nil && seed("summary.json", r.Summary.Seed):
	default:
		if m := seedDir.FindStringSubmatch(dir); m != nil {
			r.Seed, _ = strconv.ParseInt(m[1], 10, 64)
			r.warn(WarnFallback, "config.json", 0, "no seed; using %d from the directory name", r.Seed)
		} else {
			r.warn(WarnMissing, "config.json", 0, "no seed; using 0")
		}
	}
	return r
}

// readFile reads a whole file of the run; a missing file is a warning whose
// message says what its absence means.
func (r *Run) readFile(file, meaning string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(r.Dir, file))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.warn(WarnMissing, file, 0, "file not found (%s)", meaning)
		} else {
			r.warn(WarnMissing, file, 0, "cannot read: %v", err)
		}
		return nil, false
	}
	return b, true
}

// jsonLine returns the 1-based line of a JSON syntax error in b, or 0.
func jsonLine(b []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && int(se.Offset) <= len(b) {
		return 1 + bytes.Count(b[:se.Offset], []byte("\n"))
	}
	return 0
}

var jsonlMeaning = map[string]string{
	"trials.jsonl":     "no parameter points or failure counts from trials",
	"iterations.jsonl": "no convergence curves or parameter traces for this run",
	"events.jsonl":     "worker deaths are taken from trials.jsonl",
}

// readJSONL decodes one JSON object per line into *dst, skipping blank
// lines. A line that does not decode is skipped with a warning; a last line
// without its newline is reported as torn.
func readJSONL[T any](r *Run, file string, dst *[]T) {
	b, ok := r.readFile(file, jsonlMeaning[file])
	if !ok {
		return
	}
	br := bufio.NewReader(bytes.NewReader(b))
	for line := 1; ; line++ {
		s, err := br.ReadBytes('\n')
		if len(s) == 0 && err != nil {
			break
		}
		torn := err == io.EOF
		t := bytes.TrimSpace(s)
		if len(t) == 0 {
			continue
		}
		var v T
		if e := json.Unmarshal(t, &v); e != nil {
			if torn {
				r.warn(WarnMalformed, file, line, "torn last line (no newline, does not decode: %v); the run was probably stopped while writing it; line skipped", e)
			} else {
				r.warn(WarnMalformed, file, line, "line does not decode: %v; line skipped", e)
			}
			continue
		}
		*dst = append(*dst, v)
	}
	if len(*dst) == 0 {
		r.warn(WarnMissing, file, 0, "no records (%s)", jsonlMeaning[file])
	}
}

// MonitorColumns is the header monitor.csv is expected to have.
var MonitorColumns = []string{"time", "elapsed_s", "iteration", "cpu_pct", "host_rss_bytes",
	"workers_rss_bytes", "go_heap_bytes", "gpu_used_bytes", "gpu_total_bytes", "gpu_pool_bytes", "workers_gpu_bytes"}

func readMonitor(r *Run) *Monitor {
	const file = "monitor.csv"
	b, ok := r.readFile(file, "no memory figure for this run")
	if !ok {
		return nil
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		r.warn(WarnMalformed, file, 1, "no readable header: %v", err)
		return nil
	}
	header = append([]string(nil), header...)
	if _, ok := indexOf(header, "elapsed_s"); !ok {
		r.warn(WarnMalformed, file, 1, "header has no elapsed_s column (got %q)", strings.Join(header, ","))
		return nil
	}
	type row struct {
		line int
		rec  []string
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				r.warn(WarnMalformed, file, 0, "%v; rest of file skipped", err)
				break
			}
			r.warn(WarnMalformed, file, pe.StartLine, "%v; row skipped", pe.Err)
			continue
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, row{line, append([]string(nil), rec...)})
	}
	endsNL := b[len(b)-1] == '\n'
	m := &Monitor{Columns: map[string][]float64{}}
	for k, rw := range rows {
		rec, line := rw.rec, rw.line
		if len(rec) != len(header) {
			if k == len(rows)-1 && !endsNL {
				r.warn(WarnMalformed, file, line, "torn last row: %d cells, header has %d (the run was probably stopped while writing it); row skipped", len(rec), len(header))
			} else {
				r.warn(WarnMalformed, file, line, "row has %d cells, header has %d; row skipped", len(rec), len(header))
			}
			continue
		}
		bad := ""
		vals := make([]float64, len(rec))
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			vals[i] = math.NaN()
			if cell == "" || header[i] == "time" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				if bad == "" {
					bad = fmt.Sprintf("column %s: %q is not a number", header[i], cell)
				}
				continue
			}
			vals[i] = v
		}
		if bad != "" {
			r.warn(WarnMalformed, file, line, "%s; cell left empty", bad)
		}
		for i, h := range header {
			m.Columns[h] = append(m.Columns[h], vals[i])
		}
		m.Rows++
	}
	if m.Rows == 0 {
		r.warn(WarnMissing, file, 0, "no data rows (no memory figure for this run)")
		return nil
	}
	return m
}

func indexOf(xs []string, s string) (int, bool) {
	for i, x := range xs {
		if x == s {
			return i, true
		}
	}
	return -1, false
}

// lastOf keeps the last record of each number (a resumed run may journal an
// iteration or trial again), in order of that last appearance.
func lastOf[T any](r *Run, file, what string, recs []T, num func(T) int) []T {
	last := make(map[int]int, len(recs))
	for i, v := range recs {
		last[num(v)] = i
	}
	if len(last) == len(recs) {
		return recs
	}
	out := make([]T, 0, len(last))
	for i, v := range recs {
		if last[num(v)] == i {
			out = append(out, v)
		}
	}
	r.warn(WarnNote, file, 0, "%d records repeat an earlier %s number (a resume?); the last record of each is used", len(recs)-len(out), what)
	return out
}

// sweep is config.json's sweep, nil without one.
func (r *Run) sweep() *SweepInfo {
	if r.Config == nil {
		return nil
	}
	return r.Config.Sweep
}
