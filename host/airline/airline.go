package airline

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

// Options configures an Evaluator. The zero value of every numeric field
// selects the default in brackets (AirLine's original value where it has
// one); where 0 is a meaningful value, a negative number selects it.
type Options struct {
	Space string // "airline8" (default): the original 8-D two-preset space; "classical": one run with the stages' knobs

	Edge     string                                    // "classical" (default) or "learned"
	EdgeFunc func(*imgbuf.Gray) (*imgbuf.Float, error) // learned edge logits (same W x H as the image), injected by host/cv

	ROI     string                                   // "image" (default, whole image), "boxes" (Boxes or per call), "func" (ROIFunc), "gt" (padded GT bounding box, Eval only)
	Boxes   []imgbuf.Box                             // ROIs for ROI "boxes" (clipped to the image)
	ROIFunc func(*imgbuf.Gray) ([]imgbuf.Box, error) // ROI detector (e.g. YOLO via host/cv)
	ROIPad  int                                      // padding of the "gt" box, px [16]

	Seed uint64 // seeds the RANSAC fusion; results are deterministic for a seed

	// Fusion (airline8 only): "lines" (default, bohost's multi-line weighted
	// RANSAC), "seam" (the original: one line per ROI, extended to its border),
	// "union" (Q and QG segments, no weighting).
	Fusion          string
	OtherFunc       func(*imgbuf.Gray) ([]imgbuf.Segment, error) // optional other detectors (LSD, FLD, Hough via host/cv): weight-1 pixels in the fusion
	FusionTol       float64                                      // RANSAC inlier distance, px [1.5]
	FusionTrials    int                                          // RANSAC trials per candidate line [64]
	SeamTrials      int                                          // RANSAC trials of the "seam" fit [1000] (sklearn: max_trials 10000)
	FusionMinWeight float64                                      // keep a fused line with mean inlier weight per raster pixel >= this [4]; negative = 0
	IntegerWeights  bool                                         // floor the weights as the original replication did

	// Classical edge stage (see EdgeParams).
	BlurSigma  float64 // [1.0] (notes §6; the original code used 0.8)
	EdgeRef    float64 // magnitude at logit 0 [100]
	EdgeGain   float64 // logit per e-fold of magnitude [4]
	EdgeFloor  float64 // logit of non-edge pixels [-30]
	DenseEdges bool    // airline8: keep the dense logit map (DexiNed-like bands) instead of thin Canny maxima; see doc.go

	// Orientation bank.
	T             int // number of orientations [6]
	K             int // kernel size, odd [9]
	KernelHalfLen int // half-length of the kernel line before clipping [50] (the original BO code: K/2)

	// CRG and voting (CRGParams).
	MaxRegionPx    int     // [5000]
	SeedStride     int     // [2 for learned edges, as AirLine; 1 for classical edges, see doc.go]
	SeedMargin     int     // [2]
	Border         int     // [1]
	MaxSegments    int     // per preset and ROI [30000]
	StraightStride int     // [3]
	FixEndpoints   bool    // false: AirLine's endpoints; true: projection extents
	PixelRatioCap  float64 // pixelRatio is capped at this before use, as run_airline did [0.03]; negative = no cap

	// Post-filter.
	MinLength       float64 // keep segments at least this long, px [15] (demo); negative = keep all
	MinStraightness float64 // keep segments with straightness >= this, 0..100 [0 = off]

	// Limits.
	MaxPixels int // largest image (W*H) accepted [16,000,000]

	// EdgeCacheBytes bounds the classical edge maps kept between calls
	// (computed here, not by Stages), keyed by the image's pixels and the
	// edge parameters, least recently used out [64 MiB]; negative = none.
	// The edge map does not depend on x, so scoring many x's on the same
	// images computes it once per image.
	EdgeCacheBytes int64

	// Score (Eval, ScoreSegments). Metric is the objective value
	// Record.Value: "f" (default, MetricF) is F_r (metric.FScore), "soft_lp"
	// (MetricSoftLP) the welding study's soft LP_r (metric.SoftLP). Both
	// are always computed and in the Record. MetricR is the tolerance of
	// the chosen metric in pixels of the image as given (0: the metric's
	// default, which scales with the image: metric.Radius for F_r,
	// metric.SoftRadius = 20 px at 3264 x 2448 for soft LP_r); the other
	// metric keeps its default.
	Metric  string
	MetricR float64

	// Stages runs the per-pixel stages (the classical edge map and the
	// orientation descriptors) elsewhere, e.g. on the GPU (host/gpu's
	// *Context): nil runs them here. Results must equal the CPU's; on an
	// error the evaluator warns once through OnWarning and uses the CPU.
	Stages    Stages
	OnWarning func(msg string)
}

