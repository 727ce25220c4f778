package lua

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// Module is a Go module behind require "NAME" (e.g. "bohost.mem").
// Open builds and returns the module table; it runs at most once per Runtime.
type Module interface {
	Name() string
	Open(rt *Runtime) *glua.LTable
}

// Options configure a Runtime. Zero values are usable.
type Options struct {
	Modules    []Module  // Go modules, required by name
	LuaFS      fs.FS     // pure-Lua modules: require "a.b" loads a/b.lua or a/b/init.lua
	Stdout     io.Writer // print() and io.write go here (default os.Stdout)
	Stderr     io.Writer // warnings and leak reports (default os.Stderr)
	ScriptPath string    // the script being run, for arg[0] and package.path
	Args       []string  // script arguments: arg[1..n]
	Getenv     func(string) string
}

// Runtime owns one Lua state. It is not safe for concurrent use: one
// goroutine (the script runner or the REPL) drives it.
type Runtime struct {
	L       *glua.LState
	opts    Options
	Stdout  io.Writer
	Stderr  io.Writer
	docs    map[string]Doc
	types   map[string]map[string]glua.LGFunction // type name -> methods
	shorts  map[string]string                     // short type name ("Model") -> type name
	modules map[string]Module
	Handles *Handles

	mu        sync.Mutex
	shutdown  []func(ctx context.Context)
	warned    map[string]bool
	lastTB    string
	loadedAll bool
	opening   string // the Go module whose Open is running: docs registered now belong to it
}

// Doc documents one Lua function or method: the single source for the
// REPL's ?name, tab completion and bohost help. Go modules register theirs
// with Funcs and NewType; the friendly Lua layer's come from its "--- "
// doc comments (see parseLuaDocs).
type Doc struct {
	Name   string // "mem.stats", "Model:predict", "bo.run"; "bo.MODULE" stands for bo.mem, bo.gp, ...
	Sig    string // "mem.stats() -> {heap_bytes=, rss_bytes=, gc_count=}"
	Desc   string // one line
	More   string // further lines (examples, details), or ""
	Module string // the module whose help lists it: "bohost.mem", or "bo" for the friendly layer
}

// Func is a function registered with a module or a type.
type Func struct {
	Name string
	Sig  string
	Desc string
	Fn   glua.LGFunction
}

// New builds a runtime with the standard libraries, bohost's error type and
// the given modules preloaded.
func New(opts Options) *Runtime {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	L := glua.NewState(glua.Options{CallStackSize: 1024, RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 1024, RegistryGrowStep: 1024})
	rt := &Runtime{
		L: L, opts: opts, Stdout: opts.Stdout, Stderr: opts.Stderr,
		docs: map[string]Doc{}, types: map[string]map[string]glua.LGFunction{}, shorts: map[string]string{},
		modules: map[string]Module{}, Handles: NewHandles(), warned: map[string]bool{},
	}
	openErrorType(L)
	rt.installBase()
	for _, m := range opts.Modules {
		rt.modules[m.Name()] = m
		m := m
		L.PreloadModule(m.Name(), func(L *glua.LState) int {
			prev := rt.opening
			rt.opening = m.Name()
			defer func() { rt.opening = prev }()
			L.Push(m.Open(rt))
			return 1
		})
	}
	if opts.LuaFS != nil {
		rt.installFSLoader()
	}
	rt.setArgs()
	return rt
}

// Close releases the state and reports leaked handles on Stderr.
func (rt *Runtime) Close() {
	if leaks := rt.Handles.FreeAll(); len(leaks) > 0 {
		fmt.Fprintf(rt.Stderr, "bohost: freed %s at exit (free native objects with :free() or mem.scope)\n", strings.Join(leaks, ", "))
	}
	rt.L.Close()
}

// Options returns the options the runtime was built with.
func (rt *Runtime) Options() Options { return rt.opts }

// Getenv reads the injected environment.
func (rt *Runtime) Getenv(k string) string { return rt.opts.Getenv(k) }

// Warn prints a warning once per key on Stderr.
func (rt *Runtime) Warn(key, format string, args ...any) {
	rt.mu.Lock()
	seen := rt.warned[key]
	rt.warned[key] = true
	rt.mu.Unlock()
	if !seen {
		fmt.Fprintf(rt.Stderr, "warning: "+format+"\n", args...)
	}
}

// OnShutdown registers a hook run by Shutdown (Ctrl-C, SIGTERM, normal exit
// of a run): flush journals, write final checkpoints. Hooks run in reverse
// order of registration.
func (rt *Runtime) OnShutdown(fn func(ctx context.Context)) {
	rt.mu.Lock()
	rt.shutdown = append(rt.shutdown, fn)
	rt.mu.Unlock()
}

// Shutdown runs the registered hooks once, newest first, each guarded
// against panics.
func (rt *Runtime) Shutdown(ctx context.Context) {
	rt.mu.Lock()
	hooks := rt.shutdown
	rt.shutdown = nil
	rt.mu.Unlock()
	for i := len(hooks) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					fmt.Fprintf(rt.Stderr, "bohost: shutdown hook failed: %v\n", r)
				}
			}()
			hooks[i](ctx)
		}()
	}
}

