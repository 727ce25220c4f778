package bo

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"bohost/host/acq"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/risk"
)

// toyF is a 1-D x, 1-D w toy whose CVaR optimum (x ≈ 0.3) differs from the
// nominal optimum (x ≈ 0.75, which is fragile in w).
func toyF(x, w []float64) float64 {
	robust := math.Exp(-20 * (x[0] - 0.3) * (x[0] - 0.3))
	fragile := 1.6 * math.Exp(-60*(x[0]-0.75)*(x[0]-0.75)) * (1 - 1.2*w[0])
	return robust + fragile
}

func trueCVaR(x []float64, alpha float64) float64 {
	n := 512
	v := make([]float64, n)
	for i := range v {
		v[i] = toyF(x, []float64{(float64(i) + 0.5) / float64(n)})
	}
	c, _ := risk.CVaR(v, alpha, risk.Bohost)
	return c
}

func smallCfg(acqName string, seed uint64) Config {
	return Config{Space: [][2]float64{{0, 1}}, Env: Env{Bounds: [][2]float64{{0, 1}}}, Alpha: 0.3, NW: 6,
		Acquisition: acqName, NInitial: 4, Seed: seed,
		Optim: acq.OptimOptions{RawSamples: 32, Restarts: 3, MaxIter: 30, Workers: 2}}
}