// Stats reports what the pipeline did on one image, including every limit hit.
type Stats struct {
	CRGStats
	ROIs        int // regions of interest processed
	EdgePixels  int // descriptor pixels computed (mask of the lowest threshold)
	PerPreset   [2]int
	FusionInput int // segments entering the fusion
	// OffloadFallbacks counts stages that failed on Options.Stages (the GPU)
	// and ran on the CPU instead.
	OffloadFallbacks int
}

// Metric names (Options.Metric).
const (
	MetricF      = "f"       // F_r, metric.FScore
	MetricSoftLP = "soft_lp" // soft LP_r of the welding study, metric.SoftLP
)

// Record is one evaluation: both scores, the number of lines and the
// detection time.
type Record struct {
	metric.Score                  // F_r with P_r, R_r and its r
	Soft         metric.SoftScore // soft LP_r, its precision counterpart, soft F and their r
	Metric       string           // which of them is the objective value: MetricF or MetricSoftLP
	NLines       int
	Ms           float64
	Stats        Stats
}

// Value is the objective value: soft LP_r when Metric is MetricSoftLP,
// else F_r.
func (r Record) Value() float64 {
	if r.Metric == MetricSoftLP {
		return r.Soft.LP
	}
	return r.F
}

// ValueR is the tolerance of the objective value, in pixels.
func (r Record) ValueR() float64 {
	if r.Metric == MetricSoftLP {
		return r.Soft.R
	}
	return r.R
}

// Evaluator runs the AirLine pipeline. It is safe for concurrent use; scratch
// memory is pooled, so repeated calls on same-sized images do not grow the heap.
type Evaluator struct {
	opts  Options
	space []Param
	bank  *bank
	pool  sync.Pool
	warn  sync.Once
	edges *edgeCache // nil: no cache
}

// Stages is the per-pixel part of the pipeline, implemented elsewhere (the
// CUDA kernels of host/gpu) with the same results as ClassicalEdges and
// OrientationHalfLen here.
type Stages interface {
	ClassicalEdges(src *imgbuf.Gray, p EdgeParams) (*imgbuf.Float, error)
	OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error)
}

// stagesFailed reports a failed offloaded stage once, and counts it.
func (e *Evaluator) stagesFailed(count *int, stage string, err error) {
	*count++
	e.warn.Do(func() {
		if e.opts.OnWarning != nil {
			e.opts.OnWarning(fmt.Sprintf("airline: the %s stage failed on the device (%v); using the CPU path", stage, err))
		}
	})
}