// LoadAll requires every registered Go module and every top-level module of
// the friendly Lua layer, so that all docs are registered (for help and
// completion); errors are ignored here and surface when a script requires
// the module.
func (rt *Runtime) LoadAll() {
	if rt.loadedAll {
		return
	}
	rt.loadedAll = true
	for _, m := range append(rt.ModuleNames(), rt.LuaModuleNames()...) {
		if err := rt.L.CallByParam(glua.P{Fn: rt.L.GetGlobal("require"), NRet: 1, Protect: true}, glua.LString(m)); err == nil {
			rt.L.Pop(1)
		}
	}
}

// Require loads a module (so that, for example, its userdata types are
// registered before another module returns such objects).
func (rt *Runtime) Require(name string) error {
	if err := rt.L.CallByParam(glua.P{Fn: rt.L.GetGlobal("require"), NRet: 1, Protect: true}, glua.LString(name)); err != nil {
		return err
	}
	rt.L.Pop(1)
	return nil
}

// ModuleNames lists the registered Go modules.
func (rt *Runtime) ModuleNames() []string {
	out := make([]string, 0, len(rt.modules))
	for n := range rt.modules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Funcs builds a module table from fs. Each function runs under the panic
// guard, and its doc is registered as "prefix.name".
func (rt *Runtime) Funcs(prefix string, fs []Func) *glua.LTable {
	t := rt.L.NewTable()
	docPrefix, sig := prefix, func(s string) string { return s }
	if rt.opening != "" && rt.hasLuaModule(prefix) {
		// The friendly layer owns the short name (require "bo" is not
		// require "bohost.bo"): document the raw module under its full name.
		docPrefix = rt.opening
		sig = func(s string) string {
			if rest, ok := strings.CutPrefix(s, prefix+"."); ok {
				return rt.opening + "." + rest
			}
			return s
		}
	}
	for _, f := range fs {
		full := prefix + "." + f.Name
		name := docPrefix + "." + f.Name
		rt.docs[name] = Doc{Name: name, Sig: sig(f.Sig), Desc: f.Desc, Module: rt.opening}
		rt.L.SetField(t, f.Name, rt.L.NewFunction(guard(full, f.Sig, false, f.Fn)))
	}
	return t
}

// NewType registers a userdata type with methods (called as obj:method()).
// tostring renders the object for __tostring and the REPL. The methods table
// is also exposed as the metatable's "methods" field for completion.
func (rt *Runtime) NewType(name, short string, methods []Func, tostring func(v any) string) {
	L := rt.L
	mt := L.NewTypeMetatable(name)
	mtab := L.NewTable()
	fns := map[string]glua.LGFunction{}
	for _, f := range methods {
		full := short + ":" + f.Name
		rt.docs[full] = Doc{Name: full, Sig: f.Sig, Desc: f.Desc, Module: rt.opening}
		g := guard(full, f.Sig, true, f.Fn)
		fns[f.Name] = g
		L.SetField(mtab, f.Name, L.NewFunction(g))
	}
	rt.types[name] = fns
	rt.shorts[short] = name
	L.SetField(mt, "__index", mtab)
	L.SetField(mt, "methods", mtab)
	L.SetField(mt, "__name", glua.LString(name))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *glua.LState) int {
		ud := L.CheckUserData(1)
		if tostring != nil {
			L.Push(glua.LString(tostring(ud.Value)))
		} else {
			L.Push(glua.LString(fmt.Sprintf("%s(%p)", name, ud)))
		}
		return 1
	}))
}

// TypeNames maps the short name of each registered userdata type, as its
// methods' docs name it ("Model" in Model:predict), to its metatable name
// ("bohost.gp.Model").
func (rt *Runtime) TypeNames() map[string]string {
	out := make(map[string]string, len(rt.shorts))
	for k, v := range rt.shorts {
		out[k] = v
	}
	return out
}

// SetTypeField sets an extra metamethod (e.g. "__len", "__index" function)
// on a registered type.
func (rt *Runtime) SetTypeField(name, field string, fn glua.LGFunction) {
	mt := rt.L.GetTypeMetatable(name).(*glua.LTable)
	rt.L.SetField(mt, field, rt.L.NewFunction(Guard(name+"."+field, fn)))
}

// NewObject wraps v as a userdata of a registered type.
func NewObject(L *glua.LState, typeName string, v any) *glua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(typeName))
	return ud
}

// CheckObject returns argument n as a T, raising bad_arg naming the expected
// type otherwise.
func CheckObject[T any](L *glua.LState, n int, op, typeName string) T {
	ud, ok := L.Get(n).(*glua.LUserData)
	if ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	var zero T
	ArgError(L, op, n, "%s expected, got %s", typeName, TypeName(L.Get(n)))
	return zero
}

