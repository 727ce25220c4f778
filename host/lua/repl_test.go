package lua

import (
	"context"
	"strings"
	"testing"
)

func TestCompleter(t *testing.T) {
	rt := New(Options{})
	defer rt.Close()
	if _, err := rt.DoString(context.Background(), "tools = {set_limit = 1, set_other = 2, stats = 3}", "x"); err != nil {
		t.Fatal(err)
	}
	c := &completer{rt: rt}
	for line, want := range map[string]string{"tools.set_l": "imit", "tools.st": "ats", "stri": "ng", "string.up": "per"} {
		got, n := c.Do([]rune(line), len(line))
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if len(s) != 1 || s[0] != want {
			t.Errorf("%q: got %v (%d), want %q", line, s, n, want)
		}
	}
	got, _ := c.Do([]rune("tools.set_"), 10)
	if len(got) != 2 {
		t.Errorf("tools.set_: %d candidates", len(got))
	}
	_ = strings.TrimSpace
}
