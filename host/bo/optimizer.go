package bo

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"bohost/host/acq"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/internal/num"
	"bohost/host/risk"
	"bohost/host/sobol"
	"bohost/host/wset"
)

// Candidate is one evaluation to run: x in user units, w (the env feature
// vector or the continuous w) and the env index (−1 for continuous w).
type Candidate struct {
	X        []float64 `json:"x"`
	W        []float64 `json:"w"`
	EnvIndex int       `json:"env_index"`
}

// Observation is a told evaluation.
type Observation struct {
	X        []float64 `json:"x"`
	W        []float64 `json:"w"`
	EnvIndex int       `json:"env_index"`
	Y        float64   `json:"y"`
	How      string    `json:"how"`   // "ok", "worst" (failed, told the worst y), "skip" (failed, not used)
	Asked    int       `json:"asked"` // the iteration whose ask proposed it (0: initial design; -1: not asked)
}

// Failure policies for TellFailed.
const (
	FailSkip  = "skip"  // drop the evaluation from the model
	FailWorst = "worst" // tell the worst y observed so far
)

// Diagnostics of the last BO iteration, for the run journal.
type Diagnostics struct {
	Iteration  int     `json:"iteration"`
	NTrain     int     `json:"n_train"`
	FitSeconds float64 `json:"fit_s"`
	AcqSeconds float64 `json:"acq_s"`
	AcqValue   float64 `json:"acq_value"`
}

// Recommendation is the x with the best posterior-mean CVaR over W.
type Recommendation struct {
	X    []float64 `json:"x"`    // user units
	CVaR float64   `json:"cvar"` // posterior-mean CVaR over W (raw y units)
	Mean float64   `json:"mean"` // posterior mean averaged over W
}

// Optimizer is the ask/tell risk-averse BO loop. It is not safe for
// concurrent use.
type Optimizer struct {
	cfg      Config
	dx, dw   int
	xlo, xhi []float64 // optimiser space (log for log dims)
	wlo, whi []float64
	wset     [][]float64
	widx     []int
	obs      []Observation
	pending  []Candidate
	pendIt   int   // the iteration of the last ask
	pendAt   []int // the iteration whose ask proposed each pending candidate
	iter     int
	initDone bool
	hyper    *gp.Hyper
	fitted   *fitted // the current data's acquisition fit, reused until a tell
	model    *gp.Model
	diag     Diagnostics
	measure  risk.Measure
}

// mix is splitmix64's finaliser.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Purposes of derived seeds.
const (
	purInit uint64 = iota + 1
	purFit
	purAcq
	purOptim
	purRandom
	purWSet
	purRecW
	purRec
	purHyper
)

// seedFor derives the seed of (iteration, purpose): every random choice of
// the optimiser comes from such a counter-based seed, so the state needs no
// RNG positions beyond the iteration counter.
func (o *Optimizer) seedFor(iter int, purpose uint64) uint64 {
	return mix(mix(o.cfg.Seed^0x626f686f7374) ^ mix(uint64(iter)<<8|purpose))
}

// New validates cfg and returns an optimizer with no observations.
func New(cfg Config) (*Optimizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := &Optimizer{cfg: cfg, dx: len(cfg.Space)}
	o.measure = risk.Measure{Kind: risk.KindCVaR, Alpha: cfg.Alpha, Convention: cfg.Convention}
	for i, b := range cfg.Space {
		lo, hi := b[0], b[1]
		if cfg.Scales[i] == "log" {
			lo, hi = math.Log(lo), math.Log(hi)
		}
		o.xlo, o.xhi = append(o.xlo, lo), append(o.xhi, hi)
	}
	e := cfg.Env
	if len(e.Bounds) > 0 {
		o.dw = len(e.Bounds)
		for _, b := range e.Bounds {
			o.wlo, o.whi = append(o.wlo, b[0]), append(o.whi, b[1])
		}
	} else {
		o.dw = len(e.List[0])
		o.wlo, o.whi = slices.Clone(e.List[0]), slices.Clone(e.List[0])
		for _, v := range e.List {
			for k, f := range v {
				o.wlo[k], o.whi[k] = math.Min(o.wlo[k], f), math.Max(o.whi[k], f)
			}
		}
		for k := range o.wlo {
			if !(o.whi[k] > o.wlo[k]) {
				o.wlo[k], o.whi[k] = o.wlo[k]-0.5, o.whi[k]+0.5
			}
		}
	}
	if err := o.chooseW(0); err != nil {
		return nil, err
	}
	return o, nil
}