// Validate checks opts and names the first bad field.
func (o Options) Validate() error {
	const op = "airline.new"
	bad := func(f string, args ...any) error { return errs.New(errs.BadArg, op, f, args...) }
	switch o.Space {
	case "", SpaceAirline8, SpaceClassical:
	default:
		return bad("Space must be %q or %q, got %q", SpaceAirline8, SpaceClassical, o.Space)
	}
	switch o.Edge {
	case "", "classical":
	case "learned":
		if o.EdgeFunc == nil {
			return bad("Edge %q needs EdgeFunc", o.Edge)
		}
		if o.Space == SpaceClassical {
			return bad("Space %q tunes the classical edge stage; it cannot use Edge %q", SpaceClassical, o.Edge)
		}
	default:
		return bad("Edge must be \"classical\" or \"learned\", got %q", o.Edge)
	}
	switch o.ROI {
	case "", "image", "boxes", "gt":
	case "func":
		if o.ROIFunc == nil {
			return bad("ROI \"func\" needs ROIFunc")
		}
	default:
		return bad("ROI must be \"image\", \"boxes\", \"func\" or \"gt\", got %q", o.ROI)
	}
	switch o.Fusion {
	case "", "lines", "seam", "union":
	default:
		return bad("Fusion must be \"lines\", \"seam\" or \"union\", got %q", o.Fusion)
	}
	switch o.Metric {
	case "", MetricF, MetricSoftLP:
	default:
		return bad("Metric must be %q or %q, got %q", MetricF, MetricSoftLP, o.Metric)
	}
	if r := o.MetricR; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return bad("MetricR must be a finite radius > 0 in pixels (0 = the metric's default, scaled with the image), got %g", r)
	}
	type fr struct {
		name   string
		v      float64
		lo, hi float64
	}
	for _, f := range []fr{
		{"BlurSigma", o.BlurSigma, 0, 50}, {"EdgeRef", o.EdgeRef, 0, 1e6}, {"EdgeGain", o.EdgeGain, 0, 1e3},
		{"EdgeFloor", o.EdgeFloor, -1e6, 0}, {"FusionTol", o.FusionTol, 0, 100}, {"FusionMinWeight", o.FusionMinWeight, -1, 1e6},
		{"PixelRatioCap", o.PixelRatioCap, -1, 10}, {"MinLength", o.MinLength, -1, 1e6}, {"MinStraightness", o.MinStraightness, 0, 100},
	} {
		if math.IsNaN(f.v) || f.v < f.lo || f.v > f.hi {
			return bad("%s must be in [%g, %g] (0 = default), got %g", f.name, f.lo, f.hi, f.v)
		}
	}
	type ir struct {
		name   string
		v      int
		lo, hi int
	}
	for _, f := range []ir{
		{"ROIPad", o.ROIPad, 0, 1 << 20}, {"FusionTrials", o.FusionTrials, 0, 1 << 20}, {"SeamTrials", o.SeamTrials, 0, 1 << 20},
		{"T", o.T, 0, maxT}, {"K", o.K, 0, maxK}, {"KernelHalfLen", o.KernelHalfLen, 0, 1 << 20},
		{"MaxRegionPx", o.MaxRegionPx, 0, maxRegionLimit}, {"SeedStride", o.SeedStride, 0, 1 << 20}, {"SeedMargin", o.SeedMargin, 0, 1 << 20},
		{"Border", o.Border, 0, 1 << 20}, {"MaxSegments", o.MaxSegments, 0, 1 << 24}, {"StraightStride", o.StraightStride, 0, 1 << 20},
		{"MaxPixels", o.MaxPixels, 0, maxSide * maxSide},
	} {
		if f.v < f.lo || f.v > f.hi {
			return bad("%s must be in [%d, %d] (0 = default), got %d", f.name, f.lo, f.hi, f.v)
		}
	}
	if o.T == 1 {
		return bad("T must be in [2, %d] (0 = default 6), got 1", maxT)
	}
	if o.K != 0 && o.K%2 == 0 {
		return bad("K must be odd in [1, %d] (0 = default 9), got %d", maxK, o.K)
	}
	for i, b := range o.Boxes {
		if b.X1 <= b.X0 || b.Y1 <= b.Y0 {
			return bad("Boxes[%d] = %+v is empty (want X0 < X1, Y0 < Y1)", i, b)
		}
	}
	return nil
}

