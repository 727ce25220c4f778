package lua

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// installBase redirects print and io.write to the runtime's Stdout, so the
// CLI and tests can capture script output.
func (rt *Runtime) installBase() {
	L := rt.L
	L.SetGlobal("print", L.NewFunction(func(L *glua.LState) int {
		n := L.GetTop()
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		io.WriteString(rt.Stdout, b.String())
		return 0
	}))
	L.SetGlobal("error", L.NewFunction(luaErrorFn))
	if iot, ok := L.GetGlobal("io").(*glua.LTable); ok {
		L.SetField(iot, "write", L.NewFunction(func(L *glua.LState) int {
			for i := 1; i <= L.GetTop(); i++ {
				switch v := L.Get(i).(type) {
				case glua.LString:
					io.WriteString(rt.Stdout, string(v))
				case glua.LNumber:
					io.WriteString(rt.Stdout, v.String())
				default:
					L.ArgError(i, "string expected, got "+v.Type().String())
				}
			}
			return 0
		}))
	}
}

// installFSLoader lets require find pure-Lua modules in opts.LuaFS (the
// embedded friendly layer, require "bo"), before package.path.
func (rt *Runtime) installFSLoader() {
	L := rt.L
	pkg := L.GetField(L.GetGlobal("package"), "loaders").(*glua.LTable)
	loader := L.NewFunction(func(L *glua.LState) int {
		name := L.CheckString(1)
		p := strings.ReplaceAll(name, ".", "/")
		for _, cand := range []string{p + ".lua", path.Join(p, "init.lua")} {
			src, err := fs.ReadFile(rt.opts.LuaFS, cand)
			if err != nil {
				continue
			}
			fn, err := L.Load(strings.NewReader(string(src)), cand)
			if err != nil {
				L.RaiseError("error loading module %q: %v", name, err)
			}
			markLibChunk(L, cand)
			rt.parseLuaDocs(name, string(src))
			L.Push(fn)
			return 1
		}
		L.Push(glua.LString("\n\tno embedded module '" + name + "'"))
		return 1
	})
	// Insert after the preload loader (index 1) so Go modules win.
	n := pkg.Len()
	for i := n; i >= 2; i-- {
		pkg.RawSetInt(i+1, pkg.RawGetInt(i))
	}
	pkg.RawSetInt(2, loader)
}

// setArgs defines the global arg table as the lua interpreter does:
// arg[0] is the script, arg[1..n] its arguments, arg[-1] the program.
// The script's directory is prepended to package.path.
func (rt *Runtime) setArgs() {
	L := rt.L
	t := L.NewTable()
	t.RawSetInt(-1, glua.LString("bohost"))
	if rt.opts.ScriptPath != "" {
		t.RawSetInt(0, glua.LString(rt.opts.ScriptPath))
		dir := filepath.Dir(rt.opts.ScriptPath)
		pk := L.GetGlobal("package")
		old := L.GetField(pk, "path").String()
		L.SetField(pk, "path", glua.LString(filepath.Join(dir, "?.lua")+";"+filepath.Join(dir, "?", "init.lua")+";"+old))
	}
	for i, a := range rt.opts.Args {
		t.RawSetInt(i+1, glua.LString(a))
	}
	L.SetGlobal("arg", t)
}

// libChunksKey names the registry table of the chunk names of bohost's own
// Lua libraries (the embedded friendly layer). Error positions skip their
// frames: an error raised by bo.run is reported at the script's call, as
// error(msg, 2) would be, not inside bo/init.lua.
const libChunksKey = "bohost.lib_chunks"

func markLibChunk(L *glua.LState, source string) {
	reg := L.G.Registry
	t, ok := reg.RawGetString(libChunksKey).(*glua.LTable)
	if !ok {
		t = L.NewTable()
		reg.RawSetString(libChunksKey, t)
	}
	t.RawSetString(source, glua.LTrue)
}

func isLibChunk(L *glua.LState, source string) bool {
	t, ok := L.G.Registry.RawGetString(libChunksKey).(*glua.LTable)
	return ok && t.RawGetString(source) == glua.LTrue
}

// luaErrorFn is error(message [, level]) as in Lua 5.1: a string message
// gets the position of the function at level in front (1, the default: the
// function that called error; 2: its caller; 0: none), and nothing when that
// function is a Go one. gopher-lua's own error gives level 2 the position of
// level 1, so error(msg, 2) in a checking function blamed the checker.
func luaErrorFn(L *glua.LState) int {
	obj := L.CheckAny(1)
	level := L.OptInt(2, 1)
	if s, ok := obj.(glua.LString); ok && level > 0 {
		// Stack level 0 is error itself.
		if dbg, ok := L.GetStack(level); ok {
			if _, err := L.GetInfo("Sl", dbg, glua.LNil); err == nil && dbg.CurrentLine > 0 {
				obj = glua.LString(fmt.Sprintf("%s:%d: %s", dbg.Source, dbg.CurrentLine, string(s)))
			}
		}
	}
	L.Error(obj, 0)
	return 0
}