// chooseW sets the W set for iteration it.
func (o *Optimizer) chooseW(it int) error {
	e := o.cfg.Env
	switch e.Select {
	case SelectSobol:
		if o.wset == nil {
			o.wset = o.runW()
		}
	case SelectSobolFresh:
		o.wset = o.sobolW(o.cfg.NW, o.seedFor(it, purWSet))
	case SelectFixed:
		o.widx = slices.Clone(e.Indices)
	case SelectSnap:
		if o.widx == nil {
			idx, err := wset.SnapSobol(e.List, o.cfg.NW, o.seedFor(0, purWSet))
			if err != nil {
				return errs.Wrap(errs.BadArg, "bo.New", err)
			}
			o.widx = idx
		}
	}
	if o.widx != nil {
		o.wset = nil
		for _, i := range o.widx {
			o.wset = append(o.wset, slices.Clone(e.List[i]))
		}
	}
	return nil
}

// runW returns the run-long Sobol W set of a continuous Env (Config.Design's
// stream).
func (o *Optimizer) runW() [][]float64 {
	if o.cfg.Design == DesignTorch {
		s, _ := sobol.NewTorch(o.dw, o.cfg.Seed)
		return o.scaleW(s.Draw(o.cfg.NW))
	}
	return o.sobolW(o.cfg.NW, o.seedFor(0, purWSet))
}

// sobolW returns n scrambled-Sobol w's in the continuous Env box.
func (o *Optimizer) sobolW(n int, seed uint64) [][]float64 {
	return o.scaleW(wset.SobolW(o.dw, n, seed))
}

// scaleW maps w's from [0, 1]^dw to the continuous Env box, in place.
func (o *Optimizer) scaleW(W [][]float64) [][]float64 {
	for _, w := range W {
		for k := range w {
			w[k] = o.wlo[k] + w[k]*(o.whi[k]-o.wlo[k])
		}
	}
	return W
}

// toInternal maps user x to optimiser space; toUser back.
func (o *Optimizer) toInternal(x []float64) []float64 {
	z := slices.Clone(x)
	for i, s := range o.cfg.Scales {
		if s == "log" {
			z[i] = math.Log(z[i])
		}
	}
	return z
}

func (o *Optimizer) toUser(z []float64) []float64 {
	x := slices.Clone(z)
	for i, s := range o.cfg.Scales {
		if s == "log" {
			x[i] = math.Exp(x[i])
		}
		x[i] = math.Min(math.Max(x[i], o.cfg.Space[i][0]), o.cfg.Space[i][1])
	}
	return x
}

// Config returns the configuration with defaults filled in.
func (o *Optimizer) Config() Config { return o.cfg }

// Iteration is the number of BO asks made after the initial design.
func (o *Optimizer) Iteration() int { return o.iter }

// Model is the GP fitted at the last ask or recommendation (nil before).
func (o *Optimizer) Model() *gp.Model { return o.model }

// WSet returns a copy of the current W set.
func (o *Optimizer) WSet() [][]float64 {
	out := make([][]float64, len(o.wset))
	for i, w := range o.wset {
		out[i] = slices.Clone(w)
	}
	return out
}

// WIndices returns the env indices of the W set (nil for continuous w).
func (o *Optimizer) WIndices() []int { return slices.Clone(o.widx) }

// Observations returns a copy of the told evaluations.
func (o *Optimizer) Observations() []Observation { return slices.Clone(o.obs) }

// Diagnostics of the last BO iteration.
func (o *Optimizer) Diagnostics() Diagnostics { return o.diag }

func (o *Optimizer) envIndex(i int) int {
	if o.widx == nil {
		return -1
	}
	return o.widx[i]
}