func (o Options) withDefaults() Options {
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	defi := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if o.Space == "" {
		o.Space = SpaceAirline8
	}
	if o.Edge == "" {
		o.Edge = "classical"
	}
	if o.ROI == "" {
		o.ROI = "image"
	}
	if o.Fusion == "" {
		o.Fusion = "lines"
	}
	if o.Metric == "" {
		o.Metric = MetricF
	}
	defi(&o.ROIPad, 16)
	def(&o.FusionTol, 1.5)
	defi(&o.FusionTrials, 64)
	defi(&o.SeamTrials, 1000)
	def(&o.FusionMinWeight, 4)
	def(&o.BlurSigma, 1)
	def(&o.EdgeRef, 100)
	def(&o.EdgeGain, 4)
	def(&o.EdgeFloor, -30)
	defi(&o.T, 6)
	defi(&o.K, 9)
	defi(&o.KernelHalfLen, 50)
	defi(&o.MaxRegionPx, 5000)
	if o.Edge == "classical" {
		// A 1-px NMS edge on an odd row or column (or along x-y odd at 45°)
		// never meets AirLine's stride-2 seed grid; thick learned edge maps do.
		defi(&o.SeedStride, 1)
	}
	defi(&o.SeedStride, 2)
	defi(&o.SeedMargin, 2)
	defi(&o.Border, 1)
	defi(&o.MaxSegments, 30000)
	defi(&o.StraightStride, 3)
	def(&o.PixelRatioCap, 0.03)
	def(&o.MinLength, 15)
	defi(&o.MaxPixels, 16_000_000)
	if o.EdgeCacheBytes == 0 {
		o.EdgeCacheBytes = 64 << 20
	}
	return o
}

// New validates opts and returns an Evaluator.
func New(opts Options) (*Evaluator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	sp, err := Space(o.Space)
	if err != nil {
		return nil, err
	}
	e := &Evaluator{opts: o, space: sp, edges: newEdgeCache(o.EdgeCacheBytes)}
	if o.Space == SpaceAirline8 {
		if e.bank = newBank(o.T, o.K, o.KernelHalfLen); e.bank == nil {
			return nil, errs.New(errs.BadArg, "airline.new", "cannot build the orientation bank for T=%d, K=%d", o.T, o.K)
		}
	}
	return e, nil
}

// Options returns the options in effect (defaults filled in).
func (e *Evaluator) Options() Options { return e.opts }

// Space returns a copy of the evaluator's search space.
func (e *Evaluator) Space() []Param { return append([]Param(nil), e.space...) }

// Params validates x against the space (nil = defaults) and returns the
// values by name (integer parameters rounded).
func (e *Evaluator) Params(x []float64) (map[string]float64, error) {
	v, err := checkX("airline.params", e.space, x)
	if err != nil {
		return nil, err
	}
	m := make(map[string]float64, len(v))
	for i, p := range e.space {
		m[p.Name] = v[i]
	}
	return m, nil
}

// preset is one AirLine run configuration.
type preset struct {
	thr        float64 // mask = E > thr
	crg        CRGParams
	pixelRatio float64 // > 0: PixelNumThresh = int(min(ratio, cap) * ROI diagonal)
}

// plan is everything one Detect needs, resolved from x and the options.
type plan struct {
	edge    EdgeParams
	bank    *bank
	presets []preset
	minLen  float64
	fusion  fusionParams
}

