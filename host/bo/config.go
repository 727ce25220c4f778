package bo

import (
	"fmt"
	"math"
	"reflect"

	"bohost/host/acq"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/risk"
	"bohost/host/sobol"
)

// Acquisition names.
const (
	AcqRhoKG   = "rho_kg"
	AcqQLogNEI = "qlognei"
	AcqQNEI    = "qnei"
	AcqUCB     = "ucb"
	AcqEI      = "ei"
	AcqTS      = "ts"
	AcqRandom  = "random"
	AcqSobol   = "sobol"
)

// Modes: what one Ask proposes.
const (
	ModePair = "pair"  // one (x, w) pair per ask
	ModeAllW = "all_w" // one x, evaluated at every w of the W set
)

// Designs: the stream of the initial design (Config.Design).
const (
	DesignBohost = "bohost" // sobol.New, seeded from Config.Seed through derived seeds
	DesignTorch  = "torch"  // sobol.NewTorch(d, Config.Seed): BoTorch's draw_sobol_samples(seed=Seed)
)

// W-set selections.
const (
	SelectSnap       = "snap"        // finite envs: Sobol points snapped to the nearest unused env (wset.SnapSobol)
	SelectFixed      = "fixed"       // finite envs: the given Indices
	SelectSobol      = "sobol"       // continuous w: one scrambled-Sobol W set for the run
	SelectSobolFresh = "sobol_fresh" // continuous w: a fresh Sobol W set every iteration (BoTorch's tutorial)
)

// Env describes the environmental variable w: either a continuous box
// (Bounds) or a finite list of environment feature vectors (List, one per
// image), and how the W set of NW w's is chosen from it.
type Env struct {
	Bounds  [][2]float64 `json:"bounds,omitempty"`                                // continuous w: box per dimension
	List    [][]float64  `json:"list,omitempty"`                                  // finite envs: feature vector per env
	Select  string       `json:"select" lua:",enum=snap|fixed|sobol|sobol_fresh"` // see the Select constants; default "snap" (List) or "sobol" (Bounds)
	Indices []int        `json:"indices,omitempty"`                               // for "fixed": 0-based indices into List, NW of them
}

// Config configures an Optimizer. Zero fields take the documented defaults
// (see Validate and New).
//
// The json tags are the options' names in config.json, in bo.optimizer's
// options table and in Validate's messages. The Lua binding decodes the
// table into this struct (lua.Decode): a new option is a field with its
// json tag, plus a `lua:",count"` (an integer >= 1; an explicit 0 is an
// error) or `zero:"rule"` tag where leaving it out, not 0, asks for the
// default. Space (with Names and Scales), Env, GP and Optim have their own
// Lua shapes, in the binding.
type Config struct {
	Space  [][2]float64 `json:"space"`                    // bounds of x per dimension (user units)
	Names  []string     `json:"names,omitempty" lua:"-"`  // parameter names (default x0, x1, ...)
	Scales []string     `json:"scales,omitempty" lua:"-"` // "linear" (default) or "log" per dimension; log dims are optimised in log space
	Env    Env          `json:"env"`
	// Alpha is the risk level: under risk.Bohost (default) the fraction of
	// worst outcomes averaged (0.1 = worst 10 %); under risk.BoTorch the
	// confidence level (0.9 = worst 10 %).
	Alpha       float64         `json:"alpha"`
	Convention  risk.Convention `json:"convention" lua:",enum=bohost|botorch"`
	NW          int             `json:"n_w" lua:",count"`                                                   // size of the W set (default 16)
	Acquisition string          `json:"acquisition" lua:",enum=rho_kg|qlognei|qnei|ucb|ei|ts|random|sobol"` // default "rho_kg"
	Mode        string          `json:"mode" lua:",enum=pair|all_w"`                                        // "pair" (default for rho_kg) or "all_w" (default otherwise)
	NInitial    int             `json:"n_initial" lua:",count"`                                             // initial design size: x's (all_w) or pairs (pair); default 2·dim(x)+2
	// InitialX are x's (user units) the initial design starts with, before
	// its Sobol points: a known-good setting (a detector's defaults) that
	// every run should see. In all_w mode each is evaluated at every w; in
	// pair mode each takes the w of the design point it replaces. They count
	// towards NInitial, which must be at least len(InitialX).
	InitialX [][]float64 `json:"initial_x,omitempty"`
	Seed     uint64      `json:"seed"`
	// Design picks the random stream of the initial design and of a
	// run-long continuous Sobol W set: DesignBohost (default: scrambled
	// Sobol seeded from Seed through the optimiser's derived seeds) or
	// DesignTorch (torch.quasirandom.SobolEngine(d, scramble=True,
	// seed=Seed), i.e. BoTorch's draw_sobol_samples(bounds, n, q=1,
	// seed=Seed): the same initial x's as a BoTorch script seeded with Seed).
	Design string `json:"design,omitempty" lua:",enum=bohost|torch"`
	// GP options; nil means gp.DefaultOptions with Restarts 1. Bounds are
	// always set by the optimiser (x box in optimiser space, then w box).
	GP *gp.Options `json:"gp,omitempty" lua:"-"`
	// Acquisition settings (zero: defaults).
	MCSamples int              `json:"mc_samples,omitempty" lua:",count"`     // qNEI/qLogNEI samples (default 128)
	Fantasies int              `json:"fantasies,omitempty" lua:",count"`      // rho_kg fantasies (default 16)
	UCBBeta   float64          `json:"ucb_beta,omitempty" zero:"must be > 0"` // UCB multiplier of the sd (default 2)
	Optim     acq.OptimOptions `json:"optim" lua:"-"`                         // restarts / raw samples (default 10 / 128)
	// RecommendFrom is "evaluated" (the evaluated x with the best posterior-
	// mean risk; default for all_w) or "continuous" (also a search over the
	// box; default for pair).
	RecommendFrom string `json:"recommend_from,omitempty" lua:",enum=evaluated|continuous"`
	// RecommendNW is the number of Sobol w's the recommendation's risk
	// measure is taken over for a continuous Env (default: NW for all_w, 128
	// for pair); finite envs always use the W set.
	RecommendNW int `json:"recommend_n_w,omitempty" lua:",count"`
	// HyperSamples > 0 averages the acquisition over that many posterior
	// draws of the GP hyper-parameters (gp.SampleHyper) instead of using the
	// MAP fit alone (ucb, qlognei, qnei, ei). 0: MAP only.
	HyperSamples int `json:"hyper_samples,omitempty"`
	// OutlierFactor bounds the values Tell accepts: a y more than
	// OutlierFactor times the successful observations' scale below their
	// median (HighOutlierScale times that above their upper quartile) is
	// refused, because the GP's fit degenerates around it (CheckY; the fit
	// also replaces such values told before there was a scale to judge them
	// by). 0: the default, DefaultOutlierFactor; negative: no relative check
	// (|y| must still be at most MaxAbsY).
	OutlierFactor float64 `json:"outlier_factor,omitempty" zero:"must be >= 1, or negative to turn the check off"`
}