// allW returns the candidates x × W (x in optimiser space).
func (o *Optimizer) allW(z []float64) []Candidate {
	var out []Candidate
	x := o.toUser(z)
	for i, w := range o.wset {
		out = append(out, Candidate{X: slices.Clone(x), W: slices.Clone(w), EnvIndex: o.envIndex(i)})
	}
	return out
}

// Ask returns the next evaluations: the untold candidates of the previous
// ask if any remain, else the initial design (first call) or the next BO
// proposal (one pair, or one x at every w of the W set).
func (o *Optimizer) Ask(ctx context.Context) ([]Candidate, error) {
	if len(o.pending) > 0 {
		return slices.Clone(o.pending), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, "bo.Ask", err)
	}
	if !o.initDone {
		return o.askInitial(), nil
	}
	return o.askNext(ctx)
}

// askInitial marks the initial design asked and returns it.
func (o *Optimizer) askInitial() []Candidate {
	c := o.initial()
	o.initDone = true
	o.addPending(c, 0)
	return slices.Clone(c)
}

// askNext proposes the next iteration's candidates (one pair, or one x at
// every w of the W set), conditioned on the pending ones, and adds them to
// the pending set.
func (o *Optimizer) askNext(ctx context.Context) ([]Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, "bo.Ask", err)
	}
	it := o.iter + 1
	if o.cfg.Env.Select == SelectSobolFresh {
		if err := o.chooseW(it); err != nil {
			return nil, err
		}
	}
	c, err := o.propose(ctx, it)
	if err != nil {
		return nil, err
	}
	c = o.deduplicate(it, c)
	o.iter = it
	o.addPending(c, it)
	return slices.Clone(c), nil
}

func (o *Optimizer) addPending(c []Candidate, it int) {
	for _, cc := range c {
		o.pending = append(o.pending, Candidate{X: slices.Clone(cc.X), W: slices.Clone(cc.W), EnvIndex: cc.EnvIndex})
		o.pendAt = append(o.pendAt, it)
	}
	o.pendIt = it
}

// AskMore proposes q more iterations' candidates (q pairs in pair mode; q
// x's, each at every w of the W set, in all_w mode) while earlier ones may
// still be pending, and adds them to the pending set: the asynchronous
// ask. Each new iteration is conditioned on every pending candidate (the
// ones in flight and those of this call proposed before it): qNEI and
// qLogNEI count the pending x's among the points a candidate must improve
// on, jointly in their Monte Carlo samples (BoTorch's X_pending, up to a
// constant that does not depend on the candidate); ρKG and Thompson
// sampling use the kriging believer (the GP conditioned on each pending
// point at its posterior mean, with the fitted hyper-parameters: the
// variance there vanishes), UCB and EI the constant liar (each pending point
// told the lowest y observed, so that the mean falls there too). A proposal
// equal to a pending one is replaced by a random point (pending.go;
// docs/batch.md).
// Each iteration is seeded as a plain Ask would; the asks between two tells
// share one GP fit (acqFit), so AskMore(q) equals q AskMore(1) calls, and a
// restored optimiser proposes the same.
// The first call returns the initial design (an iteration of its own); BO
// iterations need at least one told result.
func (o *Optimizer) AskMore(ctx context.Context, q int) ([]Candidate, error) {
	if q < 1 {
		return nil, errs.New(errs.BadArg, "bo.AskMore", "q must be >= 1, got %d", q)
	}
	if !o.initDone {
		return o.askInitial(), nil
	}
	var out []Candidate
	for j := 0; j < q; j++ {
		c, err := o.askNext(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, c...)
	}
	return out, nil
}

// Started reports whether the initial design has been asked.
func (o *Optimizer) Started() bool { return o.initDone }

// Pending returns the candidates asked and not told yet, in the order they
// were asked, with the iteration whose ask proposed each.
func (o *Optimizer) Pending() ([]Candidate, []int) {
	var out []Candidate
	for _, c := range o.pending {
		out = append(out, Candidate{X: slices.Clone(c.X), W: slices.Clone(c.W), EnvIndex: c.EnvIndex})
	}
	return out, slices.Clone(o.pendAt)
}