func (e *Evaluator) plan(x []float64) (*plan, error) {
	v, err := checkX("airline.params", e.space, x)
	if err != nil {
		return nil, err
	}
	o := e.opts
	minLen := o.MinLength
	if minLen < 0 {
		minLen = 0
	}
	base := CRGParams{
		MaxRegionPx: o.MaxRegionPx, SeedStride: o.SeedStride, SeedMargin: o.SeedMargin, Border: o.Border,
		MaxSegments: o.MaxSegments, StraightStride: o.StraightStride, FixEndpoints: o.FixEndpoints,
	}
	p := &plan{
		edge: EdgeParams{Sigma: o.BlurSigma, NMS: !o.DenseEdges, Ref: o.EdgeRef, Gain: o.EdgeGain, Floor: o.EdgeFloor},
		bank: e.bank, minLen: minLen,
	}
	switch o.Space {
	case SpaceAirline8:
		q, qg := base, base
		q.SimThresh, qg.SimThresh = v[1], v[4]
		p.presets = []preset{{thr: v[0], crg: q, pixelRatio: v[2]}, {thr: v[3], crg: qg, pixelRatio: v[5]}}
		mw := o.FusionMinWeight
		if mw < 0 {
			mw = 0
		}
		p.fusion = fusionParams{wq: v[6], wqg: v[7], integer: o.IntegerWeights, tol: o.FusionTol,
			trials: o.FusionTrials, minWeight: mw, minLen: minLen, seed: o.Seed}
	case SpaceClassical:
		// blur_sigma, canny_low, canny_ratio, orientations, kernel_half, sim_thresh, min_pixels, min_length, max_region_px, seed_stride
		p.edge.Sigma = v[0]
		p.edge.Low, p.edge.High = v[1], v[1]*v[2]
		p.edge.NMS = true
		T, K := int(v[3]), 2*int(v[4])+1
		if p.bank = newBank(T, K, o.KernelHalfLen); p.bank == nil {
			return nil, errs.New(errs.BadArg, "airline.params", "cannot build the orientation bank for T=%d, K=%d", T, K)
		}
		c := base
		c.SimThresh = v[5]
		c.PixelNumThresh = int(v[6])
		if c.PixelNumThresh == 0 {
			c.PixelNumThresh = -1
		}
		p.minLen = v[7]
		c.MaxRegionPx = int(v[8])
		c.SeedStride = int(v[9])
		// Every kept Canny pixel is above the floor; the mask is the Canny map.
		p.presets = []preset{{thr: o.EdgeFloor, crg: c}}
	}
	return p, nil
}

// workspace is the pooled scratch memory of one Detect.
type workspace struct {
	eb    edgeBufs
	emap  []float32
	crop  []float32
	used  []uint8
	slot  []int32
	desc  []float32
	delta [][]int32
	g     grower
	f     fuser
	lines []Line
}

func (e *Evaluator) getWS() *workspace {
	if ws, ok := e.pool.Get().(*workspace); ok {
		return ws
	}
	return &workspace{}
}

// Result is the full output of one detection.
type Result struct {
	Segments []imgbuf.Segment
	Presets  [2][]imgbuf.Segment // per preset, after the post-filter (airline8; classical fills [0])
	Boxes    []imgbuf.Box        // the ROIs used
	Stats    Stats
}

// Detect runs the pipeline on img with parameters x (nil = defaults) and the
// evaluator's ROI mode.
func (e *Evaluator) Detect(ctx context.Context, x []float64, img *imgbuf.Gray) ([]imgbuf.Segment, error) {
	r, err := e.Run(ctx, x, img, nil, nil)
	if err != nil {
		return nil, err
	}
	return r.Segments, nil
}

// DetectIn is Detect restricted to the given boxes (overriding the ROI mode).
func (e *Evaluator) DetectIn(ctx context.Context, x []float64, img *imgbuf.Gray, boxes []imgbuf.Box) ([]imgbuf.Segment, error) {
	if boxes == nil {
		boxes = []imgbuf.Box{}
	}
	r, err := e.Run(ctx, x, img, boxes, nil)
	if err != nil {
		return nil, err
	}
	return r.Segments, nil
}

// Eval detects and scores against gt (ScoreSegments). Ms is the detection
// wall time.
func (e *Evaluator) Eval(ctx context.Context, x []float64, img *imgbuf.Gray, gt []imgbuf.Segment) (Record, error) {
	t0 := time.Now()
	r, err := e.Run(ctx, x, img, nil, gt)
	if err != nil {
		return Record{}, err
	}
	ms := float64(time.Since(t0).Microseconds()) / 1000
	rec := e.ScoreSegments(r.Segments, gt, img.W, img.H)
	rec.Ms, rec.Stats = ms, r.Stats
	return rec, nil
}

