package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"bohost/host/testsupport"
)

var luaBlock = regexp.MustCompile("(?s)```lua\n(.*?)```")

// TestLuaExamplesInDocs runs every ```lua block of README.md and docs/*.md
// as a script, so the examples users copy keep working. A block whose first
// line is "-- not run: REASON" is skipped (fragments, or blocks needing data
// the repository cannot ship).
func TestLuaExamplesInDocs(t *testing.T) {
	root := testsupport.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	ran := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range luaBlock.FindAllStringSubmatch(string(b), -1) {
			src := m[1]
			if strings.HasPrefix(strings.TrimSpace(src), "-- not run") {
				continue
			}
			name := filepath.Base(f) + "#" + itoa(i+1)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				p := filepath.Join(dir, "example.lua")
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				wd, _ := os.Getwd()
				os.Chdir(root)
				defer os.Chdir(wd)
				r := run(t, "", p)
				if r.code != 0 {
					t.Fatalf("example %s failed (exit %d):\n%s\n--- stderr:\n%s", name, r.code, src, r.stderr)
				}
			})
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no Lua examples found in the docs")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDocsNameRealTests: every test or fuzz target that README.md and
// docs/runs.md cite as the backing of a promise exists, so a renamed or
// deleted test cannot leave a promise pointing at nothing.
func TestDocsNameRealTests(t *testing.T) {
	root := testsupport.RepoRoot()
	var defined strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			defined.Write(b)
		}
		return nil
	})
	all := defined.String()
	cited := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)(?:/[A-Za-z0-9_]+)?`")
	n := 0
	for _, f := range []string{"README.md", filepath.Join("docs", "runs.md")} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cited.FindAllStringSubmatch(string(b), -1) {
			n++
			if !strings.Contains(all, "func "+m[1]+"(") {
				t.Errorf("%s cites %s, which no _test.go file defines", f, m[1])
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d tests cited in README.md and docs/runs.md: the promise tables are gone?", n)
	}
}