// initial is the initial design: NInitial Sobol x's at every w (all_w), or
// NInitial Sobol points in the joint (x, w) space (pair); the first
// len(InitialX) x's are InitialX's (the Sobol stream is drawn as without
// them, so the remaining points do not move).
func (o *Optimizer) initial() []Candidate {
	n := o.cfg.NInitial
	var out []Candidate
	if o.cfg.Mode == ModeAllW {
		for i, z := range o.sobolX(0, n) {
			if i < len(o.cfg.InitialX) {
				z = o.toInternal(o.cfg.InitialX[i])
			}
			out = append(out, o.allW(z)...)
		}
		return out
	}
	dj := o.dx + o.dw
	if o.widx != nil {
		dj = o.dx + 1
	}
	for _, u := range o.designSeq(dj).Draw(n) {
		z := make([]float64, o.dx)
		for k := range z {
			z[k] = o.xlo[k] + u[k]*(o.xhi[k]-o.xlo[k])
		}
		c := Candidate{X: o.toUser(z)}
		if len(out) < len(o.cfg.InitialX) {
			c.X = slices.Clone(o.cfg.InitialX[len(out)])
		}
		if o.widx != nil {
			i := min(int(u[o.dx]*float64(len(o.wset))), len(o.wset)-1)
			c.W, c.EnvIndex = slices.Clone(o.wset[i]), o.widx[i]
		} else {
			c.W, c.EnvIndex = make([]float64, o.dw), -1
			for k := range c.W {
				c.W[k] = o.wlo[k] + u[o.dx+k]*(o.whi[k]-o.wlo[k])
			}
		}
		out = append(out, c)
	}
	return out
}

// designSeq returns the run's design sequence of dimension d (Config.Design;
// Validate has checked d).
func (o *Optimizer) designSeq(d int) *sobol.Seq {
	if o.cfg.Design == DesignTorch {
		s, _ := sobol.NewTorch(d, o.cfg.Seed)
		return s
	}
	s, _ := sobol.New(d, true, o.seedFor(0, purInit))
	return s
}

// sobolX returns points first..first+n-1 of the run's x Sobol sequence.
func (o *Optimizer) sobolX(first, n int) [][]float64 {
	s := o.designSeq(o.dx)
	s.Seek(uint64(first))
	out := make([][]float64, n)
	for j, u := range s.Draw(n) {
		z := make([]float64, o.dx)
		for k := range z {
			z[k] = o.xlo[k] + u[k]*(o.xhi[k]-o.xlo[k])
		}
		out[j] = z
	}
	return out
}

// trainData returns the GP inputs (x in optimiser space, w) and y of the
// observations used by the model.
func (o *Optimizer) trainData() ([][]float64, []float64) {
	var X [][]float64
	var y []float64
	for _, ob := range o.obs {
		if ob.How == FailSkip {
			continue
		}
		X = append(X, append(o.toInternal(ob.X), ob.W...))
		y = append(y, ob.Y)
	}
	o.clipY(y)
	return X, y
}

// evaluatedX returns the distinct evaluated x's in optimiser space, in
// order of first evaluation.
func (o *Optimizer) evaluatedX() [][]float64 {
	var out [][]float64
	seen := map[string]bool{}
	for _, ob := range o.obs {
		if ob.How == FailSkip {
			continue
		}
		k := num.Key(ob.X)
		if !seen[k] {
			seen[k] = true
			out = append(out, o.toInternal(ob.X))
		}
	}
	return out
}

