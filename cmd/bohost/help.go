package main

import (
	"fmt"
	"sort"
	"strings"

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
	switch topic {
	case "":
		fmt.Fprint(env.Stdout, overview)
		printCommands(env)
		fmt.Fprintf(env.Stdout, "\nmodules (require \"NAME\"): %s, and the friendly layer \"bo\"\n", strings.Join(rt.ModuleNames(), ", "))
		fmt.Fprintf(env.Stdout, "\nbohost help MODULE lists a module's functions; bohost help FUNCTION shows one (e.g. bohost help mem.stats).\nexit codes: 0 ok, 1 script error, 2 usage error, 130 Ctrl-C, 143 SIGTERM.\n")
		return ExitOK
	case "commands":
		printCommands(env)
		return ExitOK
	case "modules":
		for _, m := range rt.ModuleNames() {
			fmt.Fprintln(env.Stdout, m)
		}
		return ExitOK
	}
	if c, ok := commands[topic]; ok {
		fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n", c.Usage, c.Summary)
		return ExitOK
	}
	short := strings.TrimPrefix(topic, "bohost.")
	var lines []string
	for _, d := range rt.Docs() {
		if strings.HasPrefix(d.Name, short+".") || strings.HasPrefix(d.Name, short+":") {
			lines = append(lines, fmt.Sprintf("  %s\n      %s", d.Sig, d.Desc))
		}
	}
	if len(lines) > 0 {
		sort.Strings(lines)
		fmt.Fprintf(env.Stdout, "%s:\n%s\n", topic, strings.Join(lines, "\n"))
		return ExitOK
	}
	if d, ok := rt.LookupDoc(topic); ok {
		fmt.Fprintf(env.Stdout, "%s\n  %s\n", d.Sig, d.Desc)
		return ExitOK
	}
	return usageError(env, "no help for %q (try bohost help modules, or bohost help commands)", topic)
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
