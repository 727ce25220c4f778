package bindings

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"bohost/host/bo"
	"bohost/host/lua"
	"bohost/host/run"
	"bohost/host/testsupport"

	glua "github.com/yuin/gopher-lua"
)

// luaSample is a Lua literal for an option of type t (tags: its lua tag
// options) and the Go value it decodes to; ok is false for a type the test
// has no sample for (add one).
func luaSample(t reflect.Type, tag string) (lit string, want any, ok bool) {
	if strings.Contains(tag, ",size") {
		return `"3GiB"`, "3GiB", true
	}
	if _, enum, found := strings.Cut(tag, "enum="); found {
		first, _, _ := strings.Cut(strings.Split(enum, "|")[1], ",")
		return fmt.Sprintf("%q", first), reflect.ValueOf(first).Convert(t).Interface(), true
	}
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(true)
		return "true", v.Interface(), true
	case reflect.String:
		v.SetString("s")
		return `"s"`, v.Interface(), true
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(3)
		return "3", v.Interface(), true
	case reflect.Uint64, reflect.Uint:
		v.SetUint(3)
		return "3", v.Interface(), true
	case reflect.Float64:
		v.SetFloat(2.5)
		return "2.5", v.Interface(), true
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct { // a nested options table: {} sets a zero one
			return "{}", reflect.New(t.Elem()).Interface(), true
		}
	case reflect.Map:
		if t == reflect.TypeFor[map[string]any]() {
			return `{k = "v"}`, map[string]any{"k": "v"}, true
		}
	case reflect.Slice:
		if t == reflect.TypeFor[[]string]() {
			return `{"a", "b"}`, []string{"a", "b"}, true
		}
		if t == reflect.TypeFor[[]float64]() {
			return `{1, 2}`, []float64{1, 2}, true
		}
		if t == reflect.TypeFor[[][]float64]() {
			return `{{1, 2}, {3, 4}}`, [][]float64{{1, 2}, {3, 4}}, true
		}
	}
	return "", nil, false
}

// settableOptions checks that every field of struct type ct that is a Lua
// option (a json tag, no lua:"-") is set from Lua by decoding the face
// (newFace) with "base, name = sample", except the keys the face gives
// shapes of its own (custom).
func settableOptions(t *testing.T, ct reflect.Type, base string, newFace func() any, get func(face any) reflect.Value, custom map[string]bool) {
	t.Helper()
	L := glua.NewState()
	defer L.Close()
	for i := range ct.NumField() {
		f := ct.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		lt := f.Tag.Get("lua")
		if ln, _, _ := strings.Cut(lt, ","); ln != "" {
			name = ln
		}
		if name == "" || name == "-" || custom[name] {
			continue
		}
		lit, want, ok := luaSample(f.Type, lt)
		if !ok {
			t.Errorf("%s.%s (%s, option %s): no Lua sample for its type: add one to luaSample (and check the decoder reads it)", ct, f.Name, f.Type, name)
			continue
		}
		if err := L.DoString(fmt.Sprintf("return {%s, %s = %s}", base, name, lit)); err != nil {
			t.Fatal(err)
		}
		face := newFace()
		if err := lua.Decode(L.Get(-1), "", face); err != nil {
			t.Errorf("%s.%s: setting option %s = %s from Lua: %v", ct, f.Name, name, lit, err)
			continue
		}
		L.Pop(1)
		if got := get(face).FieldByName(f.Name).Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s.%s: option %s = %s from Lua gave %#v, want %#v", ct, f.Name, name, lit, got, want)
		}
	}
}

// TestEveryRunOptionIsSettableFromLua: a field of run.Config (or a lua-tagged
// field of run.Options) is a bo.run option with no edit in this package:
// each one is set from Lua by reflection, so one added tomorrow is checked
// too. (host/run's TestConfigRecordsEveryOption checks that config.json
// records it and ReadConfig reads it back.)
func TestEveryRunOptionIsSettableFromLua(t *testing.T) {
	base := `dir = "d", objective = {file = "o.lua"}`
	newFace := func() any { f := runOptions{Opt: newOptimizerOptions()}; return &f }
	custom := map[string]bool{"optimizer": true, "objective": true} // the face's own shapes, tested below
	settableOptions(t, reflect.TypeFor[run.Config](), base, newFace, func(f any) reflect.Value { return reflect.ValueOf(f.(*runOptions).Config) }, custom)
	settableOptions(t, reflect.TypeFor[run.Options](), base, newFace, func(f any) reflect.Value { return reflect.ValueOf(f.(*runOptions).Options) }, custom)

	// The custom shapes: the optimizer is bo.optimizer's, the objective a
	// file or an airline spec, hooks are functions.
	L := glua.NewState()
	defer L.Close()
	if err := L.DoString(`return {dir = "d", objective = {file = "o.lua"}, optimizer = {space = {{0, 1}}, env = {{0, 1}}, n_w = 3},
		every = {[2] = print}, on_iteration = print, hook_errors = "raise"}`); err != nil {
		t.Fatal(err)
	}
	f := runOptions{Opt: newOptimizerOptions()}
	if err := lua.Decode(L.Get(-1), "", &f); err != nil {
		t.Fatal(err)
	}
	if c := f.Opt.config(); c.NW != 3 || c.Alpha != 0.1 || len(c.Space) != 1 || string(f.Obj) != `{"lua":{"file":"o.lua","fn":"evaluate"}}` ||
		f.Every[2] == nil || f.OnIter == nil || f.HookErrors != "raise" {
		t.Errorf("custom shapes: %+v %s", c, f.Obj)
	}
}

// TestEveryOptimizerOptionIsSettableFromLua: the same for bo.Config and
// bo.optimizer's options.
func TestEveryOptimizerOptionIsSettableFromLua(t *testing.T) {
	newFace := func() any { o := newOptimizerOptions(); return &o }
	settableOptions(t, reflect.TypeFor[bo.Config](), `space = {{0, 1}}`, newFace,
		func(f any) reflect.Value { return reflect.ValueOf(f.(*optimizerOptions).config()) }, map[string]bool{"space": true, "env": true})
}

// TestRunOptionsAreDocumented: docs/runs.md's options table lists every
// option of bo.run, and nothing else: a new option's doc line is the one
// edit besides its field.
func TestRunOptionsAreDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testsupport.RepoRoot(), "docs", "runs.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(b), "## Options\n")
	sec, _, _ = strings.Cut(sec, "\n## ")
	documented := map[string]bool{}
	key := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(sec, "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(line, "| `") {
			for _, m := range key.FindAllStringSubmatch(cells[1], -1) {
				documented[m[1]] = true
			}
		}
	}
	opts := lua.OptionNames(reflect.TypeFor[runOptions]())
	for _, o := range opts {
		if !documented[o] {
			t.Errorf("bo.run option %s is not in docs/runs.md's options table", o)
		}
		delete(documented, o)
	}
	var extra []string
	for d := range documented {
		extra = append(extra, d)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("docs/runs.md documents options bo.run does not have: %v", extra)
	}
}
