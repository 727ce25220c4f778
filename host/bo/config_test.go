package bo

import (
	"strings"
	"testing"

	"bohost/host/errs"
)

// TestConfigValidationSpeaksLua: a refused configuration names the field as
// a script and config.json spell it (n_w, space[2].name, env.list[3]; 1-based
// like Lua), with the value received and the valid range, and parameter names
// must be distinct.
func TestConfigValidationSpeaksLua(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"duplicate names", func(c *Config) {
			c.Space = [][2]float64{{0, 1}, {0, 1}, {0, 2}}
			c.Names = []string{"a", "b", "a"}
		}, "space[3].name 'a' is already the name of space[1]"},
		{"alpha", func(c *Config) { c.Alpha = 2 }, "alpha must be in (0, 1], got 2"},
		{"alpha nan", func(c *Config) { c.Alpha = 0 }, "alpha must be in (0, 1], got 0"},
		{"convention", func(c *Config) { c.Convention = "paper" }, "convention must be \"bohost\" or \"botorch\", got \"paper\""},
		{"n_w", func(c *Config) { c.NW = 5000 }, "n_w must be in [1, 4096], got 5000"},
		{"n_initial", func(c *Config) { c.NInitial = -3 }, "n_initial must be in [1, 100000], got -3"},
		{"bounds", func(c *Config) { c.Space = [][2]float64{{0, 1}, {2, 1}} }, "space[2] must be finite with lo < hi, got [2, 1]"},
		{"log", func(c *Config) { c.Scales = []string{"log"} }, "space[1].scale is \"log\" but space[1].lo is 0"},
		{"env list", func(c *Config) {
			c.NW = 2
			c.Env = Env{List: [][]float64{{1, 2}, {1}}}
		}, "env.list[2] has 1 features, want 2 (as env.list[1])"},
		{"n_w > envs", func(c *Config) { c.Env = Env{List: [][]float64{{1}, {2}}} }, "n_w must be at most the number of environments (2), got 6"},
		{"indices", func(c *Config) {
			c.NW = 2
			c.Env = Env{List: [][]float64{{1}, {2}, {3}}, Select: SelectFixed, Indices: []int{0, 0}}
		}, "env.indices must be distinct indices in [1, 3], got 1 twice"},
		{"recommend_n_w", func(c *Config) { c.RecommendNW = -1 }, "recommend_n_w must be in [1, 4096], got -1"},
		{"mc_samples", func(c *Config) { c.MCSamples = -1 }, "mc_samples must be >= 0 (0: the default, 128), got -1"},
		{"fantasies", func(c *Config) { c.Fantasies = -1 }, "fantasies must be >= 0 (0: the default, 16), got -1"},
		{"ucb_beta", func(c *Config) { c.UCBBeta = -1 }, "ucb_beta must be >= 0 (0: the default, 2), got -1"},
		{"hyper_samples", func(c *Config) { c.HyperSamples = 65 }, "hyper_samples must be in [0, 64]"},
		{"recommend_from", func(c *Config) { c.RecommendFrom = "best" }, "recommend_from must be \"evaluated\" or \"continuous\", got \"best\""},
	}
	for _, c := range cases {
		cfg := smallCfg(AcqRhoKG, 1)
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want bad_arg containing %q", c.name, err, c.want)
		}
		for _, goName := range []string{"NW", "NInitial", "Space", "Env.", "Alpha", "RecommendNW", "HyperSamples", "Names", "Scales"} {
			if err != nil && strings.Contains(err.Error(), goName) {
				t.Errorf("%s: %v names the Go field %s", c.name, err, goName)
			}
		}
	}
}
