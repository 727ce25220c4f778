package lua

import (
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// The doc registry. Every function a script can reach has one Doc, and
// bohost help, the REPL's ?name and Tab completion all read it:
//
//   - Go modules register theirs with Funcs and NewType (Sig and Desc of
//     each Func), under the module whose Open is running;
//   - the friendly Lua layer (require "bo") documents each function with a
//     doc comment just above it, parsed when the module loads:
//
//     --- bo.run{dir=, optimizer=, ...} -> summary
//     -- One line: what it does.
//     -- Further lines: details and examples.
//
//     A name with MODULE in it ("bo.MODULE") stands for one member per Go
//     module: bo.mem, bo.gp, ... (the raw modules bo loads on first use).
//
// The friendly layer owns the short name "bo": the raw module bohost.bo is
// documented as bohost.bo.new, bohost.bo.restore (Funcs sees the clash).

// moduleTemplate in a doc name stands for the short name of each Go module.
const moduleTemplate = "MODULE"

// LuaModuleNames lists the top-level modules of the friendly Lua layer
// (LuaFS): "bo" for bo/init.lua, "x" for x.lua.
func (rt *Runtime) LuaModuleNames() []string {
	if rt.opts.LuaFS == nil {
		return nil
	}
	ents, err := fs.ReadDir(rt.opts.LuaFS, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		switch {
		case e.IsDir():
			if _, err := fs.Stat(rt.opts.LuaFS, path.Join(name, "init.lua")); err == nil {
				out = append(out, name)
			}
		case strings.HasSuffix(name, ".lua"):
			out = append(out, strings.TrimSuffix(name, ".lua"))
		}
	}
	sort.Strings(out)
	return out
}

// hasLuaModule reports whether require name finds a friendly-layer module.
func (rt *Runtime) hasLuaModule(name string) bool {
	if rt.opts.LuaFS == nil || name == "" {
		return false
	}
	p := strings.ReplaceAll(name, ".", "/")
	for _, cand := range []string{p + ".lua", path.Join(p, "init.lua")} {
		if _, err := fs.Stat(rt.opts.LuaFS, cand); err == nil {
			return true
		}
	}
	return false
}

// parseLuaDocs registers the doc comments of a friendly-layer module's
// source: a line "--- SIGNATURE" starts a doc, the "-- " lines right after it
// give the one-line description and then the details.
func (rt *Runtime) parseLuaDocs(module, src string) {
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		sig, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "--- ")
		if !ok {
			continue
		}
		sig = strings.TrimSpace(sig)
		name := sigName(sig)
		if name == "" {
			continue
		}
		var body []string
		for i+1 < len(lines) {
			l := strings.TrimRight(lines[i+1], " \t")
			t := strings.TrimSpace(l)
			if !strings.HasPrefix(t, "--") || strings.HasPrefix(t, "---") {
				break
			}
			i++
			t = strings.TrimPrefix(t, "--")
			t = strings.TrimPrefix(t, " ")
			body = append(body, t)
		}
		d := Doc{Name: name, Sig: sig, Module: module}
		if len(body) > 0 {
			d.Desc = body[0]
			d.More = strings.TrimSpace(strings.Join(body[1:], "\n"))
		}
		rt.docs[name] = d
	}
}

// sigName is the function name a signature documents: "bo.run" for
// "bo.run{dir=, ...} -> summary", "opt:ask" for "opt:ask() -> x".
func sigName(sig string) string {
	end := strings.IndexAny(sig, "({ ")
	if end < 0 {
		end = len(sig)
	}
	name := sig[:end]
	if !strings.ContainsAny(name, ".:") {
		return ""
	}
	return name
}

