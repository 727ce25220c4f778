package bindings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/version"

	glua "github.com/yuin/gopher-lua"
)

// Sys is bohost.sys: the host itself (version, command-line options,
// shutdown hooks, docs, a cancellable sleep).
type Sys struct{}

func (Sys) Name() string { return "bohost.sys" }

func (Sys) Open(rt *lua.Runtime) *glua.LTable {
	return rt.Funcs("sys", []lua.Func{
		{Name: "version", Sig: "sys.version() -> {bohost=, go=, lua=, revision=}", Desc: "versions of bohost and what it embeds", Fn: func(L *glua.LState) int {
			L.Push(lua.FromGo(L, map[string]any{"bohost": version.Version, "go": version.Go(), "lua": version.Lua, "revision": version.Revision()}))
			return 1
		}},
		{Name: "parse_args", Sig: "sys.parse_args(spec, argv [, help]) -> options", Desc: "the engine of bo.args: parses --name value / --flag options against the declared options (see bo.args); unknown options and stray arguments are usage errors with a did-you-mean; the options table raises on a key that is not an option", Fn: func(L *glua.LState) int {
			specs, err := argSpecs(L.CheckTable(1), L.OptTable(3, nil))
			if err != nil {
				return lua.Raise(L, argsOp, err)
			}
			argvT := L.OptTable(2, L.NewTable())
			var argv []string
			for i := 1; i <= argvT.Len(); i++ {
				argv = append(argv, argvT.RawGetInt(i).String())
			}
			script := "SCRIPT.lua"
			// arg[0] lives in the hash part: RawGetInt reads only the array part.
			if a, ok := L.GetGlobal("arg").(*glua.LTable); ok && a.RawGet(glua.LNumber(0)) != glua.LNil {
				script = a.RawGet(glua.LNumber(0)).String()
			}
			vals, err := lua.ParseArgs(script, specs, argv)
			if err != nil {
				return lua.Raise(L, "sys.parse_args", err)
			}
			out := L.NewTable()
			names := make([]string, 0, len(specs))
			for _, s := range specs {
				L.SetField(out, s.Name, lua.FromGo(L, vals[s.Name]))
				names = append(names, s.Name)
			}
			L.SetMetatable(out, strictOptions(L, names))
			L.Push(out)
			return 1
		}},
		{Name: "raise", Sig: "sys.raise(kind, op, msg [, hint])", Desc: "raises a structured error (kind bad_arg, bad_state, ...) at the position of the first caller outside bohost's Lua libraries", Fn: func(L *glua.LState) int {
			e := errs.New(L.CheckString(1), L.CheckString(2), "%s", L.CheckString(3))
			e.Hint = L.OptString(4, "")
			return lua.Raise(L, e.Op, e)
		}},
		{Name: "suggest", Sig: "sys.suggest(word, candidates) -> nearest | nil", Desc: "the candidate nearest to word by edit distance, nil when none is close (for did-you-mean messages)", Fn: func(L *glua.LState) int {
			w := L.CheckString(1)
			ct := L.CheckTable(2)
			var cands []string
			for i := 1; i <= ct.Len(); i++ {
				cands = append(cands, ct.RawGetInt(i).String())
			}
			if s := lua.Suggest(w, cands); s != "" {
				L.Push(glua.LString(s))
			} else {
				L.Push(glua.LNil)
			}
			return 1
		}},
		{Name: "on_shutdown", Sig: "sys.on_shutdown(fn)", Desc: "runs fn when the script ends, is interrupted (Ctrl-C) or terminated (SIGTERM); hooks run newest first", Fn: func(L *glua.LState) int {
			fn := L.CheckFunction(1)
			rt.OnShutdown(func(ctx context.Context) {
				if _, err := rt.Call(ctx, fn); err != nil {
					fmt.Fprintf(rt.Stderr, "bohost: shutdown hook failed: %v\n", err)
				}
			})
			return 0
		}},
		{Name: "sleep", Sig: "sys.sleep(seconds)", Desc: "sleeps, returning early with a canceled error on Ctrl-C", Fn: func(L *glua.LState) int {
			d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
			ctx := L.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return lua.Raisef(L, errs.Canceled, "sys.sleep", "interrupted: %v", context.Cause(ctx))
			}
			return 0
		}},
		{Name: "clock", Sig: "sys.clock() -> seconds", Desc: "wall-clock seconds since the Unix epoch, with sub-millisecond resolution", Fn: func(L *glua.LState) int {
			L.Push(glua.LNumber(float64(time.Now().UnixNano()) / 1e9))
			return 1
		}},
		{Name: "doc", Sig: "sys.doc(name) -> signature, description", Desc: "the registered doc of a function (\"mem.stats\")", Fn: func(L *glua.LState) int {
			d, ok := rt.LookupDoc(L.CheckString(1))
			if !ok {
				L.Push(glua.LNil)
				return 1
			}
			L.Push(glua.LString(d.Sig))
			L.Push(glua.LString(d.Desc))
			return 2
		}},
		{Name: "read_json", Sig: "sys.read_json(path) -> value", Desc: "reads a JSON file (summary.json, config.json, ...) into Lua tables; errors name the file and offset", Fn: func(L *glua.LState) int {
			p := L.CheckString(1)
			b, err := os.ReadFile(p)
			if err != nil {
				return lua.Raise(L, "sys.read_json", errs.New(errs.IO, "sys.read_json", "%v", err))
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				msg := err.Error()
				var se *json.SyntaxError
				if errors.As(err, &se) {
					msg = fmt.Sprintf("%s at byte %d", msg, se.Offset)
				}
				return lua.Raise(L, "sys.read_json", errs.New(errs.BadArg, "sys.read_json", "%s: malformed JSON: %s", p, msg))
			}
			L.Push(lua.FromGo(L, v))
			return 1
		}},
		{Name: "write_json", Sig: "sys.write_json(path, value)", Desc: "writes plain Lua data (tables, numbers, strings, booleans) as indented JSON", Fn: func(L *glua.LState) int {
			p := L.CheckString(1)
			v, err := lua.ToGo(L.Get(2), "value")
			if err != nil {
				return lua.Raise(L, "sys.write_json", err)
			}
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return lua.Raise(L, "sys.write_json", errs.New(errs.BadArg, "sys.write_json", "%v", err))
			}
			if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
				return lua.Raise(L, "sys.write_json", errs.New(errs.IO, "sys.write_json", "%v", err))
			}
			return 0
		}},
		{Name: "glob", Sig: "sys.glob(pattern) -> paths", Desc: "file paths matching a shell pattern (sorted)", Fn: func(L *glua.LState) int {
			m, err := filepath.Glob(L.CheckString(1))
			if err != nil {
				return lua.Raise(L, "sys.glob", errs.New(errs.BadArg, "sys.glob", "%v", err))
			}
			L.Push(lua.FromGo(L, m))
			return 1
		}},
		{Name: "getenv", Sig: "sys.getenv(name) -> string|nil", Desc: "an environment variable", Fn: func(L *glua.LState) int {
			v := rt.Getenv(L.CheckString(1))
			if v == "" {
				L.Push(glua.LNil)
			} else {
				L.Push(glua.LString(v))
			}
			return 1
		}},
	})
}

