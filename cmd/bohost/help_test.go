package main

import (
	"context"
	"io"
	"sort"
	"strings"
	"testing"

	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// reachable lists, from Lua, everything a script reaches from require "bo":
// bo's functions, the raw modules bo.<name> loads (as "bo.<name>"), each raw
// module's functions, and the methods of every userdata type. Names are as
// help spells them: bo.run, mem.stats, bohost.bo.new (bo is the friendly
// layer), Model:predict.
const reachable = `
local bo = require "bo"
local out = {fns = {}, mods = {}}
for k, v in pairs(bo) do
  if type(v) == "function" then out.fns[#out.fns + 1] = "bo." .. k end
end
for name in pairs(package.preload) do
  local short = name:match("^bohost%.([%w_]+)$")
  if short and type(rawget(bo, short)) ~= "function" then
    local m = bo[short]   -- the lazy access itself
    assert(m == require(name), name)
    out.mods[#out.mods + 1] = "bo." .. short
    local prefix = short == "bo" and "bohost.bo" or short
    for k, v in pairs(m) do
      if type(v) == "function" then out.fns[#out.fns + 1] = prefix .. "." .. k end
    end
  end
end
return out
`

// TestHelpCoversEverythingReachable: every function reachable from
// require "bo" (and every method of every userdata type) has a signature and
// a description, listed by bohost help all and bohost help MODULE, shown by
// bohost help NAME and the REPL's ?NAME, and offered by Tab. A function
// added without docs fails here.
func TestHelpCoversEverythingReachable(t *testing.T) {
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	rt := newRuntime(env, "", nil)
	defer rt.Close()
	rt.LoadAll()
	vals, err := rt.DoString(context.Background(), reachable, "reachable")
	if err != nil {
		t.Fatal(err)
	}
	list := func(k string) []string {
		var out []string
		vals[0].(*glua.LTable).RawGetString(k).(*glua.LTable).ForEach(func(_, v glua.LValue) { out = append(out, v.String()) })
		sort.Strings(out)
		return out
	}
	fns, mods := list("fns"), list("mods")
	// Methods: what each type's metatable really offers.
	var methods []string
	for short, full := range rt.TypeNames() {
		mt := rt.L.GetTypeMetatable(full).(*glua.LTable)
		rt.L.GetField(mt, "methods").(*glua.LTable).ForEach(func(k, _ glua.LValue) {
			methods = append(methods, short+":"+k.String())
		})
	}
	sort.Strings(methods)
	if len(fns) < 60 || len(mods) < 10 || len(methods) < 30 {
		t.Fatalf("found only %d functions, %d modules, %d methods", len(fns), len(mods), len(methods))
	}
	for _, want := range []string{"bo.args", "bo.optimizer", "bo.restore", "bo.run", "bo.on_shutdown", "bo.version", "mem.stats", "bohost.bo.new"} {
		if !contains(fns, want) {
			t.Errorf("%s is not reachable from require \"bo\"", want)
		}
	}

	all := run(t, "", "help", "all")
	if all.code != 0 {
		t.Fatalf("help all: %+v", all)
	}
	repl := lua.NewREPL(rt, lua.REPLOptions{Out: io.Discard, Err: io.Discard})
	if _, err := rt.DoString(context.Background(), `bo = require "bo"`, "repl"); err != nil {
		t.Fatal(err)
	}
	ask := func(name string) string {
		var out strings.Builder
		r := lua.NewREPL(rt, lua.REPLOptions{In: strings.NewReader("?" + name + "\n"), Out: &out, Err: &out})
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	for _, name := range append(append(fns, mods...), methods...) {
		d, ok := rt.LookupDoc(name)
		if !ok {
			t.Errorf("%s: no doc (register a Sig and Desc, or a --- doc comment in the friendly layer)", name)
			continue
		}
		if d.Sig == "" || d.Desc == "" {
			t.Errorf("%s: empty signature or description: %+v", name, d)
			continue
		}
		if !strings.Contains(d.Name, "MODULE") && d.Name != name {
			t.Errorf("%s: its doc is %s", name, d.Name)
		}
		// bohost help all and bohost help MODULE list the signature (bo.mem
		// as one of the members of bo.MODULE).
		listed := "\n  " + d.Sig + "\n"
		if contains(mods, name) {
			listed = " " + name + ","
			if name == mods[len(mods)-1] {
				listed = " " + name + "\n"
			}
		}
		if !strings.Contains(all.stdout, listed) {
			t.Errorf("%s: bohost help all does not list %q", name, strings.TrimSpace(listed))
		}
		if r := run(t, "", "help", d.Module); r.code != 0 || !strings.Contains(r.stdout, listed) {
			t.Errorf("%s: bohost help %s does not list it:\n%s", name, d.Module, r.stdout)
		}
		// bohost help NAME and ?NAME show it.
		if r := run(t, "", "help", name); r.code != 0 || !strings.HasPrefix(r.stdout, d.Sig+"\n  "+d.Desc+"\n") {
			t.Errorf("bohost help %s: %+v", name, r)
		}
		if out := ask(name); !strings.HasPrefix(out, d.Sig+"\n  "+d.Desc+"\n") {
			t.Errorf("?%s: %q", name, out)
		}
		// Tab offers it: bo.<Tab>, bo.mem.<Tab>, bo.bo.<Tab>.
		if strings.Contains(name, ":") {
			continue // methods: TestHelpTabCompletesMethods
		}
		path := name
		switch {
		case strings.HasPrefix(name, "bo."):
		case strings.HasPrefix(name, "bohost.bo."):
			path = "bo.bo." + strings.TrimPrefix(name, "bohost.bo.")
		default:
			path = "bo." + name
		}
		if got := repl.Complete("x = " + path[:len(path)-1]); !contains(got, path) {
			t.Errorf("Tab after %q offers %v, not %s", path[:len(path)-1], got, path)
		}
	}
	// The friendly layer owns the name bo; the raw module is bohost.bo.
	r := run(t, "", "help", "bo")
	for _, want := range []string{"bo.args{", "bo.optimizer{", "bo.restore(", "bo.run{", "bo.on_shutdown(", "bo.version(", "bo.MODULE", "bo.mem, "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bohost help bo lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "bo.new") || strings.Contains(r.stdout, "\n  opt:ask(") {
		t.Errorf("bohost help bo lists the raw module:\n%s", r.stdout)
	}
	r = run(t, "", "help", "bohost.bo")
	for _, want := range []string{"bohost.bo.new{", "bohost.bo.restore(", "opt:ask(", "opt:tell("} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bohost help bohost.bo lacks %q:\n%s", want, r.stdout)
		}
	}
	// The overview names every module and every function of the friendly layer.
	r = run(t, "", "help")
	for _, want := range []string{"bo.args", "bo.run", "bohost.airline", "ev:eval", "bohost help all"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bohost help lacks %q", want)
		}
	}
	// A name that is nothing gets a usage error with a did-you-mean.
	if r := run(t, "", "help", "bo.optimiser"); r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean bo.optimizer?") {
		t.Errorf("help bo.optimiser: %+v", r)
	}
	if got := ask("bo.gpp"); !strings.HasPrefix(got, "no doc") {
		t.Errorf("?bo.gpp: %q", got)
	}
}

