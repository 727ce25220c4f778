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
		{Name: "parse_args", Sig: "sys.parse_args(defaults, argv [, help]) -> options", Desc: "parses --name value / --flag options against a table of defaults (types follow the defaults); unknown options and stray arguments are usage errors with a did-you-mean; the options table raises on a key that is not an option", Fn: func(L *glua.LState) int {
			const op = "sys.parse_args"
			defs := L.CheckTable(1)
			argvT := L.OptTable(2, L.NewTable())
			helpT := L.OptTable(3, L.NewTable())
			var specs []lua.ArgSpec
			var bad error
			defs.ForEach(func(k, v glua.LValue) {
				ks, ok := k.(glua.LString)
				if !ok || bad != nil {
					if bad == nil {
						bad = errs.New(errs.BadArg, op, "defaults must be keyed by option name, got key %s", k.String())
					}
					return
				}
				d, err := argDefault(v, string(ks))
				if err != nil {
					bad = err
					return
				}
				specs = append(specs, lua.ArgSpec{Name: string(ks), Default: d, Help: lua.OptString(helpT.RawGetString(string(ks)))})
			})
			if bad != nil {
				return lua.Raise(L, op, bad)
			}
			sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
			var argv []string
			for i := 1; i <= argvT.Len(); i++ {
				argv = append(argv, argvT.RawGetInt(i).String())
			}
			script := "SCRIPT.lua"
			if a, ok := L.GetGlobal("arg").(*glua.LTable); ok && a.RawGetInt(0) != glua.LNil {
				script = a.RawGetInt(0).String()
			}
			vals, err := lua.ParseArgs(script, specs, argv)
			if err != nil {
				return lua.Raise(L, op, err)
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

func argDefault(v glua.LValue, name string) (any, error) {
	switch x := v.(type) {
	case glua.LNumber:
		return float64(x), nil
	case glua.LString:
		return string(x), nil
	case glua.LBool:
		return bool(x), nil
	case *glua.LTable:
		if x.Len() == 0 {
			return []string{}, nil
		}
		if _, ok := x.RawGetInt(1).(glua.LNumber); ok {
			return lua.ToFloats(x, name)
		}
		var out []string
		for i := 1; i <= x.Len(); i++ {
			out = append(out, x.RawGetInt(i).String())
		}
		return out, nil
	}
	return nil, errs.New(errs.BadArg, "sys.parse_args", "default of option '%s' must be a number, string, boolean or list, got %s", name, lua.TypeName(v))
}

// strictOptions is the metatable of the options table bo.args returns:
// reading or setting a key that is not an option raises bad_arg with the
// nearest option, so a misspelt opt.iteratons cannot silently be nil.
func strictOptions(L *glua.LState, names []string) *glua.LTable {
	const op = "bo.args"
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	hint := "options: " + strings.Join(sorted, ", ") + " (a new option needs a default in bo.args{...})"
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