// argsOp names the errors in a declaration of options: scripts call
// bo.args, which hands the declaration to sys.parse_args.
const argsOp = "bo.args"

// argSpecs reads a declaration of options: each array entry declares one,
// {name, default, help [, type=]}, in the order --help lists them; each
// key = default pair (the older form) declares one without help, unless the
// help table (name = text) gives it. Types follow the defaults; type= fixes
// the element type of an empty list ("numbers" or "strings"). A name
// declared twice, help for no option, and help given twice are errors.
func argSpecs(spec, help *glua.LTable) ([]lua.ArgSpec, error) {
	var specs []lua.ArgSpec
	seen := map[string]bool{}
	add := func(s lua.ArgSpec) error {
		if seen[s.Name] {
			return errs.New(errs.BadArg, argsOp, "option '%s' declared twice", s.Name)
		}
		seen[s.Name] = true
		specs = append(specs, s)
		return nil
	}
	n := spec.Len()
	for i := 1; i <= n; i++ {
		s, err := argEntry(spec.RawGetInt(i), i)
		if err != nil {
			return nil, err
		}
		if err := add(s); err != nil {
			return nil, err
		}
	}
	var keyed []lua.ArgSpec
	var bad error
	spec.ForEach(func(k, v glua.LValue) {
		if bad != nil {
			return
		}
		if kn, ok := k.(glua.LNumber); ok && float64(kn) >= 1 && float64(kn) <= float64(n) && float64(kn) == float64(int(kn)) {
			return // an entry of the array part
		}
		ks, ok := k.(glua.LString)
		if !ok {
			bad = errs.New(errs.BadArg, argsOp, "options are declared as {name, default, help} entries or name = default, got the key %s", k.String()).
				WithHint(argsUsage)
			return
		}
		d, err := argDefault(v, string(ks), "")
		if err != nil {
			bad = err
			return
		}
		keyed = append(keyed, lua.ArgSpec{Name: string(ks), Default: d})
	})
	if bad != nil {
		return nil, bad
	}
	sort.Slice(keyed, func(i, j int) bool { return keyed[i].Name < keyed[j].Name })
	for _, s := range keyed {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	if help != nil {
		if err := applyArgHelp(specs, help); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

// applyArgHelp fills the specs' help from the help table (name = text): help
// for no option, help that is not a string and help given twice are errors.
func applyArgHelp(specs []lua.ArgSpec, help *glua.LTable) error {
	var bad error
	names := make([]string, len(specs))
	byName := map[string]*lua.ArgSpec{}
	for i := range specs {
		names[i] = specs[i].Name
		byName[specs[i].Name] = &specs[i]
	}
	var keys []string
	help.ForEach(func(k, v glua.LValue) {
		ks, ok := k.(glua.LString)
		if !ok {
			bad = errs.New(errs.BadArg, argsOp, "help must be a table of option = text, got the key %s", k.String())
			return
		}
		keys = append(keys, string(ks))
	})
	if bad != nil {
		return bad
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := byName[k]
		if !ok {
			e := errs.New(errs.BadArg, argsOp, "help for '%s', which is no option", k)
			if near := lua.Suggest(k, names); near != "" {
				e.Msg += fmt.Sprintf(" (did you mean '%s'?)", near)
			}
			return e.WithHint("options: %s", strings.Join(names, ", "))
		}
		text, ok := help.RawGetString(k).(glua.LString)
		if !ok {
			return errs.New(errs.BadArg, argsOp, "help of option '%s' must be a string, got %s", k, help.RawGetString(k).Type())
		}
		if s.Help != "" {
			return errs.New(errs.BadArg, argsOp, "help of option '%s' given twice: in its declaration and in the help table", k)
		}
		s.Help = string(text)
	}
	return nil
}

const argsUsage = `bo.args{ {"alpha", 0.1, "risk level"}, {"seeds", {1, 2}, "one run per seed"}, ... }: name, default (its type is the option's), help`

// argEntry reads one declaration {name, default, help [, type=]}.
func argEntry(v glua.LValue, i int) (lua.ArgSpec, error) {
	bad := func(format string, args ...any) (lua.ArgSpec, error) {
		return lua.ArgSpec{}, errs.New(errs.BadArg, argsOp, "option entry [%d]: "+format, append([]any{i}, args...)...).WithHint(argsUsage)
	}
	t, ok := v.(*glua.LTable)
	if !ok {
		return bad("expected {name, default, help}, got %s", lua.TypeName(v))
	}
	name, ok := t.RawGetInt(1).(glua.LString)
	if !ok || !isOptionName(string(name)) {
		return bad("the name (first) must be a word such as \"n_w\", got %s", inspectArg(t.RawGetInt(1)))
	}
	typ := ""
	var bad2 error
	t.ForEach(func(k, val glua.LValue) {
		if bad2 != nil {
			return
		}
		switch k := k.(type) {
		case glua.LNumber:
			if k >= 1 && k <= 3 && k == glua.LNumber(int(k)) {
				return
			}
			_, bad2 = bad("'%s' has more than name, default and help (got [%s] = %s)", name, k, inspectArg(val))
		case glua.LString:
			if k == "type" {
				if s, ok := val.(glua.LString); ok {
					typ = string(s)
					return
				}
				_, bad2 = bad("type of '%s' must be a string, got %s", name, lua.TypeName(val))
				return
			}
			msg := fmt.Sprintf("unknown key '%s' in the declaration of '%s'", k, name)
			if s := lua.Suggest(string(k), []string{"type"}); s != "" {
				msg += fmt.Sprintf(" (did you mean '%s'?)", s)
			}
			_, bad2 = bad("%s", msg)
		default:
			_, bad2 = bad("unexpected key %s in the declaration of '%s'", k.String(), name)
		}
	})
	if bad2 != nil {
		return lua.ArgSpec{}, bad2
	}
	def := t.RawGetInt(2)
	if def == glua.LNil {
		return bad("'%s' needs a default (second), which fixes its type", name)
	}
	d, err := argDefault(def, string(name), typ)
	if err != nil {
		return lua.ArgSpec{}, err
	}
	var help string
	switch h := t.RawGetInt(3).(type) {
	case glua.LString:
		help = string(h)
	default:
		if h != glua.LNil {
			return bad("the help of '%s' (third) must be a string, got %s", name, lua.TypeName(h))
		}
	}
	return lua.ArgSpec{Name: string(name), Default: d, Help: help}, nil
}

func isOptionName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-') {
			continue
		}
		return false
	}
	return true
}

