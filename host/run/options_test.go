package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"bohost/host/bo"
	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/objective"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func jsonName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return n
}

// TestConfigRecordsEveryOption: an option is declared once, as a field of
// Config with its json tag. Every field has one (a field without would be
// recorded under its Go name), and every field but Dir, Script and Args (in
// args.json) goes to config.json and comes back from ReadConfig, whatever
// it is: this test sets each field by reflection, so a field added tomorrow
// is checked with no edit here. (bindings' TestEveryRunOptionIsSettableFromLua
// checks the Lua side the same way.)
func TestConfigRecordsEveryOption(t *testing.T) {
	ct := reflect.TypeFor[Config]()
	notRecorded := map[string]bool{"Dir": true, "Script": true, "Args": true}
	for i := range ct.NumField() {
		f := ct.Field(i)
		switch n := jsonName(f); {
		case n == "-":
			if !notRecorded[f.Name] {
				t.Errorf("Config.%s is json:\"-\": config.json would not record it (a resume could not check it, replay not rebuild it)", f.Name)
			}
		case !snakeCase.MatchString(n):
			t.Errorf("Config.%s: json name %q: options are snake_case, named as Lua and config.json spell them", f.Name, n)
		}
	}
	// config.json's own summary fields must not hide an option.
	own := map[string]bool{}
	ft := reflect.TypeFor[configFile]()
	for i := range ft.NumField() {
		if f := ft.Field(i); !f.Anonymous {
			own[jsonName(f)] = true
		}
	}
	for i := range ct.NumField() {
		if n := jsonName(ct.Field(i)); own[n] {
			t.Errorf("Config.%s's json name %q is also a summary field of config.json, which hides it", ct.Field(i).Name, n)
		}
	}

	var cfg Config
	fill(reflect.ValueOf(&cfg).Elem())
	cfg.Objective = json.RawMessage(`{"lua":{"file":"/abs/objective.lua","fn":"evaluate"}}`)
	cf, err := newConfigFile(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeJSONAtomic(filepath.Join(dir, ConfigFile), cf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.Dir, want.Script, want.Args = "", "", nil
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range ct.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("Config.%s: config.json gave back %#v, want %#v", ct.Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

// fill sets every field reachable from v to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(5)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf("v"))
		} else {
			fill(e)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// TestValidationSpeaksLua: whatever field of a run's configuration is
// wrong (its optimiser's, its GP's included), Validate names it as Lua and
// config.json do (workers, optimizer.n_w, optimizer.space[2],
// optimizer.gp.noise_floor), never by a Go field name (NW, MaxRSSBytes).
// Each field reachable from Config is set, one at a time, to values that
// are often wrong; a field added tomorrow is tried with no edit here.
func TestValidationSpeaksLua(t *testing.T) {
	goNames := map[string]bool{}
	collectGoNames(reflect.TypeFor[Config](), goNames, map[reflect.Type]bool{})
	var words []string
	for n := range goNames {
		words = append(words, n)
	}
	goName := regexp.MustCompile(`\b(` + strings.Join(words, "|") + `)\b`)
	path := regexp.MustCompile(`^[a-z][a-z0-9_]*(\[\d+\])*(\.[a-z][a-z0-9_]*(\[\d+\])*)*[ :]`)

	bases := []func() Config{
		func() Config { // continuous w, every optimiser option set
			g := gp.DefaultOptions()
			return Config{Dir: "d", Objective: json.RawMessage(`{"lua":{"file":"/o.lua","fn":"f"}}`), MaxRSS: "1GiB",
				Optimizer: bo.Config{Space: [][2]float64{{0.1, 1}, {0, 1}}, Names: []string{"a", "b"}, Scales: []string{"log", "linear"},
					Env: bo.Env{Bounds: [][2]float64{{0, 1}}, Select: bo.SelectSobol}, Alpha: 0.3, NW: 4, Acquisition: bo.AcqUCB,
					Mode: bo.ModeAllW, NInitial: 3, Design: bo.DesignTorch, GP: &g, MCSamples: 8, Fantasies: 4, UCBBeta: 1,
					RecommendFrom: "evaluated", RecommendNW: 4, HyperSamples: 2, OutlierFactor: 100}}
		},
		func() Config { // finite environments, a fixed W set
			return Config{Dir: "d", Objective: json.RawMessage(`{"lua":{"file":"/o.lua","fn":"f"}}`), OnFailure: FailRetry, Retries: 2,
				Optimizer: bo.Config{Space: [][2]float64{{0, 1}}, Alpha: 0.5, NW: 2, Acquisition: bo.AcqRandom,
					Env: bo.Env{List: [][]float64{{1, 2}, {3, 4}, {5, 6}}, Select: bo.SelectFixed, Indices: []int{0, 2}}}}
		},
	}
	seen := map[string]bool{}
	for bi, base := range bases {
		if c := base(); c.Validate() != nil {
			t.Fatalf("base %d: %v", bi, c.Validate())
		}
		c0 := base()
		n := len(leaves(reflect.ValueOf(&c0).Elem(), ""))
		for i := range n {
			for j := 0; ; j++ {
				c := base()
				l := leaves(reflect.ValueOf(&c).Elem(), "")[i]
				if !setBad(l.v, j) {
					break
				}
				err := c.Validate()
				if err == nil {
					continue
				}
				var e *errs.Error
				msg := err.Error()
				switch {
				case !errors.As(err, &e) || e.Kind != errs.BadArg:
					t.Errorf("%s = bad value %d: %v is not a bad_arg error", l.path, j, err)
				case goName.MatchString(e.Msg):
					t.Errorf("%s = bad value %d: %q names the Go field %s: name it as Lua and config.json do", l.path, j, e.Msg, goName.FindString(e.Msg))
				case !path.MatchString(e.Msg):
					t.Errorf("%s = bad value %d: %q does not start with the option's name", l.path, j, e.Msg)
				}
				seen[msg] = true
			}
		}
	}
	if len(seen) < 40 {
		t.Errorf("only %d distinct messages: the mutation walk lost its way", len(seen))
	}

	// The airline objective's spec (bo.run's objective.airline) too: its
	// Validate relays the data set's, the perturbations' and AirLine's.
	goNames = map[string]bool{}
	collectGoNames(reflect.TypeFor[objective.AirlineSpec](), goNames, map[reflect.Type]bool{})
	words = words[:0]
	for n := range goNames {
		words = append(words, n)
	}
	goName = regexp.MustCompile(`\b(` + strings.Join(words, "|") + `)\b`)
	spec := func() objective.AirlineSpec {
		return objective.AirlineSpec{Synth: dataset.SynthOptions{N: 2}, Perturbations: []objective.Perturbation{{Gain: 1, Contrast: 1}}}
	}
	s0 := spec()
	if err := s0.Validate(); err != nil {
		t.Fatal(err)
	}
	n := len(leaves(reflect.ValueOf(&s0).Elem(), ""))
	for i := range n {
		for j := 0; ; j++ {
			s := spec()
			l := leaves(reflect.ValueOf(&s).Elem(), "")[i]
			if !setBad(l.v, j) {
				break
			}
			if err := s.Validate(); err != nil {
				var e *errs.Error
				switch {
				case !errors.As(err, &e) || e.Kind != errs.BadArg:
					t.Errorf("airline%s = bad value %d: %v is not a bad_arg error", l.path, j, err)
				case goName.MatchString(e.Msg):
					t.Errorf("airline%s = bad value %d: %q names the Go field %s", l.path, j, e.Msg, goName.FindString(e.Msg))
				case !path.MatchString(e.Msg):
					t.Errorf("airline%s = bad value %d: %q does not start with the option's name", l.path, j, e.Msg)
				}
			}
		}
	}
}

// collectGoNames gathers the Go names of the fields reachable from t that
// differ from their JSON names.
func collectGoNames(t reflect.Type, out map[string]bool, done map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || done[t] {
		return
	}
	done[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && jsonName(f) != f.Name {
			out[f.Name] = true
		}
		collectGoNames(f.Type, out, done)
	}
}

type leaf struct {
	v    reflect.Value
	path string
}

// leaves lists the settable values reachable from v: every field, element,
// pointer and slice (also as a whole), depth first.
func leaves(v reflect.Value, path string) []leaf {
	out := []leaf{{v, path}}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out = append(out, leaves(v.Elem(), path)...)
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			return out
		}
		for i := range v.Len() {
			out = append(out, leaves(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, leaves(v.Field(i), path+"."+f.Name)...)
			}
		}
	}
	return out
}

// setBad sets v to the j-th often-wrong value of its kind; false when there
// is none left.
func setBad(v reflect.Value, j int) bool {
	ints := []int64{0, -1, -1000, 5000, 1 << 40}
	floats := []float64{0, -1, 0.5, 2, 2000, math.NaN(), math.Inf(1), math.Inf(-1)}
	strs := []string{"", "bogus", "log", "fixed", "snap", "sobol", "torch", "pair", "rho_kg", "retry", "{"}
	switch {
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		raws := []string{"", "{", `{"airline":{}}`}
		if j >= len(raws) {
			return false
		}
		v.SetBytes([]byte(raws[j]))
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Map:
		if j > 0 {
			return false
		}
		v.SetZero()
	case v.CanInt():
		if j >= len(ints) {
			return false
		}
		v.SetInt(ints[j])
	case v.CanUint():
		if j >= 2 {
			return false
		}
		v.SetUint([]uint64{0, 1 << 60}[j])
	case v.CanFloat():
		if j >= len(floats) {
			return false
		}
		v.SetFloat(floats[j])
	case v.Kind() == reflect.String:
		if j >= len(strs) {
			return false
		}
		v.SetString(strs[j])
	case v.Kind() == reflect.Bool:
		if j > 1 {
			return false
		}
		v.SetBool(j == 0)
	default:
		return false
	}
	return true
}

// TestFromProcess: a script's run takes its workers, force and test switch
// from the process, and keeps what the caller set.
func TestFromProcess(t *testing.T) {
	env := map[string]string{ResumeForceEnv: "1", TestKillEnv: "fit:2"}
	var o Options
	if err := o.FromProcess(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if len(o.WorkerCommand) != 2 || o.WorkerCommand[0] != exe || o.WorkerCommand[1] != "worker" || !o.Force || o.TestKill != "fit:2" || o.Terminal {
		t.Errorf("from the process: %+v", o)
	}
	o = Options{WorkerCommand: []string{"w"}, TestKill: "eval:1"}
	if err := o.FromProcess(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if o.WorkerCommand[0] != "w" || o.Force || o.TestKill != "eval:1" {
		t.Errorf("kept: %+v", o)
	}
}

// TestRelativeObjectiveFile: a relative Lua objective file is the working
// directory's when it is there, else the script's directory's; config.json
// records it absolute.
func TestRelativeObjectiveFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "o.lua"), []byte("return {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := resolveObjectiveFile(json.RawMessage(`{"lua":{"file":"o.lua","fn":"f"}}`), filepath.Join(dir, "s.lua"))
	want, _ := json.Marshal(map[string]any{"lua": map[string]any{"file": filepath.Join(dir, "o.lua"), "fn": "f"}})
	if string(got) != string(want) {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, same := range []string{`{"lua":{"file":"/abs/o.lua","fn":"f"}}`, `{"airline":{}}`, `{`} {
		if got := resolveObjectiveFile(json.RawMessage(same), "s.lua"); string(got) != same {
			t.Errorf("%s changed to %s", same, got)
		}
	}
}