// ScoreSegments scores detected segments against gt on a w x h image with
// both metrics, F_r (metric.FScore) and soft LP_r (metric.SoftLP), the
// chosen one (Options.Metric) at Options.MetricR, the other at its default
// radius; Record.Value is the chosen one. NLines is len(det).
func (e *Evaluator) ScoreSegments(det, gt []imgbuf.Segment, w, h int) Record {
	rf, rs := 0.0, 0.0
	if e.opts.Metric == MetricSoftLP {
		rs = e.opts.MetricR
	} else {
		rf = e.opts.MetricR
	}
	return Record{Score: metric.FScore(det, gt, w, h, rf), Soft: metric.SoftLP(det, gt, w, h, rs),
		Metric: e.opts.Metric, NLines: len(det)}
}

// Run is the full pipeline. boxes non-nil overrides the ROI mode; gt is used
// only by ROI "gt".
func (e *Evaluator) Run(ctx context.Context, x []float64, img *imgbuf.Gray, boxes []imgbuf.Box, gt []imgbuf.Segment) (res *Result, err error) {
	const op = "airline.detect"
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, errs.New(errs.Internal, op, "panic: %v", r)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	if img == nil {
		return nil, errs.New(errs.BadArg, op, "image is nil")
	}
	if err := img.Validate(); err != nil {
		return nil, errs.New(errs.BadArg, op, "%v", err)
	}
	if img.W > maxSide || img.H > maxSide || img.W*img.H > e.opts.MaxPixels {
		return nil, errs.New(errs.OOM, op, "image %dx%d has %d pixels, over MaxPixels %d (or a side over %d)",
			img.W, img.H, img.W*img.H, e.opts.MaxPixels, maxSide).WithHint("raise Options.MaxPixels or crop the image")
	}
	p, err := e.plan(x)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, op, err)
	}
	W, H := img.W, img.H
	ws := e.getWS()
	defer e.pool.Put(ws)
	edgeFallbacks := 0 // added to res.Stats once res exists

	// Edge map on the whole image.
	n := W * H
	ws.emap = growF(ws.emap, n)
	switch e.opts.Edge {
	case "learned":
		fm, err := e.opts.EdgeFunc(img)
		if err != nil {
			return nil, errs.Wrap(errs.Failed, "airline.edge", err)
		}
		if fm == nil || fm.W != W || fm.H != H || len(fm.Pix) != n {
			got := "nil"
			if fm != nil {
				got = fmt.Sprintf("%dx%d with %d values", fm.W, fm.H, len(fm.Pix))
			}
			return nil, errs.New(errs.Failed, "airline.edge", "EdgeFunc returned %s, want %dx%d", got, W, H)
		}
		for i, v := range fm.Pix {
			switch {
			case v != v:
				v = -1e6
			case v > 1e6:
				v = 1e6
			case v < -1e6:
				v = -1e6
			}
			ws.emap[i] = v
		}
	default:
		done := false
		if e.opts.Stages != nil {
			fm, err := e.opts.Stages.ClassicalEdges(img, p.edge)
			if err == nil && fm != nil && len(fm.Pix) == n {
				copy(ws.emap, fm.Pix)
				done = true
			} else {
				e.stagesFailed(&edgeFallbacks, "edge", err)
			}
		}
		if !done && e.edges != nil {
			k := e.edges.key(img.Pix, W, H, p.edge)
			if done = e.edges.get(k, ws.emap); !done {
				ws.eb.grow(n)
				edgesInto(ws.emap, &ws.eb, img.Pix, W, H, p.edge)
				e.edges.put(k, ws.emap)
				done = true
			}
		}
		if !done {
			ws.eb.grow(n)
			edgesInto(ws.emap, &ws.eb, img.Pix, W, H, p.edge)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, op, err)
	}

	// Regions of interest.
	if boxes == nil {
		switch e.opts.ROI {
		case "image":
			boxes = []imgbuf.Box{{X0: 0, Y0: 0, X1: W, Y1: H}}
		case "boxes":
			boxes = e.opts.Boxes
		case "func":
			bs, err := e.opts.ROIFunc(img)
			if err != nil {
				return nil, errs.Wrap(errs.Failed, "airline.roi", err)
			}
			boxes = bs
		case "gt":
			if len(gt) == 0 {
				return nil, errs.New(errs.BadArg, op, "ROI \"gt\" needs ground-truth segments (use Eval)")
			}
			boxes = []imgbuf.Box{gtBox(gt, e.opts.ROIPad)}
		}
	}
	res = &Result{}
	res.Stats.OffloadFallbacks = edgeFallbacks
	for _, b := range boxes {
		b = clipBox(b, W, H)
		if b.X1-b.X0 < 1 || b.Y1-b.Y0 < 1 {
			continue
		}
		res.Boxes = append(res.Boxes, b)
		res.Stats.ROIs++
		segs, err := e.runROI(ctx, ws, p, img, b, res)
		if err != nil {
			return nil, err
		}
		res.Segments = append(res.Segments, segs...)
	}
	return res, nil
}

