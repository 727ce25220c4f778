package main

import (
	"fmt"
	"strings"

	"bohost/host/lua"
	"bohost/host/version"
)

func versionMain(env *Env, args []string) int {
	fmt.Fprintf(env.Stdout, "bohost %s\n%s, %s\n", version.Version, version.Go(), version.Lua)
	if r := version.Revision(); r != "" {
		fmt.Fprintf(env.Stdout, "revision %s\n", r)
	}
	return ExitOK
}

const overview = `bohost: scriptable, crash-proof risk-averse Bayesian optimisation of image pipelines.

usage:
  bohost SCRIPT.lua [args...]   run a script (it sees its arguments in arg; bo.args parses --options)
  bohost                        start the REPL (same as bohost repl)
  bohost -e 'CHUNK' [args...]   run a chunk of Lua
  bohost COMMAND [--help]       run a command

`

func helpMain(env *Env, args []string) int {
	rt := newRuntime(env, "", nil)
	defer rt.Close()
	rt.LoadAll() // register every module's docs
	topic := ""
	if len(args) > 0 {
		topic = args[0]
	}
	if len(args) > 1 {
		return usageError(env, "help takes one topic, got %d (%s)", len(args), strings.Join(args, " "))
	}
	switch topic {
	case "":
		fmt.Fprint(env.Stdout, overview)
		printCommands(env)
		fmt.Fprintln(env.Stdout)
		printModuleIndex(env, rt)
		fmt.Fprintf(env.Stdout, "\nbohost help MODULE lists a module's functions with their signatures (bohost help bo, bohost help mem);\nbohost help FUNCTION shows one (bohost help bo.run); bohost help all lists every module.\nexit codes: 0 ok, 1 script error, 2 usage error, 129 SIGHUP, 130 Ctrl-C, 141 SIGPIPE, 143 SIGTERM.\n")
		return ExitOK
	case "commands":
		printCommands(env)
		return ExitOK
	case "modules":
		for _, m := range helpModules(rt) {
			fmt.Fprintln(env.Stdout, m)
		}
		return ExitOK
	case "all":
		for i, m := range helpModules(rt) {
			if i > 0 {
				fmt.Fprintln(env.Stdout)
			}
			printModule(env, rt, m)
		}
		return ExitOK
	}
	if c, ok := commands[topic]; ok {
		fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n", c.Usage, c.Summary)
		return ExitOK
	}
	if m, ok := rt.HelpModule(topic); ok {
		printModule(env, rt, m)
		return ExitOK
	}
	if d, ok := rt.LookupDoc(topic); ok {
		fmt.Fprint(env.Stdout, lua.FormatDoc(d))
		return ExitOK
	}
	var names []string
	for _, m := range helpModules(rt) {
		names = append(names, m)
		for _, d := range rt.ModuleDocs(m) {
			names = append(names, d.Name)
			names = append(names, rt.TemplateMembers(d)...)
		}
	}
	msg := fmt.Sprintf("no help for %q", topic)
	if s := lua.Suggest(topic, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return usageError(env, "%s; try bohost help modules, bohost help all or bohost help commands", msg)
}

// helpModules lists what bohost help documents: the friendly layer first,
// then the raw modules in the order bindings.All gives them.
func helpModules(rt *lua.Runtime) []string {
	out := rt.LuaModuleNames()
	for _, m := range rt.Options().Modules {
		out = append(out, m.Name())
	}
	return out
}

// moduleTitle says what a module is and how a script gets it.
func moduleTitle(m string) string {
	if !strings.HasPrefix(m, "bohost.") {
		return fmt.Sprintf("%s: the friendly layer, local %s = require %q", m, m, m)
	}
	short := strings.TrimPrefix(m, "bohost.")
	if short == "bo" {
		return fmt.Sprintf("%s: raw module (the friendly layer is bo: bohost help bo), require %q", m, m)
	}
	return fmt.Sprintf("%s: raw module, local %s = require %q", m, short, m)
}

// printModule lists every function and method of a module with its
// signature and one-line doc.
func printModule(env *Env, rt *lua.Runtime, m string) {
	fmt.Fprintf(env.Stdout, "%s\n", moduleTitle(m))
	for _, d := range rt.ModuleDocs(m) {
		desc := d.Desc
		if ms := rt.TemplateMembers(d); len(ms) > 0 {
			desc += ": " + strings.Join(ms, ", ")
		}
		fmt.Fprintf(env.Stdout, "  %s\n      %s\n", d.Sig, desc)
	}
}

// printModuleIndex lists each module with the names of its functions.
func printModuleIndex(env *Env, rt *lua.Runtime) {
	fmt.Fprintln(env.Stdout, "modules (bohost help MODULE lists one with signatures):")
	for _, m := range helpModules(rt) {
		var names []string
		for _, d := range rt.ModuleDocs(m) {
			names = append(names, sigWord(d))
		}
		fmt.Fprintf(env.Stdout, "  %s\n", moduleTitle(m))
		fmt.Fprint(env.Stdout, wrap(strings.Join(names, " "), "      ", 100))
	}
}

// sigWord is a doc's name as a script writes it: "opt:ask" for
// Optimizer:ask, "bo.run" for bo.run.
func sigWord(d lua.Doc) string {
	end := strings.IndexAny(d.Sig, "({ ")
	if end < 0 {
		return d.Sig
	}
	return d.Sig[:end]
}

func wrap(s, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(s) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func printCommands(env *Env) {
	fmt.Fprintln(env.Stdout, "commands:")
	for _, c := range visibleCommands() {
		fmt.Fprintf(env.Stdout, "  %-10s %s\n", c.Name, firstSentence(c.Summary))
	}
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}