// fit fits a fresh GP for iteration it: warm-started from the stored
// hyper-parameters (FitWithHyper, then Fit), seeded by (seed, it). The same
// steps run after a Restore, so the fit is reproduced bit for bit.
func (o *Optimizer) fit(ctx context.Context, it int, purpose uint64, warm *gp.Hyper) (*gp.Model, [][]float64, []float64, error) {
	X, y := o.trainData()
	if len(X) == 0 {
		return nil, nil, nil, errs.New(errs.BadState, "bo.fit", "no successful observation to fit the GP on").
			WithHint("tell the initial design's results first")
	}
	opts := *o.cfg.GP
	opts.Bounds = nil
	for k := range o.xlo {
		opts.Bounds = append(opts.Bounds, [2]float64{o.xlo[k], o.xhi[k]})
	}
	for k := range o.wlo {
		opts.Bounds = append(opts.Bounds, [2]float64{o.wlo[k], o.whi[k]})
	}
	opts.Seed = o.seedFor(it, purpose)
	m, err := gp.New(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	// all_w data told out of order or with x's partly told: fit on the
	// complete x's, posterior on the grid with the pending cells imputed
	// (grid.go).
	g, isGrid := o.grid(X, y)
	fx, fy := X, y
	if isGrid {
		fx, fy = g.fitX, g.fitY
	}
	if warm != nil {
		if err := m.FitWithHyper(fx, fy, *warm); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := m.Fit(ctx, fx, fy); err != nil {
		return nil, nil, nil, err
	}
	if isGrid {
		if err := acq.Impute(m, g.X, g.y, g.miss); err != nil {
			return nil, nil, nil, err
		}
		X, y = g.X, g.y
	}
	return m, X, y, nil
}

// fitted is the GP an ask fitted, kept for the asks that follow before the
// next tell (asynchronous asks: the data have not changed). An iteration's
// fit is seeded by the iteration that made it and warm-started from the
// hyper-parameters before it; a state saved while it is current records
// both (State.Fit), so a restored optimiser refits the same model.
type fitted struct {
	nObs int       // len(o.obs) it was fitted on
	it   int       // the iteration that fitted it (its seed)
	warm *gp.Hyper // the warm start it was fitted from
	m    *gp.Model // nil after Restore: refitted on first use
	X    [][]float64
	y    []float64
}

// acqFit returns the GP of iteration it's acquisition: the current fit when
// nothing was told since it was made, else a new fit seeded by it. So a
// sequential loop (ask, tell, ask, …) fits once per iteration as before,
// and q asynchronous asks between two tells fit once.
func (o *Optimizer) acqFit(ctx context.Context, it int) (*gp.Model, [][]float64, []float64, error) {
	f := o.fitted
	if f == nil || f.nObs != len(o.obs) {
		f = &fitted{nObs: len(o.obs), it: it, warm: cloneHyper(o.hyper)}
	} else if f.m != nil {
		o.model = f.m
		return f.m, f.X, f.y, nil
	}
	m, X, y, err := o.fit(ctx, f.it, purFit, f.warm)
	if err != nil {
		return nil, nil, nil, err
	}
	f.m, f.X, f.y = m, X, y
	o.fitted = f
	h := m.Hyper()
	o.hyper, o.model = &h, m
	return m, X, y, nil
}

func cloneHyper(h *gp.Hyper) *gp.Hyper {
	if h == nil {
		return nil
	}
	c := *h
	c.Lengthscales = slices.Clone(h.Lengthscales)
	return &c
}

// propose runs one BO iteration's fit and acquisition.
func (o *Optimizer) propose(ctx context.Context, it int) ([]Candidate, error) {
	cfg := o.cfg
	o.diag = Diagnostics{Iteration: it}
	switch cfg.Acquisition {
	case AcqRandom:
		rng := rand.New(rand.NewPCG(o.seedFor(it, purRandom), 1))
		z := make([]float64, o.dx)
		for k := range z {
			z[k] = o.xlo[k] + rng.Float64()*(o.xhi[k]-o.xlo[k])
		}
		if cfg.Mode == ModeAllW {
			return o.allW(z), nil
		}
		return []Candidate{o.pairRandom(z, rng)}, nil
	case AcqSobol:
		z := o.sobolX(cfg.NInitial+it-1, 1)[0]
		if cfg.Mode == ModeAllW {
			return o.allW(z), nil
		}
		return []Candidate{o.pairRandom(z, rand.New(rand.NewPCG(o.seedFor(it, purRandom), 2)))}, nil
	}
	t0 := time.Now()
	m, X, y, err := o.acqFit(ctx, it)
	if err != nil {
		return nil, err
	}
	o.diag.FitSeconds = time.Since(t0).Seconds()
	o.diag.NTrain = len(X)
	t1 := time.Now()
	defer func() { o.diag.AcqSeconds = time.Since(t1).Seconds() }()
	post, err := acq.NewPost(m, X, y)
	if err != nil {
		return nil, err
	}
	// cond conditions on the pending candidates (pending.go).
	cond, err := o.condition(m, post, X, y)
	if err != nil {
		return nil, err
	}
	kb := cond.believer
	oo := cfg.Optim
	oo.Seed = o.seedFor(it, purOptim)
	evaluated := o.evaluatedX()
	mr, err := acq.NewMeanRisk(post, o.wset, o.measure)
	if err != nil {
		return nil, err
	}
	// top evaluated x's by posterior-mean risk: inner solutions and extra starts
	vals := mr.Batch(evaluated)
	order := make([]int, len(evaluated))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case vals[a][0] > vals[b][0]:
			return -1
		case vals[a][0] < vals[b][0]:
			return 1
		}
		return 0
	})
	var top [][]float64
	for _, j := range order[:min(5, len(order))] {
		top = append(top, evaluated[j])
	}
	var z []float64
	var val float64
	switch cfg.Acquisition {
	case AcqRhoKG:
		kg, err := acq.NewKG(kb, o.wset, o.measure, o.xlo, o.xhi,
			acq.KGOptions{Fantasies: cfg.Fantasies, Seed: o.seedFor(it, purAcq), Best: top})
		if err != nil {
			return nil, err
		}
		if o.widx == nil {
			lo := append(slices.Clone(o.xlo), o.wlo...)
			hi := append(slices.Clone(o.xhi), o.whi...)
			zw, v, err := acq.MaximizeGrad(ctx, func(zz, g []float64) float64 { return kg.ValueGrad(zz[:o.dx], zz[o.dx:], g) }, lo, hi, nil, oo)
			if err != nil {
				return nil, err
			}
			o.diag.AcqValue = v
			if cfg.Mode == ModeAllW {
				return o.allW(zw[:o.dx]), nil
			}
			return []Candidate{{X: o.toUser(zw[:o.dx]), W: slices.Clone(zw[o.dx:]), EnvIndex: -1}}, nil
		}
		zx, i, v, err := acq.MaximizeDiscreteGrad(ctx, func(x []float64, i int, g []float64) float64 {
			if g == nil {
				return kg.Value(x, o.wset[i])
			}
			full := make([]float64, o.dx+o.dw)
			v := kg.ValueGrad(x, o.wset[i], full)
			copy(g, full[:o.dx])
			return v
		}, o.xlo, o.xhi, len(o.wset), top, oo)
		if err != nil {
			return nil, err
		}
		o.diag.AcqValue = v
		if cfg.Mode == ModeAllW {
			return o.allW(zx), nil
		}
		return []Candidate{{X: o.toUser(zx), W: slices.Clone(o.wset[i]), EnvIndex: o.widx[i]}}, nil
	}
	var f func(x, g []float64) float64
	if cfg.HyperSamples > 0 {
		f, err = o.ensemble(ctx, it, m, X, y, evaluated)
	} else {
		f, err = o.acqFunc(cond, mr, evaluated, o.seedFor(it, purAcq))
	}
	if err != nil {
		return nil, err
	}
	z, val, err = acq.MaximizeGrad(ctx, f, o.xlo, o.xhi, top, oo)
	if err != nil {
		return nil, err
	}
	o.diag.AcqValue = val
	if cfg.Mode == ModeAllW {
		return o.allW(z), nil
	}
	return []Candidate{o.pairVar(kb, z)}, nil
}