// bad is a refused field. field is named as a script (and config.json)
// spells it: "n_w", "space[2].name", "env.list[3]", with 1-based indices as
// in Lua; the Lua bindings prefix it with where the table sits
// ("optimizer.n_w" inside bo.run).
func bad(field, format string, args ...any) error {
	return errs.New(errs.BadArg, "bo.Config", "%s %s", field, fmt.Sprintf(format, args...))
}

// withDefaults returns cfg with the defaults filled in.
func (c Config) withDefaults() Config {
	if c.Convention == "" {
		c.Convention = risk.Bohost
	}
	if c.NW == 0 {
		c.NW = 16
	}
	if c.Acquisition == "" {
		c.Acquisition = AcqRhoKG
	}
	if c.Mode == "" {
		c.Mode = ModeAllW
		if c.Acquisition == AcqRhoKG {
			c.Mode = ModePair
		}
	}
	if c.NInitial == 0 {
		c.NInitial = 2*len(c.Space) + 2
	}
	if c.Design == "" {
		c.Design = DesignBohost
	}
	if c.Env.Select == "" {
		c.Env.Select = SelectSobol
		if len(c.Env.List) > 0 {
			c.Env.Select = SelectSnap
		}
	}
	if c.RecommendFrom == "" {
		c.RecommendFrom = "evaluated"
		if c.Mode == ModePair {
			c.RecommendFrom = "continuous"
		}
	}
	if c.RecommendNW == 0 {
		c.RecommendNW = c.NW
		if c.Mode == ModePair && len(c.Env.List) == 0 {
			c.RecommendNW = 128
		}
	}
	if c.UCBBeta == 0 {
		c.UCBBeta = 2
	}
	if c.Names == nil {
		for i := range c.Space {
			c.Names = append(c.Names, fmt.Sprintf("x%d", i))
		}
	}
	if c.Scales == nil {
		c.Scales = make([]string, len(c.Space))
		for i := range c.Scales {
			c.Scales[i] = "linear"
		}
	}
	if c.GP == nil {
		o := gp.DefaultOptions()
		o.Restarts = 1
		c.GP = &o
	}
	return c
}

