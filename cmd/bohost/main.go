// Command bohost runs Lua scripts for risk-averse Bayesian optimisation
// experiments: `bohost SCRIPT.lua [args]`, `bohost` (REPL), `bohost -e CHUNK`,
// `bohost help`, and the subcommands listed by `bohost help commands`.
package main

import "os"

func main() { os.Exit(Run(OSEnv())) }
