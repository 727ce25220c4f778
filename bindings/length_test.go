package bindings_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// maxBindingLines bounds a binding function: a binding checks its
// arguments, converts them, calls an engine and pushes the result; policy
// (defaults that depend on other options, process state, matching) belongs
// in the engines (host/run, host/bo, ...), where it is tested from Go.
// About 60 lines of code, as issue 20 asks; bo.run's binding was 166.
const maxBindingLines = 60

// TestBindingFunctionsAreShort: no function of the bindings has more than
// maxBindingLines lines of its own: blank and comment lines are not
// counted, and a function literal inside it (a method of a module's table,
// a hook) is measured as a function of its own.
func TestBindingFunctionsAreShort(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		code := codeLines(fset, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				measure(t, fset, fd, fd.Name.Name, code)
			}
		}
	}
}

// codeLines marks the lines holding code: those a syntax node starts or
// ends on (comments are not nodes here, blank lines hold none).
func codeLines(fset *token.FileSet, f *ast.File) map[int]bool {
	code := map[int]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if n != nil {
			code[fset.Position(n.Pos()).Line] = true
			code[fset.Position(n.End()).Line] = true
		}
		return true
	})
	return code
}

// measure counts fn's own code lines (nested function literals excluded,
// each measured on its own).
func measure(t *testing.T, fset *token.FileSet, fn ast.Node, name string, code map[int]bool) {
	t.Helper()
	own := map[int]bool{}
	first, last := fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line
	for l := first; l <= last; l++ {
		own[l] = code[l]
	}
	ast.Inspect(fn, func(n ast.Node) bool {
		lit, ok := n.(*ast.FuncLit)
		if !ok || n == fn {
			return true
		}
		a, b := fset.Position(lit.Body.Lbrace).Line, fset.Position(lit.Body.Rbrace).Line
		for l := a + 1; l < b; l++ {
			own[l] = false
		}
		measure(t, fset, lit, name+" (function literal at line "+strconv.Itoa(a)+")", code)
		return false
	})
	n := 0
	for _, c := range own {
		if c {
			n++
		}
	}
	if n > maxBindingLines {
		t.Errorf("%s:%d: %s has %d lines of code (at most %d): move the policy into the engine and keep the binding to checking, converting and pushing",
			fset.Position(fn.Pos()).Filename, first, name, n, maxBindingLines)
	}
}