// Validate reports the first invalid field (after defaults) as a bad_arg
// *errs.Error naming it as Lua and config.json do (n_w, not NW; indices
// 1-based), with its valid range and the value received.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Space) == 0 {
		return bad("space", "is required: one {lo, hi} (or {name =, lo =, hi =}) per dimension of x, got none")
	}
	for i, b := range c.Space {
		if math.IsNaN(b[0]) || math.IsNaN(b[1]) || math.IsInf(b[0], 0) || math.IsInf(b[1], 0) || !(b[0] < b[1]) {
			return bad(fmt.Sprintf("space[%d]", i+1), "must be finite with lo < hi, got [%g, %g]", b[0], b[1])
		}
	}
	if len(c.Names) != len(c.Space) {
		return bad("names", "must have one name per space dimension (%d), got %d", len(c.Space), len(c.Names))
	}
	first := map[string]int{}
	for i, n := range c.Names {
		if j, dup := first[n]; dup {
			return bad(fmt.Sprintf("space[%d].name", i+1), "'%s' is already the name of space[%d]: parameter names must be distinct", n, j+1)
		}
		first[n] = i
	}
	if len(c.Scales) != len(c.Space) {
		return bad("scales", "must have one scale per space dimension (%d), got %d", len(c.Space), len(c.Scales))
	}
	for i, s := range c.Scales {
		switch s {
		case "linear", "":
		case "log":
			if !(c.Space[i][0] > 0) {
				return bad(fmt.Sprintf("space[%d].scale", i+1), "is \"log\" but space[%d].lo is %g; log scale needs lo > 0", i+1, c.Space[i][0])
			}
		default:
			return bad(fmt.Sprintf("space[%d].scale", i+1), "must be \"linear\" or \"log\", got %q", s)
		}
	}
	if c.Convention != risk.Bohost && c.Convention != risk.BoTorch {
		return bad("convention", "must be \"bohost\" or \"botorch\", got %q", c.Convention)
	}
	if !(c.Alpha > 0 && c.Alpha <= 1) { // also rejects NaN
		what := "the fraction of worst outcomes averaged: 0.1 = the worst 10 %"
		if c.Convention == risk.BoTorch {
			what = "the confidence level under convention \"botorch\": 0.9 = the worst 10 %"
		}
		return bad("alpha", "must be in (0, 1], got %v (%s)", c.Alpha, what)
	}
	if err := (risk.Measure{Kind: risk.KindCVaR, Alpha: c.Alpha, Convention: c.Convention}).Validate(); err != nil {
		return bad("alpha", "and convention: %v", err)
	}
	if c.NW < 1 || c.NW > 4096 {
		return bad("n_w", "must be in [1, 4096], got %d", c.NW)
	}
	switch c.Acquisition {
	case AcqRhoKG, AcqQLogNEI, AcqQNEI, AcqUCB, AcqEI, AcqTS, AcqRandom, AcqSobol:
	default:
		return bad("acquisition", "must be one of rho_kg, qlognei, qnei, ucb, ei, ts, random, sobol, got %q", c.Acquisition)
	}
	if c.Mode != ModePair && c.Mode != ModeAllW {
		return bad("mode", "must be \"pair\" or \"all_w\", got %q", c.Mode)
	}
	if c.NInitial < 1 || c.NInitial > 100000 {
		return bad("n_initial", "must be in [1, 100000], got %d", c.NInitial)
	}
	if len(c.InitialX) > c.NInitial {
		return bad("initial_x", "holds %d x's, more than n_initial = %d (they are part of the initial design)", len(c.InitialX), c.NInitial)
	}
	for i, x := range c.InitialX {
		if len(x) != len(c.Space) {
			return bad(fmt.Sprintf("initial_x[%d]", i+1), "has %d values, want %d (one per dimension of space)", len(x), len(c.Space))
		}
		for k, v := range x {
			if !(v >= c.Space[k][0] && v <= c.Space[k][1]) {
				return bad(fmt.Sprintf("initial_x[%d][%d]", i+1, k+1), "= %g is outside space[%d] = [%g, %g]", v, k+1, c.Space[k][0], c.Space[k][1])
			}
		}
	}
	e := c.Env
	switch {
	case len(e.Bounds) > 0 && len(e.List) > 0:
		return bad("env", "must have either bounds (continuous w) or list (finite environments), not both")
	case len(e.Bounds) == 0 && len(e.List) == 0:
		return bad("env", "must have bounds (continuous w: {{lo, hi}, ...}) or list (finite environments: {list = W}); got neither")
	case len(e.Bounds) > 0:
		for i, b := range e.Bounds {
			if !(b[0] < b[1]) || math.IsInf(b[0], 0) || math.IsInf(b[1], 0) {
				return bad(fmt.Sprintf("env.bounds[%d]", i+1), "must be finite with lo < hi, got [%g, %g]", b[0], b[1])
			}
		}
		if e.Select != SelectSobol && e.Select != SelectSobolFresh {
			return bad("env.select", "must be \"sobol\" or \"sobol_fresh\" for continuous w, got %q", e.Select)
		}
	default:
		dw := len(e.List[0])
		if dw == 0 {
			return bad("env.list[1]", "must hold at least one feature, got 0")
		}
		for i, v := range e.List {
			if len(v) != dw {
				return bad(fmt.Sprintf("env.list[%d]", i+1), "has %d features, want %d (as env.list[1])", len(v), dw)
			}
			for _, f := range v {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					return bad(fmt.Sprintf("env.list[%d]", i+1), "holds a non-finite feature %g", f)
				}
			}
		}
		if c.NW > len(e.List) {
			return bad("n_w", "must be at most the number of environments (%d), got %d", len(e.List), c.NW)
		}
		switch e.Select {
		case SelectSnap:
		case SelectFixed:
			if len(e.Indices) != c.NW {
				return bad("env.indices", "must hold n_w = %d indices for \"fixed\", got %d", c.NW, len(e.Indices))
			}
			seen := map[int]bool{}
			for _, ix := range e.Indices {
				if ix < 0 || ix >= len(e.List) {
					return bad("env.indices", "must be distinct indices in [1, %d], got %d", len(e.List), ix+1)
				}
				if seen[ix] {
					return bad("env.indices", "must be distinct indices in [1, %d], got %d twice", len(e.List), ix+1)
				}
				seen[ix] = true
			}
		default:
			return bad("env.select", "must be \"snap\" or \"fixed\" for finite environments, got %q", e.Select)
		}
	}
	switch c.Design {
	case DesignBohost:
	case DesignTorch:
		d := len(c.Space) // all_w: the x design
		if c.Mode == ModePair {
			d += len(c.Env.Bounds) // pair: joint (x, w), or (x, env) for finite envs
			if len(c.Env.List) > 0 {
				d++
			}
		}
		if d > sobol.TorchMaxDim || len(c.Env.Bounds) > sobol.TorchMaxDim {
			return bad("design", "\"torch\" supports designs of at most %d dimensions, this one has %d", sobol.TorchMaxDim, max(d, len(c.Env.Bounds)))
		}
	default:
		return bad("design", "must be \"bohost\" or \"torch\", got %q", c.Design)
	}
	if c.RecommendFrom != "evaluated" && c.RecommendFrom != "continuous" {
		return bad("recommend_from", "must be \"evaluated\" or \"continuous\", got %q", c.RecommendFrom)
	}
	if c.RecommendNW < 1 || c.RecommendNW > 4096 {
		return bad("recommend_n_w", "must be in [1, 4096], got %d", c.RecommendNW)
	}
	if c.MCSamples < 0 {
		return bad("mc_samples", "must be >= 0 (0: the default, 128), got %d", c.MCSamples)
	}
	if c.Fantasies < 0 {
		return bad("fantasies", "must be >= 0 (0: the default, 16), got %d", c.Fantasies)
	}
	if c.UCBBeta < 0 || math.IsNaN(c.UCBBeta) {
		return bad("ucb_beta", "must be >= 0 (0: the default, 2), got %g", c.UCBBeta)
	}
	if c.HyperSamples < 0 || c.HyperSamples > 64 {
		return bad("hyper_samples", "must be in [0, 64] (0: the MAP fit alone), got %d", c.HyperSamples)
	}
	if c.HyperSamples > 0 {
		switch c.Acquisition {
		case AcqUCB, AcqEI, AcqQNEI, AcqQLogNEI:
		default:
			return bad("hyper_samples", "works with the ucb, ei, qnei and qlognei acquisitions, not %q", c.Acquisition)
		}
	}
	if math.IsNaN(c.OutlierFactor) || math.IsInf(c.OutlierFactor, 0) || (c.OutlierFactor > 0 && c.OutlierFactor < 1) {
		return bad("outlier_factor", "must be >= 1 (0: the default, %d; negative: no outlier check), got %g", DefaultOutlierFactor, c.OutlierFactor)
	}
	if err := c.GP.Validate(); err != nil {
		return gpError(err)
	}
	return nil
}

// gpError names gp.Options' fields in err as config.json does (gp.Options
// is bo.Config's "gp"): gp.Options.Validate speaks Go ("NoiseFloor must be
// in [0, 1]"), this config speaks Lua and JSON ("gp.noise_floor must be in
// [0, 1]").
func gpError(err error) error {
	return errs.JSONNames(err, "bo.Config", "gp.", reflect.TypeFor[gp.Options]())
}