func loop(t *testing.T, o *Optimizer, n int) [][]Candidate {
	t.Helper()
	var asks [][]Candidate
	for i := 0; i < n; i++ {
		c, err := o.Ask(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		asks = append(asks, c)
		for _, cc := range c {
			if err := o.Tell(cc, toyF(cc.X, cc.W)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return asks
}

// roundTrip restores o from its State sent through JSON.
func roundTrip(t *testing.T, o *Optimizer) *Optimizer {
	t.Helper()
	b, err := json.Marshal(o.State())
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResumeBitExact(t *testing.T) {
	for _, a := range []string{AcqRhoKG, AcqQLogNEI, AcqUCB, AcqTS, AcqRandom, AcqUCB + "+hyper"} {
		t.Run(a, func(t *testing.T) {
			cfg := smallCfg(strings.TrimSuffix(a, "+hyper"), 3)
			if strings.HasSuffix(a, "+hyper") {
				cfg.HyperSamples = 3
			}
			full, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := loop(t, full, 12)
			half, _ := New(cfg)
			got := loop(t, half, 6)
			got = append(got, loop(t, roundTrip(t, half), 6)...)
			if !reflect.DeepEqual(got, want) {
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("ask %d differs after resume: got %v, want %v", i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a := loop(t, mustNew(t, smallCfg(AcqRhoKG, 8)), 5)
	b := loop(t, mustNew(t, smallCfg(AcqRhoKG, 8)), 5)
	c := loop(t, mustNew(t, smallCfg(AcqRhoKG, 9)), 5)
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with seed 8 differ")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 8 and 9 gave identical runs")
	}
}

func mustNew(t *testing.T, c Config) *Optimizer {
	t.Helper()
	o, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestImprovesOverRandom: with 4 initial pairs and 14 iterations, rho_kg and
// qlognei (all_w) recommend x's with a better true CVaR, averaged over 3
// seeds, than random search with the same budget in the same mode.
func TestImprovesOverRandom(t *testing.T) {
	best := trueCVaR([]float64{0.3}, 0.3)
	for _, c := range []struct{ acq, mode string }{{AcqRhoKG, ModePair}, {AcqQLogNEI, ModeAllW}} {
		var rg, rr float64
		for seed := uint64(0); seed < 3; seed++ {
			for _, a := range []string{c.acq, AcqRandom} {
				cfg := smallCfg(a, seed)
				cfg.Mode = c.mode
				o := mustNew(t, cfg)
				iters := 14
				if c.mode == ModeAllW {
					iters = 5
				}
				loop(t, o, iters+1)
				rec, err := o.Recommend(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				reg := best - trueCVaR(rec.X, 0.3)
				if a == AcqRandom {
					rr += reg / 3
				} else {
					rg += reg / 3
				}
			}
		}
		t.Logf("%s: mean regret %.4g, random %.4g", c.acq, rg, rr)
		if !(rg < rr) || rg > 0.05 {
			t.Errorf("%s: mean regret %.4g, random search %.4g: want below random and below 0.05", c.acq, rg, rr)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	ok := smallCfg(AcqRhoKG, 1)
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"empty space", func(c *Config) { c.Space = nil }, "space is required"},
		{"bad bounds", func(c *Config) { c.Space = [][2]float64{{1, 0}} }, "space[1] must be finite with lo < hi, got [1, 0]"},
		{"alpha", func(c *Config) { c.Alpha = 1.5 }, "alpha must be in (0, 1], got 1.5"},
		{"convention", func(c *Config) { c.Convention = "x" }, "convention must be"},
		{"acq", func(c *Config) { c.Acquisition = "kg" }, "acquisition must be one of"},
		{"mode", func(c *Config) { c.Mode = "both" }, "mode must be \"pair\" or \"all_w\", got \"both\""},
		{"log scale", func(c *Config) { c.Scales = []string{"log"} }, "space[1].scale is \"log\" but space[1].lo is 0"},
		{"no env", func(c *Config) { c.Env = Env{} }, "env must have bounds"},
		{"nw > envs", func(c *Config) { c.Env = Env{List: [][]float64{{1}, {2}}} }, "n_w must be at most the number of environments (2), got 6"},
		{"fixed indices", func(c *Config) {
			c.NW = 2
			c.Env = Env{List: [][]float64{{1}, {2}, {3}}, Select: SelectFixed, Indices: []int{0, 0}}
		}, "env.indices must be distinct indices in [1, 3], got 1 twice"},
		{"select", func(c *Config) { c.Env.Select = SelectSnap }, "env.select must be \"sobol\" or \"sobol_fresh\" for continuous w"},
		{"nw", func(c *Config) { c.NW = -1 }, "n_w must be in [1, 4096], got -1"},
		{"hyper samples", func(c *Config) { c.HyperSamples = -2 }, "hyper_samples must be in [0, 64] (0: the MAP fit alone), got -2"},
		{"hyper samples acq", func(c *Config) { c.HyperSamples = 4 }, "hyper_samples works with the ucb, ei, qnei and qlognei acquisitions, not \"rho_kg\""},
		{"design", func(c *Config) { c.Design = "scipy" }, "design must be \"bohost\" or \"torch\", got \"scipy\""},
		{"torch design dims", func(c *Config) {
			c.Design = DesignTorch
			c.Space = make([][2]float64, 60)
			for i := range c.Space {
				c.Space[i] = [2]float64{0, 1}
			}
		}, "design \"torch\" supports designs of at most 53 dimensions, this one has 61"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, c := range cases {
		cfg := smallCfg(AcqRhoKG, 1)
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want bad_arg containing %q", c.name, err, c.want)
		}
	}
}

func TestFiniteEnvsAndFailures(t *testing.T) {
	envs := [][]float64{{0.1}, {0.2}, {0.4}, {0.5}, {0.7}, {0.9}, {0.95}}
	cfg := smallCfg(AcqRhoKG, 2)
	cfg.Env = Env{List: envs}
	cfg.NW = 4
	o := mustNew(t, cfg)
	if len(o.WIndices()) != 4 {
		t.Fatalf("W indices %v, want 4", o.WIndices())
	}
	for i := 0; i < 4; i++ {
		c, err := o.Ask(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for j, cc := range c {
			if cc.EnvIndex < 0 || !reflect.DeepEqual(envs[cc.EnvIndex], cc.W) {
				t.Fatalf("candidate env %d w %v inconsistent", cc.EnvIndex, cc.W)
			}
			if j == 0 && i == 2 {
				if err := o.TellFailed(cc, FailWorst); err != nil {
					t.Fatal(err)
				}
				continue
			}
			o.Tell(cc, toyF(cc.X, cc.W))
		}
	}
	if err := o.TellFailed(Candidate{X: []float64{0.5}, W: []float64{0.1}}, "retry"); !errs.Is(err, errs.BadArg) {
		t.Errorf("bad policy: got %v, want bad_arg", err)
	}
	if _, err := o.Recommend(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestHyperEnsemble: with HyperSamples the acquisition is the mean of the
// per-draw acquisitions (each from a model refitted at one posterior draw of
// the hyper-parameters), its gradient matches finite differences, and the
// asks differ from the MAP-only run's.
func TestHyperEnsemble(t *testing.T) {
	for _, a := range []string{AcqUCB, AcqEI, AcqQLogNEI} {
		t.Run(a, func(t *testing.T) {
			cfg := smallCfg(a, 4)
			cfg.HyperSamples = 3
			o := mustNew(t, cfg)
			loop(t, o, 3)
			ctx := context.Background()
			it := o.Iteration()
			m, X, y, err := o.fit(ctx, it, purFit, o.hyper)
			if err != nil {
				t.Fatal(err)
			}
			f, err := o.ensemble(ctx, it, m, X, y, o.evaluatedX())
			if err != nil {
				t.Fatal(err)
			}
			hs, err := m.SampleHyper(ctx, gp.SampleOptions{Samples: 3, Seed: o.seedFor(it, purHyper)})
			if err != nil {
				t.Fatal(err)
			}
			x := []float64{0.37}
			var mean float64
			for _, h := range hs {
				mk, _ := gp.New(m.Options())
				if err := mk.FitWithHyper(X, y, h); err != nil {
					t.Fatal(err)
				}
				post, err := acq.NewPost(mk, X, y)
				if err != nil {
					t.Fatal(err)
				}
				mr, err := acq.NewMeanRisk(post, o.wset, o.measure)
				if err != nil {
					t.Fatal(err)
				}
				switch a {
				case AcqUCB:
					mean += mr.UCBGrad(x, 2, nil) / 3
				case AcqEI:
					best := math.Inf(-1)
					for _, v := range mr.Batch(o.evaluatedX()) {
						best = math.Max(best, v[0])
					}
					mean += mr.EIGrad(x, best, nil) / 3
				}
			}
			g := make([]float64, 1)
			v := f(x, g)
			if a != AcqQLogNEI && math.Abs(v-mean) > 1e-12*math.Max(1, math.Abs(mean)) {
				t.Errorf("ensemble value %.15g, mean of the draws' acquisitions %.15g", v, mean)
			}
			const h = 1e-6
			fd := (f([]float64{x[0] + h}, nil) - f([]float64{x[0] - h}, nil)) / (2 * h)
			if math.Abs(fd-g[0]) > 1e-4*math.Max(1, math.Abs(fd)) {
				t.Errorf("gradient %.8g, finite difference %.8g", g[0], fd)
			}
			if hs[0].Lengthscales[0] == hs[1].Lengthscales[0] || hs[0].Lengthscales[0] == m.Hyper().Lengthscales[0] {
				t.Errorf("draws do not move: %v %v, MAP %v", hs[0].Lengthscales, hs[1].Lengthscales, m.Hyper().Lengthscales)
			}
			plain := smallCfg(a, 4)
			if reflect.DeepEqual(loop(t, mustNew(t, plain), 6), loop(t, mustNew(t, cfg), 6)) {
				t.Error("hyper_samples 3 gave the same asks as the MAP fit alone")
			}
		})
	}
}
