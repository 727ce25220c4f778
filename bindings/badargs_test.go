package bindings_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"bohost/bindings"
	"bohost/host/errs"
	"bohost/host/fault"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// badArgs are the argument lists every function and method is called with:
// nothing, the wrong types, empty and half-right tables.
func badArgs(L *glua.LState) [][]glua.LValue {
	tbl := func(vs ...glua.LValue) *glua.LTable {
		t := L.NewTable()
		for _, v := range vs {
			t.Append(v)
		}
		return t
	}
	seg := func() *glua.LTable {
		return tbl(tbl(glua.LNumber(0), glua.LNumber(0), glua.LNumber(1), glua.LNumber(1)))
	}
	keyed := func() *glua.LTable {
		t := L.NewTable()
		t.RawSetString("a", glua.LNumber(1))
		return t
	}
	noop := L.NewFunction(func(*glua.LState) int { return 0 })
	n, s, nan := glua.LNumber(5), glua.LString("x"), glua.LNumber(math.NaN())
	return [][]glua.LValue{
		{}, {glua.LNil}, {L.NewTable()}, {n}, {s}, {glua.LTrue}, {glua.LNumber(-1)}, {glua.LNumber(0)}, {nan},
		{glua.LNumber(1e300)}, {seg()}, {keyed()}, {noop}, {tbl(L.NewTable())},
		{L.NewTable(), L.NewTable()}, {n, n}, {s, s}, {seg(), L.NewTable()}, {seg(), keyed()},
		{L.NewTable(), n}, {L.NewTable(), s}, {s, L.NewTable()}, {n, L.NewTable(), L.NewTable()},
		{tbl(glua.LNumber(1), glua.LNumber(2)), tbl(glua.LNumber(3)), glua.LNumber(4)},
		{glua.LNil, glua.LNil, glua.LNil, glua.LNil},
	}
}

// samples builds one object of each userdata type, so that methods are also
// called on a real object with bad arguments. A type without a sample here
// gets only wrong objects; noSample says why for each such type.
const samples = `
local bo, gp, acq, airline, report = require "bo", require "bohost.gp", require "bohost.acq", require "bohost.airline", require "bohost.report"
local S = {}
S.Optimizer = bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, n_w = 2, n_initial = 2, seed = 1}
S.Model = gp.new{}
local fitted = gp.new{restarts = 1, max_iter = 5}
fitted:fit({{0.1, 0.1}, {0.5, 0.5}, {0.9, 0.2}}, {1, 2, 0.5})
S.Function = acq.ucb{model = fitted, w = {{0.1}, {0.5}}, alpha = 0.5}
S.Dataset = airline.dataset{synthetic = {n = 2, width = 64, height = 48, seed = 1}}
S.Evaluator = airline.evaluator{seed = 1}
S.Figure = report.figure{title = "t"}
return S
`

var noSample = map[string]string{
	"Run": "a Run exists only inside bo.run's hooks, which need worker processes",
}