// acqFunc returns the acquisition (value and gradient in x) of one posterior
// for the acquisitions optimised over x alone: cond is the posterior and its
// versions conditioned on the pending candidates, mr the posterior's
// posterior-mean risk.
func (o *Optimizer) acqFunc(cond conditioned, mr *acq.MeanRisk, evaluated [][]float64, seed uint64) (func(x, g []float64) float64, error) {
	cfg := o.cfg
	post := cond.post
	lr := mr
	if cond.liar != post {
		var err error
		if lr, err = acq.NewMeanRisk(cond.liar, o.wset, o.measure); err != nil {
			return nil, err
		}
	}
	switch cfg.Acquisition {
	case AcqQLogNEI, AcqQNEI:
		nei, err := acq.NewNEI(post, o.wset, o.withPendingX(evaluated), o.measure,
			acq.NEIOptions{Log: cfg.Acquisition == AcqQLogNEI, Samples: cfg.MCSamples, Seed: seed})
		if err != nil {
			return nil, err
		}
		return nei.ValueGrad, nil
	case AcqUCB:
		return func(x, g []float64) float64 { return lr.UCBGrad(x, cfg.UCBBeta, g) }, nil
	case AcqTS:
		ts, err := acq.NewTS(cond.believer, o.wset, o.measure, acq.TSOptions{Seed: seed})
		if err != nil {
			return nil, err
		}
		return ts.ValueGrad, nil
	case AcqEI:
		best := math.Inf(-1)
		for _, v := range mr.Batch(evaluated) {
			best = math.Max(best, v[0])
		}
		return func(x, g []float64) float64 { return lr.EIGrad(x, best, g) }, nil
	}
	return nil, errs.New(errs.BadState, "bo.ask", "acquisition %q has no x-only form", cfg.Acquisition)
}