// TestHelpTabCompletesMethods: obj:<Tab> offers every documented method of
// obj's type, and ?obj:method finds its doc.
func TestHelpTabCompletesMethods(t *testing.T) {
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	rt := newRuntime(env, "", nil)
	defer rt.Close()
	if _, err := rt.DoString(context.Background(), `
		bo = require "bo"
		opt = bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, n_w = 2}
		model = bo.gp.new{}
		ds = bo.airline.dataset{synthetic = {n = 1, width = 32, height = 32}}
		fig = bo.report.figure{}
	`, "setup"); err != nil {
		t.Fatal(err)
	}
	repl := lua.NewREPL(rt, lua.REPLOptions{Out: io.Discard, Err: io.Discard})
	for obj, typ := range map[string]string{"opt": "Optimizer", "model": "Model", "ds": "Dataset", "fig": "Figure"} {
		got := repl.Complete("x = " + obj + ":")
		n := 0
		for _, d := range rt.Docs() {
			name, ok := strings.CutPrefix(d.Name, typ+":")
			if !ok {
				continue
			}
			n++
			if !contains(got, obj+":"+name) {
				t.Errorf("%s:<Tab> offers %v, not %s", obj, got, name)
			}
		}
		if n == 0 || len(got) != n {
			t.Errorf("%s:<Tab>: %d documented methods, %d offered: %v", obj, n, len(got), got)
		}
	}
	if got := repl.Complete("x = bo."); !contains(got, "bo.args") || !contains(got, "bo.mem") || contains(got, "bo.MODULE") {
		t.Errorf("bo.<Tab>: %v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