// Docs returns every registered doc, sorted by name (a templated one such
// as bo.MODULE once, not expanded).
func (rt *Runtime) Docs() []Doc {
	rt.LoadAll()
	out := make([]Doc, 0, len(rt.docs))
	for _, d := range rt.docs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupDoc finds the doc of a function by its name: "mem.stats",
// "bo.run", "bo.mem" (a templated member), "Model:predict", or an unambiguous
// end of a name ("stats", "opt:ask", "bo.new" for bohost.bo.new).
func (rt *Runtime) LookupDoc(name string) (Doc, bool) {
	name = strings.TrimSpace(name)
	if _, ok := rt.docs[name]; !ok {
		rt.LoadAll()
	}
	if d, ok := rt.docs[name]; ok {
		return d, true
	}
	if d, ok := rt.templated(name); ok {
		return d, true
	}
	var hits []Doc
	alt := strings.ReplaceAll(name, ":", ".")
	for k, d := range rt.docs {
		if strings.HasSuffix(k, "."+name) || strings.HasSuffix(k, ":"+name) || strings.HasSuffix(k, "."+alt) ||
			// "opt:ask" for "Optimizer:ask": the signature's own spelling
			sigName(d.Sig) == name {
			hits = append(hits, d)
		}
	}
	if len(hits) == 1 {
		return hits[0], true
	}
	return Doc{}, false
}

// templated expands a templated doc ("bo.MODULE") for name ("bo.mem").
func (rt *Runtime) templated(name string) (Doc, bool) {
	for k, d := range rt.docs {
		pre, post, ok := strings.Cut(k, moduleTemplate)
		if !ok || !strings.HasPrefix(name, pre) || !strings.HasSuffix(name, post) || len(name) < len(pre)+len(post) {
			continue
		}
		short := name[len(pre) : len(name)-len(post)]
		if _, ok := rt.modules["bohost."+short]; !ok {
			continue
		}
		if _, taken := rt.docs[name]; taken {
			continue
		}
		r := strings.NewReplacer(moduleTemplate, short)
		return Doc{Name: name, Sig: r.Replace(d.Sig), Desc: r.Replace(d.Desc), More: r.Replace(d.More), Module: d.Module}, true
	}
	return Doc{}, false
}

// HelpModule resolves a help topic to a module: "bo" is the friendly layer,
// "bohost.bo" the raw module; "mem" is bohost.mem, since no friendly-layer
// module has that name. ok is false when the topic names no module.
func (rt *Runtime) HelpModule(topic string) (string, bool) {
	if rt.hasLuaModule(topic) {
		return topic, true
	}
	if _, ok := rt.modules[topic]; ok {
		return topic, true
	}
	if _, ok := rt.modules["bohost."+topic]; ok {
		return "bohost." + topic, true
	}
	return "", false
}

// ModuleDocs returns the docs of a module: its functions (sorted), then
// templated members (bo.MODULE), then the methods of the types it defines
// (sorted).
func (rt *Runtime) ModuleDocs(module string) []Doc {
	var fns, templates, methods []Doc
	for _, d := range rt.Docs() {
		switch {
		case d.Module != module:
		case strings.Contains(d.Name, ":"):
			methods = append(methods, d)
		case strings.Contains(d.Name, moduleTemplate):
			templates = append(templates, d)
		default:
			fns = append(fns, d)
		}
	}
	return append(append(fns, templates...), methods...)
}

// TemplateMembers lists what a templated doc stands for: for "bo.MODULE",
// bo.acq, bo.airline, ... (one per Go module); nil for any other doc.
func (rt *Runtime) TemplateMembers(d Doc) []string {
	pre, post, ok := strings.Cut(d.Name, moduleTemplate)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range rt.ModuleNames() {
		name := pre + strings.TrimPrefix(m, "bohost.") + post
		if _, taken := rt.docs[name]; !taken { // bo.run is a function, not bohost.run
			out = append(out, name)
		}
	}
	return out
}

// members lists the documented members of a module's table, for
// completion: "args", "run", ... and, for bo.MODULE, "mem", "gp", ...
func (rt *Runtime) members(module string) []string {
	var out []string
	for _, d := range rt.docs {
		if d.Module != module || strings.Contains(d.Name, ":") {
			continue
		}
		names := []string{d.Name}
		if strings.Contains(d.Name, moduleTemplate) {
			names = rt.TemplateMembers(d)
		}
		for _, n := range names {
			if i := strings.LastIndexByte(n, '.'); i >= 0 {
				out = append(out, n[i+1:])
			}
		}
	}
	return out
}

// badArgument is gopher-lua's message for a failed L.CheckX:
// "file.lua:3: bad argument #2 to tell (number expected, got nil)".
var badArgument = regexp.MustCompile(`(?s)^\s*(?:.*?:\d+:\s*)?bad argument #(\d+) to .*? \((.*)\)$`)

// checkError turns gopher-lua's plain argument error into a structured
// bad_arg error naming the argument, or returns nil for any other error.
func checkError(ae *glua.ApiError, op, sig string, method bool) error {
	s, ok := ae.Object.(glua.LString)
	if !ok {
		return nil
	}
	m := badArgument.FindStringSubmatch(string(s))
	if m == nil {
		return nil
	}
	n, _ := strconv.Atoi(m[1])
	what := ""
	names := argNames(sig)
	switch {
	case method && n == 1:
		what = " (the object: call it as obj:" + op[strings.LastIndexByte(op, ':')+1:] + "(...))"
	case method && n-2 < len(names):
		what = " (" + names[n-2] + ")"
	case !method && n-1 < len(names):
		what = " (" + names[n-1] + ")"
	}
	e := errs.New(errs.BadArg, op, "bad argument #%d%s: %s", n, what, m[2])
	if sig != "" {
		e.Hint = "usage: " + sig
	}
	return e
}

// argNames reads the argument names of a signature: "x, w, y" for
// "opt:tell(x, w, y) -> opt", "defaults, argv, help" for
// "sys.parse_args(defaults, argv [, help])", "options" for "gp.new{...}".
func argNames(sig string) []string {
	i := strings.IndexAny(sig, "({")
	if i < 0 {
		return nil
	}
	if sig[i] == '{' {
		return []string{"options"}
	}
	var names []string
	var cur strings.Builder
	depth := 0
	inStr := false
	flush := func() {
		a := strings.TrimSpace(cur.String())
		cur.Reset()
		if j := strings.IndexAny(a, "=|"); j >= 0 {
			a = strings.TrimSpace(a[:j])
		}
		switch {
		case a == "":
		case strings.HasPrefix(a, "{"):
			names = append(names, "options")
		default:
			names = append(names, a)
		}
	}
	for _, c := range sig[i+1:] {
		switch {
		case inStr:
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == '[' || c == ']':
			continue
		case c == '(' || c == '{':
			depth++
		case c == ')' || c == '}':
			if depth == 0 {
				flush()
				return names
			}
			depth--
		case c == ',' && depth == 0:
			flush()
			continue
		}
		cur.WriteRune(c)
	}
	flush()
	return names
}
