// Package lua is bohost's Lua runtime: the only package that imports
// gopher-lua. It builds one *lua.LState per run, owned by one goroutine, and
// gives bindings what they need to stay thin:
//
//   - a module registry: Go modules (Module) behind require "bohost.NAME",
//     and pure-Lua modules from an fs.FS (the friendly layer require "bo");
//   - structured errors: a Lua value of type bohost.Error with fields kind,
//     op, msg, hint and where, raised by Raise, surviving pcall, and coming
//     back to Go intact as *ScriptError;
//   - a guard around every registered function that turns a Go panic into a
//     Lua error of kind internal instead of a crash;
//   - strict option tables (Opts): an unknown key is an error naming it, with
//     a did-you-mean suggestion;
//   - cancellation: every chunk runs under a context (SetContext), so Ctrl-C or
//     SIGTERM stops a running chunk; long Go functions poll L.Context();
//   - a handle registry for native resources (gopher-lua has no __gc): handles
//     are freed explicitly or by mem.scope, and leaks are reported at Close;
//   - one doc registry (Doc, help.go) that feeds the REPL's ?name, Tab
//     completion and bohost help: Go modules register a signature and a
//     line with every function and method; the friendly layer documents its
//     functions with "--- signature" comments, parsed when it loads; "bo"
//     means the friendly layer, so the raw bohost.bo is documented as
//     bohost.bo.new;
//   - gopher-lua's own argument checks (L.CheckString, ...) raise plain
//     strings; the guard turns those of a binding into structured bad_arg
//     errors naming the argument after its signature;
//   - the REPL (repl.go) and command-line option parsing for scripts (args.go).
//
// Import direction: cmd/bohost -> bindings -> host/lua and host/<engine>.
// This package imports no engine.
package lua
