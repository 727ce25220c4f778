package lua_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// engineCfg plays an engine's config: json names, zero values meaning the
// engine's defaults.
type engineCfg struct {
	Alpha    float64         `json:"alpha"`
	NW       int             `json:"n_w" lua:",count"`
	Mode     string          `json:"mode" lua:",enum=pair|all_w"`
	Timeout  float64         `json:"timeout_s" zero:"must be > 0 seconds, or negative for no timeout"`
	Seed     uint64          `json:"seed"`
	Box      [][2]float64    `json:"box"`
	List     [][]float64     `json:"list,omitempty"`
	Inner    innerCfg        `json:"inner"`
	Sweep    map[string]any  `json:"sweep"`
	Spec     json.RawMessage `json:"spec"`
	Recorded string          `json:"recorded" lua:"-"`
	Hidden   int             `json:"-"`
	Internal int
}

type innerCfg struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// face plays a binding's Lua face: the engine's config plus the keys whose
// Lua shape differs.
type face struct {
	engineCfg
	Box      names           `json:"box"` // hides engineCfg.Box
	Dir      string          `json:"-" lua:"dir,required"`
	MaxRSS   string          `json:"max_rss" lua:",size"`
	Progress *bool           `json:"progress"`
	Hook     *glua.LFunction `json:"on_iteration"`
}

// names is a custom Lua shape: an array of strings or one string.
type names []string

func (n *names) UnmarshalLua(v glua.LValue, path string) error {
	if s, ok := v.(glua.LString); ok {
		*n = names{string(s)}
		return nil
	}
	var ss []string
	if err := lua.Decode(v, path, &ss); err != nil {
		return err
	}
	*n = ss
	return nil
}

func decodeLua(t *testing.T, src string, dst any) error {
	t.Helper()
	L := glua.NewState()
	defer L.Close()
	if err := L.DoString("return " + src); err != nil {
		t.Fatal(err)
	}
	return lua.Decode(L.Get(-1), "", dst)
}

func TestDecodeSetsWhatIsGivenAndKeepsTheRest(t *testing.T) {
	f := face{engineCfg: engineCfg{Alpha: 0.1, Mode: "pair"}}
	err := decodeLua(t, `{dir = "d", n_w = 4, timeout_s = -1, seed = 7, list = {{1, 2}, {3, 4}}, inner = {lo = 1},
		sweep = {alphas = {0.1, 0.2}}, spec = {a = 1}, box = "one", max_rss = 1024, progress = false,
		on_iteration = function() end, mode = nil}`, &f)
	if err != nil {
		t.Fatal(err)
	}
	want := engineCfg{Alpha: 0.1, NW: 4, Mode: "pair", Timeout: -1, Seed: 7, List: [][]float64{{1, 2}, {3, 4}},
		Inner: innerCfg{Lo: 1}, Sweep: map[string]any{"alphas": []any{0.1, 0.2}}, Spec: json.RawMessage(`{"a":1}`)}
	if !reflect.DeepEqual(f.engineCfg, want) {
		t.Errorf("engine config\n got %+v\nwant %+v", f.engineCfg, want)
	}
	if f.Dir != "d" || f.MaxRSS != "1024" || f.Progress == nil || *f.Progress || f.Hook == nil || !reflect.DeepEqual(f.Box, names{"one"}) {
		t.Errorf("face %+v", f)
	}
	if got := lua.OptionNames(reflect.TypeFor[face]()); strings.Join(got, " ") !=
		"alpha n_w mode timeout_s seed box list inner sweep spec dir max_rss progress on_iteration" {
		t.Errorf("option names %v", got)
	}
}