// TypeName names a value's type, using a userdata's registered type name.
func TypeName(v glua.LValue) string {
	if ud, ok := v.(*glua.LUserData); ok {
		if mt, ok := ud.Metatable.(*glua.LTable); ok {
			if n, ok := mt.RawGetString("__name").(glua.LString); ok {
				return string(n)
			}
		}
	}
	return v.Type().String()
}

// Guard wraps fn so that a Go panic inside it becomes a Lua error of kind
// internal (with the Go stack in the message's hint) instead of a crash.
// Lua errors raised by fn pass through unchanged.
func Guard(op string, fn glua.LGFunction) glua.LGFunction {
	return guard(op, "", false, fn)
}

// guard is Guard for a documented function: an argument error that
// gopher-lua's own checks (L.CheckString, L.CheckTable, ...) raise in fn
// itself, a plain string "bad argument #2 to tell (number expected, got
// nil)", becomes a structured bad_arg error naming the argument after sig
// ("opt:tell(x, w, y)": #2 is x for a method), with sig as the hint. Errors
// of Lua functions that fn calls pass through unchanged.
func guard(op, sig string, method bool, fn glua.LGFunction) glua.LGFunction {
	return func(L *glua.LState) (n int) {
		entry, _ := L.GetStack(0) // fn's own frame
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if ae, ok := r.(*glua.ApiError); ok {
				if now, _ := L.GetStack(0); entry != nil && now != nil && *now == *entry {
					if e := checkError(ae, op, sig, method); e != nil {
						Raise(L, op, e)
					}
				}
				panic(r)
			}
			stack := string(debug.Stack())
			e := errs.New(errs.Internal, op, "Go panic: %v", r)
			e.Hint = "this is a bohost bug; please report it with the stack below\n" + trimStack(stack)
			Raise(L, op, e)
		}()
		return fn(L)
	}
}

func trimStack(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 24 {
		lines = lines[:24]
	}
	return strings.Join(lines, "\n")
}

// Run executes fn under ctx: L.SetContext for the chunk's duration, so
// cancelling ctx stops the Lua code at the next instruction.
func (rt *Runtime) withContext(ctx context.Context, fn func() error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rt.L.SetContext(ctx)
	defer rt.L.RemoveContext()
	err := fn()
	if err != nil {
		se := fromAPIError(err)
		if se.Traceback == "" {
			se.Traceback = rt.lastTB
		}
		if ctx.Err() != nil && (se.Kind == "error" || se.Kind == errs.Internal) && strings.Contains(se.Msg, "context") {
			se.Kind = errs.Canceled
			se.Msg = "interrupted: " + context.Cause(ctx).Error()
		}
		return se
	}
	return nil
}

// DoString runs a chunk and returns its results.
func (rt *Runtime) DoString(ctx context.Context, src, name string) ([]glua.LValue, error) {
	fn, err := rt.L.Load(strings.NewReader(src), name)
	if err != nil {
		return nil, fromAPIError(err)
	}
	return rt.Call(ctx, fn)
}

// DoFile runs a script file.
func (rt *Runtime) DoFile(ctx context.Context, path string) ([]glua.LValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ScriptError{Kind: errs.IO, Msg: fmt.Sprintf("cannot open script: %v", err), Hint: "check the path"}
	}
	defer f.Close()
	fn, err := rt.L.Load(f, filepath.Base(path))
	if err != nil {
		return nil, fromAPIError(err)
	}
	return rt.Call(ctx, fn)
}

// Call calls fn with args under ctx and returns all its results.
func (rt *Runtime) Call(ctx context.Context, fn *glua.LFunction, args ...glua.LValue) ([]glua.LValue, error) {
	L := rt.L
	var out []glua.LValue
	err := rt.withContext(ctx, func() error {
		top := L.GetTop()
		L.Push(fn)
		for _, a := range args {
			L.Push(a)
		}
		rt.lastTB = ""
		if err := L.PCall(len(args), glua.MultRet, L.NewFunction(rt.traceback)); err != nil {
			L.SetTop(top)
			return err
		}
		n := L.GetTop() - top
		out = make([]glua.LValue, n)
		for i := 0; i < n; i++ {
			out[i] = L.Get(top + 1 + i)
		}
		L.SetTop(top)
		return nil
	})
	return out, err
}

// traceback is the message handler of Call: it keeps the raised value
// unchanged and records the Lua traceback at the point of the error.
func (rt *Runtime) traceback(L *glua.LState) int {
	rt.lastTB = stackTrace(L)
	L.Push(L.Get(1))
	return 1
}

func stackTrace(L *glua.LState) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	for i := 1; ; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			break
		}
		if i > 20 {
			b.WriteString("\n\t...")
			break
		}
		L.GetInfo("nSl", dbg, glua.LNil)
		where := "[G]: ?"
		if dbg.CurrentLine > 0 {
			where = fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
		}
		name := dbg.Name
		switch {
		case name != "":
			name = "function '" + name + "'"
		case dbg.What == "main":
			name = "main chunk"
		default:
			name = "function <" + dbg.Source + ">"
		}
		fmt.Fprintf(&b, "\n\t%s in %s", where, name)
	}
	return b.String()
}
