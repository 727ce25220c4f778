// Package bindings holds bohost's thin Lua modules over the host engines, one
// file per module. A binding checks its arguments, converts them to Go
// values, calls the engine and pushes the results: nothing else.
//
// All lists every module in one place, in the order `bohost help` shows them.
package bindings

import (
	"io/fs"

	"bohost/host/lua"
	"bohost/scripts"
)

// All returns the modules every runtime gets.
func All() []lua.Module {
	return []lua.Module{
		Sys{},
		Mem{},
		GP{},
		Risk{},
		Acq{},
		BO{},
		Ckpt{},
		Monitor{},
		Fault{},
		Run{},
		Report{},
		Airline{},
		GPU{},
		Cells{},
	}
}

// LuaFS is the friendly pure-Lua layer (require "bo"), embedded from scripts/lib.
func LuaFS() fs.FS {
	sub, err := fs.Sub(scripts.Lib, "lib")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	return sub
}