// TestDecodeMessagesNameTheOption: every refusal names the option by its
// path as the user wrote it, with the value received.
func TestDecodeMessagesNameTheOption(t *testing.T) {
	for _, c := range []struct{ src, msg, hint string }{
		{`{dir = "d", alhpa = 1}`, "unknown option 'alhpa' (did you mean 'alpha'?)", "valid options: alpha, box, dir"},
		{`{dir = "d", inner = {lo = 0, hii = 1}}`, "unknown option 'inner.hii' (did you mean 'inner.hi'?)", "valid options of inner: hi, lo"},
		{`{dir = "d", recorded = "x"}`, "unknown option 'recorded'", ""},
		{`{dir = "d", Internal = 1}`, "unknown option 'Internal'", ""},
		{`{dir = "d", [1] = 2}`, "unknown option '[1]'", ""},
		{`{n_w = 2}`, "option 'dir' is required", ""},
		{`{dir = "d", alpha = "x"}`, "option 'alpha' must be a number, got string", ""},
		{`{dir = "d", n_w = 0}`, "option 'n_w' must be an integer >= 1, got 0", "leave n_w out (or nil) for its default"},
		{`{dir = "d", n_w = -2}`, "option 'n_w' must be an integer >= 1, got -2", ""},
		{`{dir = "d", n_w = 2.5}`, "option 'n_w' must be an integer, got 2.5", ""},
		{`{dir = "d", seed = -1}`, "option 'seed' must be an integer >= 0, got -1", ""},
		{`{dir = "d", timeout_s = 0}`, "option 'timeout_s' must be > 0 seconds, or negative for no timeout, got 0", "leave timeout_s out"},
		{`{dir = "d", mode = "al_w"}`, "option 'mode' must be one of pair, all_w, got 'al_w' (did you mean 'all_w'?)", ""},
		{`{dir = "d", list = {{1}, {"x"}}}`, "option 'list[2][1]' must be a number, got string", ""},
		{`{dir = "d", list = {{1}, n = 2}}`, "option 'list' must be an array (keys 1..n), it has 1 other keys", ""},
		{`{dir = "d", box = {"a", 2}}`, "option 'box[2]' must be a string, got number", ""},
		{`{dir = "d", inner = 3}`, "option 'inner' must be a table, got number", ""},
		{`{dir = "d", inner = {lo = true}}`, "option 'inner.lo' must be a number, got boolean", ""},
		{`{dir = "d", max_rss = true}`, "option 'max_rss' must be bytes or a size string such as \"4GiB\", got boolean", ""},
		{`{dir = "d", max_rss = 1.5}`, "option 'max_rss' must be a whole number of bytes", ""},
		{`{dir = "d", progress = "yes"}`, "option 'progress' must be a boolean, got string", ""},
		{`{dir = "d", on_iteration = 1}`, "option 'on_iteration' must be a function, got number", ""},
		{`{dir = "d", sweep = {f = print}}`, "sweep.f: cannot convert a function to data", ""},
		{`5`, "options table expected, got number", ""},
	} {
		var f face
		err := decodeLua(t, c.src, &f)
		e, ok := err.(*errs.Error)
		if !ok || e.Kind != errs.BadArg || !strings.Contains(e.Msg, c.msg) || !strings.Contains(e.Hint, c.hint) {
			t.Errorf("%s: got %#v, want bad_arg %q (hint %q)", c.src, err, c.msg, c.hint)
		}
	}
}

// TestDecodeFixedArrays: a box [2]float64 needs exactly two numbers.
func TestDecodeFixedArrays(t *testing.T) {
	var c engineCfg
	if err := decodeLua(t, `{box = {{0, 1}, {2, 3}}}`, &c); err != nil || !reflect.DeepEqual(c.Box, [][2]float64{{0, 1}, {2, 3}}) {
		t.Fatalf("%v %v", c.Box, err)
	}
	err := decodeLua(t, `{box = {{0, 1}, {2}}}`, &c)
	if err == nil || !strings.Contains(err.Error(), "option 'box[2]' must be an array of 2 values, got 1") {
		t.Fatalf("got %v", err)
	}
}