func clipBox(b imgbuf.Box, w, h int) imgbuf.Box {
	b.X0, b.Y0 = max(b.X0, 0), max(b.Y0, 0)
	b.X1, b.Y1 = min(b.X1, w), min(b.Y1, h)
	return b
}

// gtBox is the bounding box of the finite GT endpoints, padded.
func gtBox(gt []imgbuf.Segment, pad int) imgbuf.Box {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range gt {
		if !finiteSeg(s) {
			continue
		}
		x0, x1 = math.Min(x0, math.Min(s.X1, s.X2)), math.Max(x1, math.Max(s.X1, s.X2))
		y0, y1 = math.Min(y0, math.Min(s.Y1, s.Y2)), math.Max(y1, math.Max(s.Y1, s.Y2))
	}
	if x0 > x1 {
		return imgbuf.Box{}
	}
	cl := func(v float64) int { return int(math.Max(-1<<30, math.Min(1<<30, v))) }
	return imgbuf.Box{X0: cl(math.Floor(x0)) - pad, Y0: cl(math.Floor(y0)) - pad, X1: cl(math.Ceil(x1)) + 1 + pad, Y1: cl(math.Ceil(y1)) + 1 + pad}
}

// runROI runs orientation, CRG for each preset, the post-filter and the
// fusion on one ROI; segments are returned in image coordinates.
func (e *Evaluator) runROI(ctx context.Context, ws *workspace, p *plan, img *imgbuf.Gray, b imgbuf.Box, res *Result) ([]imgbuf.Segment, error) {
	W := img.W
	w, h := b.X1-b.X0, b.Y1-b.Y0
	n := w * h
	em := ws.emap
	if w != W || h != img.H {
		ws.crop = growF(ws.crop, n)
		for y := 0; y < h; y++ {
			copy(ws.crop[y*w:y*w+w], ws.emap[(y+b.Y0)*W+b.X0:(y+b.Y0)*W+b.X0+w])
		}
		em = ws.crop[:n]
	}
	em = em[:n]
	T := p.bank.T

	// Descriptors at the pixels of the loosest mask only (CRG reads no others).
	minThr := math.Inf(1)
	for _, ps := range p.presets {
		minThr = math.Min(minThr, ps.thr)
	}
	if cap(ws.slot) < n {
		ws.slot = make([]int32, n)
	}
	slot := ws.slot[:n]
	cnt := 0
	for i, v := range em {
		if float64(v) > minThr {
			slot[i] = int32(cnt)
			cnt++
		} else {
			slot[i] = -1
		}
	}
	res.Stats.EdgePixels += cnt
	ws.desc = growF(ws.desc, cnt*T)
	ws.delta = p.bank.deltas(ws.delta, w)
	desc := ws.desc[:cnt*T]
	offloaded := false
	if e.opts.Stages != nil {
		dense, err := e.opts.Stages.OrientationHalfLen(&imgbuf.Float{W: w, H: h, Pix: em}, T, p.bank.K, p.bank.halfLen)
		if err == nil && len(dense) == n*T {
			for i, s := range slot {
				if s >= 0 {
					copy(desc[int(s)*T:int(s)*T+T], dense[i*T:i*T+T])
				}
			}
			offloaded = true
		} else {
			e.stagesFailed(&res.Stats.OffloadFallbacks, "orientation", err)
		}
	}
	for i, s := range slot {
		if s >= 0 && !offloaded {
			p.bank.descriptor(desc[int(s)*T:int(s)*T+T], em, w, h, i%w, i/w, ws.delta)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, "airline.detect", err)
	}

	if cap(ws.used) < n {
		ws.used = make([]uint8, n)
	}
	used := ws.used[:n]
	diag := math.Hypot(float64(w), float64(h))
	var sets [3][]imgbuf.Segment
	for k, ps := range p.presets {
		for i, v := range em {
			used[i] = 0
			if float64(v) > ps.thr {
				used[i] = 255
			}
		}
		c := ps.crg
		if ps.pixelRatio > 0 {
			r := ps.pixelRatio
			if e.opts.PixelRatioCap > 0 {
				r = math.Min(r, e.opts.PixelRatioCap)
			}
			c.PixelNumThresh = int(r * diag)
			if c.PixelNumThresh == 0 {
				c.PixelNumThresh = -1
			}
		}
		lines, st, err := ws.g.run(ctx, used, desc, slot, w, h, T, c.withDefaults(), ws.lines[:0])
		ws.lines = lines[:0]
		res.Stats.CRGStats.add(st)
		if err != nil {
			return nil, err
		}
		var out []imgbuf.Segment
		for _, l := range lines {
			if l.Len() < p.minLen || l.Straightness < e.opts.MinStraightness {
				continue
			}
			out = append(out, l.Segment)
		}
		sets[k] = out
		res.Stats.PerPreset[k] += len(out)
	}

	var segs []imgbuf.Segment
	if len(p.presets) == 1 {
		segs = sets[0]
	} else {
		if e.opts.OtherFunc != nil && e.opts.Fusion != "union" {
			crop := img
			if w != W || h != img.H {
				crop = imgbuf.NewGray(w, h)
				for y := 0; y < h; y++ {
					copy(crop.Pix[y*w:y*w+w], img.Pix[(y+b.Y0)*W+b.X0:])
				}
			}
			other, err := e.opts.OtherFunc(crop)
			if err != nil {
				return nil, errs.Wrap(errs.Failed, "airline.other", err)
			}
			sets[2] = other
		}
		res.Stats.FusionInput += len(sets[0]) + len(sets[1]) + len(sets[2])
		switch e.opts.Fusion {
		case "union":
			segs = append(append(segs, sets[0]...), sets[1]...)
		case "seam":
			fp := p.fusion
			fp.trials = e.opts.SeamTrials
			if s, ok := ws.f.fuseSeam(sets, w, h, fp); ok {
				segs = []imgbuf.Segment{s}
			}
		default:
			segs = ws.f.fuseLines(sets, w, h, p.fusion)
		}
	}
	for k := range res.Presets {
		res.Presets[k] = append(res.Presets[k], offset(sets[k], b)...)
	}
	return offset(segs, b), nil
}

func offset(segs []imgbuf.Segment, b imgbuf.Box) []imgbuf.Segment {
	if b.X0 == 0 && b.Y0 == 0 {
		return segs
	}
	out := make([]imgbuf.Segment, len(segs))
	for i, s := range segs {
		out[i] = imgbuf.Segment{X1: s.X1 + float64(b.X0), Y1: s.Y1 + float64(b.Y0), X2: s.X2 + float64(b.X0), Y2: s.Y2 + float64(b.Y0)}
	}
	return out
}
