// Package scripts embeds the friendly pure-Lua layer (lib/, require "bo") so
// the bohost binary works from any directory. The experiment scripts beside
// this file are meant to be copied and edited by users.
package scripts

import "embed"

// Lib is the friendly Lua layer: lib/bo/init.lua is require "bo".
//
//go:embed lib
var Lib embed.FS
