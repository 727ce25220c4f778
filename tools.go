//go:build tools

// Package bohost pins the modules the project builds on, so `go mod tidy`
// keeps them in go.mod before every package that uses them has landed.
package bohost

import (
	_ "github.com/chzyer/readline"
	_ "github.com/ebitengine/purego"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/shirou/gopsutil/v4/process"
	_ "github.com/yuin/gopher-lua"
	_ "gocv.io/x/gocv"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
)
