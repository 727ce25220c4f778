// Package version holds bohost's version, set at build time with
// -ldflags "-X bohost/host/version.Version=v1.2.3", and the versions of what
// it embeds, for run records and bohost diagnose.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is bohost's version.
var Version = "0.1.0-dev"

// Lua is the embedded interpreter's language level.
const Lua = "Lua 5.1 (gopher-lua v1.1.2)"

// Go is the toolchain that built the binary.
func Go() string { return runtime.Version() }

// Revision is the VCS revision the binary was built from, when known.
func Revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