// ensemble returns the acquisition averaged over cfg.HyperSamples posterior
// draws of the GP hyper-parameters (one model per draw, same data).
func (o *Optimizer) ensemble(ctx context.Context, it int, m *gp.Model, X [][]float64, y []float64, evaluated [][]float64) (func(x, g []float64) float64, error) {
	hs, err := m.SampleHyper(ctx, gp.SampleOptions{Samples: o.cfg.HyperSamples, Seed: o.seedFor(it, purHyper)})
	if err != nil {
		return nil, err
	}
	var fs []func(x, g []float64) float64
	for k, h := range hs {
		mk, err := gp.New(m.Options())
		if err != nil {
			return nil, err
		}
		if err := mk.FitWithHyper(X, y, h); err != nil {
			return nil, err
		}
		post, err := acq.NewPost(mk, X, y)
		if err != nil {
			return nil, err
		}
		cond, err := o.condition(mk, post, X, y)
		if err != nil {
			return nil, err
		}
		mr, err := acq.NewMeanRisk(post, o.wset, o.measure)
		if err != nil {
			return nil, err
		}
		f, err := o.acqFunc(cond, mr, evaluated, mix(o.seedFor(it, purAcq)+uint64(k)))
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	inv := 1 / float64(len(fs))
	return func(x, g []float64) float64 {
		var gk []float64
		if g != nil {
			clear(g)
			gk = make([]float64, len(g))
		}
		var v float64
		for _, f := range fs {
			v += f(x, gk) * inv
			for i := range gk {
				g[i] += gk[i] * inv
			}
		}
		return v
	}, nil
}

// pairRandom completes x with a random w (random and sobol acquisitions).
func (o *Optimizer) pairRandom(z []float64, rng *rand.Rand) Candidate {
	if o.widx != nil {
		i := rng.IntN(len(o.wset))
		return Candidate{X: o.toUser(z), W: slices.Clone(o.wset[i]), EnvIndex: o.widx[i]}
	}
	w := make([]float64, o.dw)
	for k := range w {
		w[k] = o.wlo[k] + rng.Float64()*(o.whi[k]-o.wlo[k])
	}
	return Candidate{X: o.toUser(z), W: w, EnvIndex: -1}
}

// pairVar completes x with the W-set w of largest posterior variance (pair
// mode for the x-only acquisitions).
func (o *Optimizer) pairVar(post *acq.Post, z []float64) Candidate {
	var pts [][]float64
	for _, w := range o.wset {
		pts = append(pts, append(slices.Clone(z), w...))
	}
	_, v := post.Predict(pts)
	bi := 0
	for i := range v {
		if v[i] > v[bi] {
			bi = i
		}
	}
	return Candidate{X: o.toUser(z), W: slices.Clone(o.wset[bi]), EnvIndex: o.envIndex(bi)}
}

// match finds c among the pending candidates.
func (o *Optimizer) match(c Candidate) int {
	for i, p := range o.pending {
		if p.EnvIndex == c.EnvIndex && slices.Equal(p.X, c.X) && slices.Equal(p.W, c.W) {
			return i
		}
	}
	return -1
}

func (o *Optimizer) checkCand(op string, c Candidate) error {
	if len(c.X) != o.dx {
		return errs.New(errs.BadArg, op, "candidate X has %d values, want %d", len(c.X), o.dx)
	}
	if len(c.W) != o.dw {
		return errs.New(errs.BadArg, op, "candidate W has %d values, want %d", len(c.W), o.dw)
	}
	for i, v := range c.X {
		if math.IsNaN(v) || v < o.cfg.Space[i][0] || v > o.cfg.Space[i][1] {
			return errs.New(errs.BadArg, op, "candidate X[%d] = %g outside Space [%g, %g]", i, v, o.cfg.Space[i][0], o.cfg.Space[i][1])
		}
	}
	return o.checkW(op, c)
}

// Tell records the result y of candidate c (normally one returned by Ask;
// another point is recorded too, as an extra observation).
func (o *Optimizer) Tell(c Candidate, y float64) error {
	const op = "bo.Tell"
	if err := o.checkCand(op, c); err != nil {
		return err
	}
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return errs.New(errs.BadArg, op, "y must be finite, got %g", y).WithHint("use TellFailed for a failed evaluation")
	}
	if err := o.CheckY(y); err != nil {
		return err
	}
	o.record(c, y, "ok")
	return nil
}

