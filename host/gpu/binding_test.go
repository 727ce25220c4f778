package gpu

import (
	"go/build"
	"go/build/constraint"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The purego binding is referenced from an untagged file: if cuda.go went
// back behind a build tag, the default build of this test would not compile.
var _ = loadCUDA

// deviceOnlyTests are the only files that may carry a build constraint: the
// device tests, behind the cuda tag (make gpu-check-binary builds them).
var deviceOnlyTests = []string{"cuda_device_test.go"}

// TestBindingInEveryBuild guards against the CUDA path going back behind a
// build tag (issue 20: `make run` on a GPU machine silently used the CPU
// unless the user rebuilt with -tags cuda). The package as the default
// build sees it (no tags) must contain the driver binding and every
// production file, and no file but the device tests may have a build
// constraint that mentions cuda.
func TestBindingInEveryBuild(t *testing.T) {
	ctx := build.Default
	ctx.BuildTags = nil
	pkg, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pkg.GoFiles, "cuda.go") {
		t.Errorf("the default build of host/gpu lacks the driver binding cuda.go: GoFiles %v", pkg.GoFiles)
	}
	if !slices.Contains(pkg.Imports, "github.com/ebitengine/purego") {
		t.Errorf("the default build of host/gpu does not import purego: %v", pkg.Imports)
	}
	for _, f := range pkg.IgnoredGoFiles {
		if !strings.HasSuffix(f, "_test.go") {
			t.Errorf("%s is left out of the default build: every production file of host/gpu is in it", f)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "package ") {
				break
			}
			if !constraint.IsGoBuild(line) && !constraint.IsPlusBuild(line) {
				continue
			}
			if strings.Contains(line, "cuda") && !slices.Contains(deviceOnlyTests, f) {
				t.Errorf("%s: %q: only the device tests (%v) may depend on the cuda tag; the binding loads the driver at run time", f, line, deviceOnlyTests)
			}
		}
	}
}
