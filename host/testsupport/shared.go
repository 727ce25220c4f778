// Package testsupport resolves the ../shared folder beside the repository for
// tests and benchmarks, in one place. BOHOST_SHARED overrides the default.
// Tests must still pass where the folder is absent: use Require to skip with a
// clear message, or fall back to the package's own testdata/.
package testsupport

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns $BOHOST_SHARED, or ../shared relative to the repo root.
func SharedDir() string {
	if d := os.Getenv("BOHOST_SHARED"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "..", "shared")
}

// Shared joins parts under SharedDir and reports whether the path exists.
func Shared(parts ...string) (string, bool) {
	p := filepath.Join(append([]string{SharedDir()}, parts...)...)
	_, err := os.Stat(p)
	return p, err == nil
}

// Require returns the shared path or skips the test with a message naming it.
func Require(tb testing.TB, parts ...string) string {
	tb.Helper()
	p, ok := Shared(parts...)
	if !ok {
		tb.Skipf("%s not found (set BOHOST_SHARED to the shared folder); skipping", p)
	}
	return p
}

// YorkUrban returns the York Urban directory and whether it is present.
func YorkUrban() (string, bool) { return Shared("data", "lines", "yorkurban") }
