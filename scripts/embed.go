// Package scripts embeds the friendly pure-Lua layer (lib/, require "bo") so
// the bohost binary works from any directory. The experiment scripts beside
// this file are meant to be copied and edited by users.
package scripts

import "embed"

// Lib is the friendly Lua layer: lib/bo/init.lua is require "bo".
//
//go:embed lib
var Lib embed.FS

// PythonHelper is python/bohost_worker.py, the Python side of the external
// evaluator protocol (host/extproc, docs/evaluators.md): bohost writes it to
// a cache directory and puts that first on a command objective's
// PYTHONPATH, so `import bohost_worker` works from any directory.
//
//go:embed python/bohost_worker.py
var PythonHelper []byte