// TestBadArgsNeverPanic calls every registered function and method with
// wrong and empty arguments (nil, {}, 5, "x", NaN, half-right tables) and
// fails on any error of kind internal, a recovered Go panic: a binding that
// dereferences what it did not check (airline.score({{0,0,1,1}}, {}) did)
// is caught whatever its module. Every error must also be a structured
// bohost error (kind, op, msg), not a plain string.
func TestBadArgsNeverPanic(t *testing.T) {
	t.Chdir(t.TempDir()) // functions given "x" as a path write there
	fault.Enable(false)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // mem.set_limit(5) and friends
	rt := lua.New(lua.Options{Modules: bindings.All(), LuaFS: bindings.LuaFS(), Stdout: io.Discard, Stderr: io.Discard,
		Getenv: func(string) string { return "" }}) // BOHOST_FAULTS unset: faults only raise
	defer rt.Close()
	rt.LoadAll()
	L := rt.L

	vals, err := rt.DoString(context.Background(), samples, "samples")
	if err != nil {
		t.Fatal(err)
	}
	objs := vals[0].(*glua.LTable)
	// Calls go through a Lua function, as a script's do (a chunk name with a
	// space, as bohost -e's).
	vals, err = rt.DoString(context.Background(), "return function(f, ...) return f(...) end", "(command line)")
	if err != nil {
		t.Fatal(err)
	}
	trampoline := vals[0].(*glua.LFunction)

	// Wrong objects for methods: nothing, plain values, and an object of
	// another type.
	var someObj glua.LValue = objs.RawGetString("Figure")
	wrongSelves := []glua.LValue{glua.LNil, L.NewTable(), glua.LNumber(5), glua.LString("x"), someObj}

	type call struct {
		name string
		fn   *glua.LFunction
		self glua.LValue // nil: a function
	}
	var calls []call
	loaded := L.GetField(L.GetField(L.Get(glua.GlobalsIndex), "package"), "loaded").(*glua.LTable)
	types := rt.TypeNames()
	for _, d := range rt.Docs() {
		if strings.Contains(d.Name, "MODULE") {
			continue // bo.MODULE: the raw modules themselves
		}
		if typ, method, ok := strings.Cut(d.Name, ":"); ok {
			mt, _ := L.GetTypeMetatable(types[typ]).(*glua.LTable)
			if mt == nil {
				t.Errorf("%s: no registered type %q", d.Name, typ)
				continue
			}
			fn, _ := L.GetField(L.GetField(mt, "methods"), method).(*glua.LFunction)
			if fn == nil {
				t.Errorf("%s: documented but not a method", d.Name)
				continue
			}
			self := objs.RawGetString(typ)
			if self == glua.LNil && noSample[typ] == "" {
				t.Errorf("no sample object of type %s: add one to samples (or a reason to noSample)", typ)
			}
			for _, w := range wrongSelves {
				calls = append(calls, call{d.Name + " on " + lua.TypeName(w), fn, w})
			}
			if self != glua.LNil {
				calls = append(calls, call{d.Name, fn, self})
			}
			continue
		}
		mod, _ := loaded.RawGetString(d.Module).(*glua.LTable)
		if mod == nil {
			t.Errorf("%s: module %s not loaded", d.Name, d.Module)
			continue
		}
		fn, _ := mod.RawGetString(d.Name[strings.LastIndexByte(d.Name, '.')+1:]).(*glua.LFunction)
		if fn == nil {
			t.Errorf("%s: documented but %s has no such function", d.Name, d.Module)
			continue
		}
		calls = append(calls, call{name: d.Name, fn: fn})
	}
	if len(calls) < 100 {
		t.Fatalf("only %d functions and methods found", len(calls))
	}

	skip := map[string]bool{
		"sys.on_shutdown": true, "bo.on_shutdown": true, // would run the noop at exit: harmless, but not an argument check
	}
	// Functions whose defaults (no argument, nil, {}) do real work: the
	// default synthetic data set renders 24 images. They get the other lists.
	slowDefaults := map[string]bool{"airline.dataset": true, "airline.try_dataset": true}
	var internal, plain []string
	seenPlain := map[string]bool{}
	for _, c := range calls {
		if skip[c.name] {
			continue
		}
		for _, args := range badArgs(L) {
			if slowDefaults[c.name] && (len(args) == 0 || args[0] == glua.LNil || isEmpty(args[0])) {
				continue
			}
			if c.self != nil {
				args = append([]glua.LValue{c.self}, args...)
			}
			// Functions that accept the arguments may start real work; a
			// deadline cancels what polls it (sys.sleep(5)). This bounds the
			// test, it checks no timing.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, err := rt.Call(ctx, trampoline, append([]glua.LValue{c.fn}, args...)...)
			cancel()
			if err == nil {
				continue
			}
			var se *lua.ScriptError
			if !errors.As(err, &se) {
				t.Errorf("%s(%s): not a script error: %v", c.name, show(args), err)
				continue
			}
			switch {
			case se.Kind == errs.Internal:
				internal = append(internal, fmt.Sprintf("%s(%s): %s", c.name, show(args), se.Msg))
			case se.Kind == "error" && !seenPlain[c.name]:
				seenPlain[c.name] = true
				plain = append(plain, fmt.Sprintf("%s(%s): %s", c.name, show(args), se.Msg))
			}
		}
	}
	sort.Strings(internal)
	for _, s := range internal {
		t.Errorf("Go panic: %s", s)
	}
	for _, s := range plain {
		t.Errorf("a plain string error, not a structured one: %s", s)
	}
}

func isEmpty(v glua.LValue) bool {
	t, ok := v.(*glua.LTable)
	return ok && t.Len() == 0 && t.RawGetString("a") == glua.LNil
}

func show(args []glua.LValue) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case glua.LString:
			parts[i] = fmt.Sprintf("%q", string(v))
		case *glua.LTable:
			if v.Len() > 0 {
				parts[i] = "{...}"
			} else if v.RawGetString("a") != glua.LNil {
				parts[i] = "{a=1}"
			} else {
				parts[i] = "{}"
			}
		case *glua.LUserData:
			parts[i] = lua.TypeName(v)
		default:
			parts[i] = a.String()
		}
	}
	return strings.Join(parts, ", ")
}