// TellFailed records that candidate c failed, under the policy FailSkip or
// FailWorst.
func (o *Optimizer) TellFailed(c Candidate, policy string) error {
	const op = "bo.TellFailed"
	if err := o.checkCand(op, c); err != nil {
		return err
	}
	switch policy {
	case FailSkip:
		o.record(c, 0, FailSkip)
	case FailWorst:
		worst, any := o.WorstY()
		if !any {
			o.record(c, 0, FailSkip)
			return nil
		}
		o.record(c, worst, FailWorst)
	default:
		return errs.New(errs.BadArg, op, "policy must be %q or %q, got %q", FailSkip, FailWorst, policy)
	}
	return nil
}

func (o *Optimizer) record(c Candidate, y float64, how string) {
	asked := -1
	if i := o.match(c); i >= 0 {
		asked = o.pendAt[i]
		o.pending = slices.Delete(o.pending, i, i+1)
		o.pendAt = slices.Delete(o.pendAt, i, i+1)
	}
	o.obs = append(o.obs, Observation{X: slices.Clone(c.X), W: slices.Clone(c.W), EnvIndex: c.EnvIndex, Y: y, How: how, Asked: asked})
}

// Recommend returns the x with the best posterior-mean CVaR over W (over
// the evaluated x's, and over the box when RecommendFrom is "continuous").
// It fits its own GP and leaves the ask sequence untouched.
func (o *Optimizer) Recommend(ctx context.Context) (Recommendation, error) {
	m, X, y, err := o.fit(ctx, o.iter, purRec, o.hyper)
	if err != nil {
		return Recommendation{}, err
	}
	o.model = m
	post, err := acq.NewPost(m, X, y)
	if err != nil {
		return Recommendation{}, err
	}
	W := o.wset
	if o.widx == nil && o.cfg.RecommendNW != len(o.wset) {
		W = o.sobolW(o.cfg.RecommendNW, o.seedFor(0, purRecW))
	}
	mr, err := acq.NewMeanRisk(post, W, o.measure)
	if err != nil {
		return Recommendation{}, err
	}
	oo := o.cfg.Optim
	oo.Seed = o.seedFor(o.iter, purRec)
	r, err := acq.Recommend(ctx, mr, o.evaluatedX(), o.xlo, o.xhi, o.cfg.RecommendFrom == "continuous", oo)
	if err != nil {
		return Recommendation{}, err
	}
	return Recommendation{X: o.toUser(r.X), CVaR: r.Risk, Mean: r.Mean}, nil
}