func inspectArg(v glua.LValue) string {
	if s, ok := v.(glua.LString); ok {
		return fmt.Sprintf("%q", string(s))
	}
	return lua.TypeName(v)
}

// argDefault converts an option's default; typ ("number", "string",
// "boolean", "numbers", "strings" or "") must agree with it.
func argDefault(v glua.LValue, name, typ string) (any, error) {
	var d any
	switch x := v.(type) {
	case glua.LNumber:
		d = float64(x)
	case glua.LString:
		d = string(x)
	case glua.LBool:
		d = bool(x)
	case *glua.LTable:
		switch {
		case x.Len() == 0 && typ == "numbers":
			d = []float64{}
		case x.Len() == 0:
			d = []string{}
		default:
			if _, ok := x.RawGetInt(1).(glua.LNumber); ok {
				f, err := lua.ToFloats(x, name)
				if err != nil {
					return nil, errs.New(errs.BadArg, argsOp, "default of option '%s': %v", name, err)
				}
				d = f
			} else {
				var out []string
				for i := 1; i <= x.Len(); i++ {
					out = append(out, x.RawGetInt(i).String())
				}
				d = out
			}
		}
	default:
		return nil, errs.New(errs.BadArg, argsOp, "default of option '%s' must be a number, string, boolean or list, got %s", name, lua.TypeName(v))
	}
	if typ == "" {
		return d, nil
	}
	got := map[string]string{"float64": "number", "string": "string", "bool": "boolean", "[]float64": "numbers", "[]string": "strings"}[fmt.Sprintf("%T", d)]
	switch typ {
	case "number", "string", "boolean", "numbers", "strings":
	default:
		msg := fmt.Sprintf("type of option '%s' must be number, string, boolean, numbers or strings, got %q", name, typ)
		if s := lua.Suggest(typ, []string{"number", "string", "boolean", "numbers", "strings"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, errs.New(errs.BadArg, argsOp, "%s", msg)
	}
	if got != typ {
		return nil, errs.New(errs.BadArg, argsOp, "the default of option '%s' is of type %s, not %s", name, got, typ)
	}
	return d, nil
}

// strictOptions is the metatable of the options table bo.args returns:
// reading or setting a key that is not an option raises bad_arg with the
// nearest option, so a misspelt opt.iteratons cannot silently be nil.
func strictOptions(L *glua.LState, names []string) *glua.LTable {
	const op = "bo.args"
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	hint := "options: " + strings.Join(sorted, ", ") + " (declare a new one in bo.args{...}: {name, default, help})"
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	raise := func(L *glua.LState, k glua.LValue) int {
		var e *errs.Error
		if ks, ok := k.(glua.LString); ok {
			e = errs.New(errs.BadArg, op, "no option '%s'", string(ks))
			if s := lua.Suggest(string(ks), names); s != "" {
				e.Msg += fmt.Sprintf(" (did you mean '%s'?)", s)
			}
		} else {
			e = errs.New(errs.BadArg, op, "no option [%s]: the options table is keyed by option name (bo.args takes no positional arguments; read arg for those)", k.String())
		}
		e.Hint = hint
		return lua.Raise(L, op, e)
	}
	isKnown := func(k glua.LValue) bool {
		ks, ok := k.(glua.LString)
		return ok && known[string(ks)]
	}
	mt := L.NewTable()
	// Reached only for keys that hold no value: an option the script set to
	// nil reads as nil and may be set again; any other key raises.
	L.SetField(mt, "__index", L.NewFunction(func(L *glua.LState) int {
		if k := L.Get(2); !isKnown(k) {
			return raise(L, k)
		}
		L.Push(glua.LNil)
		return 1
	}))
	L.SetField(mt, "__newindex", L.NewFunction(func(L *glua.LState) int {
		k := L.Get(2)
		if !isKnown(k) {
			return raise(L, k)
		}
		L.CheckTable(1).RawSet(k, L.Get(3))
		return 0
	}))
	return mt
}
