package num_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// homeRule is a helper that must live in one place (issue 20: two
// jitter-ladder Cholesky routines, three float-vector keys, five `finite`
// helpers with two meanings, three item lookups had grown apart). A match of
// re in any other file fails the test; so does, when max > 0, finding no
// match or more than max matches in home (max 0: no match anywhere).
type homeRule struct {
	what  string
	re    *regexp.Regexp
	home  string   // the file (from the module root) where it lives
	max   int      // matches expected in home: 1 to max (0: none)
	allow []string // other matches allowed, as "file: matched text"
	hint  string
}

var homeRules = []homeRule{
	{what: "a finite helper for one value", home: "host/internal/num/num.go",
		re:   regexp.MustCompile(`return !math\.IsNaN\(\w+\) && !math\.IsInf\(\w+, 0\)`),
		hint: "use num.Finite(x)"},
	{what: "a finite helper for a slice", home: "host/internal/num/num.go", max: 1,
		re:   regexp.MustCompile(`range [^\n]*\{\n\s*if math\.IsNaN\(\w+\) \|\| math\.IsInf\(\w+, 0\) \{\n\s*return false`),
		hint: "use num.Finite(v...)"},
	{what: "a function named finite", home: "host/internal/num/num.go", max: 1,
		re:   regexp.MustCompile(`(?m)^func (\([^)]*\) )?(?i:(is|all)?finite)\(`),
		hint: "use num.Finite, or name a different meaning differently"},
	{what: "a float-vector key", home: "host/internal/num/num.go", max: 1,
		re:   regexp.MustCompile(`func\s*\w*\s*\(\w+ \[\]float64\) string`),
		hint: "use num.Key(v)"},
	{what: "a jitter ladder", home: "host/internal/linalg/chol.go", max: 2,
		re:   regexp.MustCompile(`1e-\d+,\s*1e-\d+,\s*1e-\d+`),
		hint: "use linalg.Chol, CholUpper or CholLower"},
	{what: "a Cholesky routine", home: "host/internal/linalg/chol.go", max: 4,
		re:    regexp.MustCompile(`(?m)^func (\([^)]*\) )?(?i:chol)\w*\(`),
		allow: []string{"host/acq/nei.go: func cholBackward("},
		hint:  "use linalg.Chol, CholUpper or CholLower"},
	{what: "a data set item lookup", home: "bindings/airline.go", max: 1,
		re:   regexp.MustCompile(`RawGetString\("index"\)`),
		hint: "use itemRef"},
}

// TestOneHome keeps each helper of homeRules in its one home: the Go files
// under host/, bindings/ and cmd/ (tests included) hold no second copy.
func TestOneHome(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	found := make([]map[string]int, len(homeRules))
	for i := range found {
		found[i] = map[string]int{}
	}
	for _, dir := range []string{"host", "bindings", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "onehome_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			for i, r := range homeRules {
				for _, m := range r.re.FindAllString(string(b), -1) {
					if (rel != r.home || r.max == 0) && !allowed(r, rel, m) {
						t.Errorf("%s: %s (%q): it lives in %s; %s", rel, r.what, firstLine(m), r.home, r.hint)
					}
					found[i][rel]++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range homeRules {
		if r.max == 0 {
			continue
		}
		if n := found[i][r.home]; n == 0 {
			t.Errorf("%s: found no %s: the rule no longer matches its home", r.home, r.what)
		} else if r.max > 0 && n > r.max {
			t.Errorf("%s: %d matches of %s, want at most %d; %s", r.home, n, r.what, r.max, r.hint)
		}
	}
}

func allowed(r homeRule, file, m string) bool {
	for _, a := range r.allow {
		if a == file+": "+m {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
