package objective

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"bohost/host/airline"
	"bohost/host/dataset"
	"bohost/host/envfeat"
	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/imgbuf"
	"bohost/host/worker"
)

// Spec is a run's objective specification. Exactly one field is set.
type Spec struct {
	Airline *AirlineSpec    `json:"airline,omitempty"`
	Lua     *LuaSpec        `json:"lua,omitempty"`
	Command *CommandSpec    `json:"command,omitempty"`
	Other   json.RawMessage `json:"-"` // unused; kept for forward compatibility
}

// CommandSpec is an external evaluator (host/extproc, docs/evaluators.md):
// each worker starts Command once as a long-lived child process and sends
// it one evaluation at a time over a JSON-lines protocol on its stdin and
// stdout. In Lua: objective = {command = {"python3", "eval.py"}, env = {...},
// cwd = "dir", gpus = {0, 1}}.
type CommandSpec struct {
	// Command is the argv: the program (found on PATH) and its arguments.
	Command []string `json:"command" lua:",required"`
	// Env is added to the child's environment (the worker's, which is
	// bohost's).
	Env map[string]string `json:"env,omitempty"`
	// Cwd is the child's working directory (relative: to bohost's working
	// directory; "": bohost's).
	Cwd string `json:"cwd,omitempty"`
	// GPUs places worker slot i on device GPUs[i % len(GPUs)] through
	// CUDA_VISIBLE_DEVICES (none: the variable is left as it is). In Lua
	// a count n stands for {0, ..., n-1}.
	GPUs []int `json:"gpus,omitempty"`
	// SetupTimeoutS bounds the child's start (its setup, e.g. loading a
	// model) until its ready line, in seconds (0: 60).
	SetupTimeoutS float64 `json:"setup_timeout_s,omitempty" zero:"must be > 0 seconds (leave it out for 60)"`
}

// DefaultSetupTimeoutS is CommandSpec.SetupTimeoutS when it is 0.
const DefaultSetupTimeoutS = 60

// Validate names the first bad field.
func (c CommandSpec) Validate() error {
	const op = "objective.command"
	bad := func(f string, a ...any) error { return errs.New(errs.BadArg, op, f, a...) }
	switch {
	case len(c.Command) == 0 || c.Command[0] == "":
		return bad("command must be the evaluator's argv, a list such as {\"python3\", \"eval.py\"}, got %q", c.Command)
	case !(c.SetupTimeoutS >= 0) || c.SetupTimeoutS > 86400:
		return bad("setup_timeout_s must be in (0, 86400] seconds (0 or absent: %d), got %g", DefaultSetupTimeoutS, c.SetupTimeoutS)
	}
	for k := range c.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return bad("env has an invalid variable name %q", k)
		}
	}
	if _, ok := c.Env["CUDA_VISIBLE_DEVICES"]; ok && len(c.GPUs) > 0 {
		return bad("env.CUDA_VISIBLE_DEVICES and gpus both place the evaluator on GPUs; give one")
	}
	for i, g := range c.GPUs {
		if g < 0 {
			return bad("gpus[%d] must be a device index >= 0, got %d", i+1, g)
		}
	}
	return nil
}

// LuaSpec names a Lua file and the function in it that a worker calls as
// fn(x, w, env_index) (env_index 1-based, nil for continuous w).
type LuaSpec struct {
	File string `json:"file"`
	Fn   string `json:"fn"`
}

// AirlineSpec configures the AirLine objective.
type AirlineSpec struct {
	// Data is a directory in York Urban's layout, a welding label file
	// (*.json, dataset.OpenLabels), or "synthetic" (default) for the
	// built-in scenes configured by Synth.
	Data  string               `json:"data,omitempty"`
	Synth dataset.SynthOptions `json:"synth,omitempty"`
	// Split selects images: "" or "all" (default), or a split name (a
	// label file's are "train" and "test", its held-out images).
	Split string `json:"split,omitempty"`
	// A label file's options (dataset.LabelOptions): the directory its
	// image paths are resolved against (default: the label file's), and
	// the held-out images (split "test"): a file of names, or a fraction
	// (default 0.3) chosen by a seed.
	Images          string  `json:"images,omitempty"`
	HoldoutFile     string  `json:"holdout_file,omitempty"`
	HoldoutFraction float64 `json:"holdout_fraction,omitempty"`
	HoldoutSeed     uint64  `json:"holdout_seed,omitempty"`
	// CacheImages bounds the decoded-image cache (0: the data set's default,
	// 128 MiB of pixels and at least 8 images).
	CacheImages int `json:"cache_images,omitempty"`
	// MaxPixels bounds each image file's width × height, checked from the
	// header in the parent and in every worker (0: BOHOST_MAX_PIXELS, else
	// imgbuf.DefaultMaxPixels); see dataset.Options.MaxPixels.
	MaxPixels int64 `json:"max_pixels,omitempty"`
	// Downscale reduces every image of a directory or label file by this
	// integer factor before anything else (dataset.Options.Downscale: the
	// ground truth is scaled with it, the environment features are the
	// reduced image's, the manifest records it); 0 or absent: none. An
	// explicit evaluator r stays in pixels of the image as stored: the
	// evaluator scores with r / Downscale on the reduced image.
	Downscale int `json:"downscale,omitempty"`
	// Evaluator options (zero: AirLine's defaults).
	Evaluator EvaluatorSpec `json:"evaluator,omitempty"`
	// Perturbations multiply the environments: every image under every
	// perturbation (none: each image once, unchanged).
	Perturbations []Perturbation `json:"perturbations,omitempty"`
}

// Perturbation is envfeat.Perturbation with JSON names.
type Perturbation struct {
	Gain       float64 `json:"gain,omitempty"`
	Contrast   float64 `json:"contrast,omitempty"`
	NoiseSigma float64 `json:"noise_sigma,omitempty"`
	BlurSigma  float64 `json:"blur_sigma,omitempty"`
	Seed       uint64  `json:"seed,omitempty"`
}

// EvaluatorSpec holds the JSON-able subset of airline.Options (zero: the
// default in airline.Options).
type EvaluatorSpec struct {
	Space       string  `json:"space,omitempty"`  // "airline8" (default) or "classical"
	ROI         string  `json:"roi,omitempty"`    // "image" (default) or "gt"
	Fusion      string  `json:"fusion,omitempty"` // "lines" (default), "seam", "union"
	Seed        uint64  `json:"seed,omitempty"`
	BlurSigma   float64 `json:"blur_sigma,omitempty"`
	MinLength   float64 `json:"min_length,omitempty"`
	T           int     `json:"t,omitempty"`
	K           int     `json:"k,omitempty"`
	MaxRegionPx int     `json:"max_region_px,omitempty"`
	// Device "cuda" runs the per-pixel stages on the GPU (host/gpu) with
	// results equal to the CPU path; without a GPU the worker warns on its
	// stderr and uses the CPU. "" or "cpu": the CPU.
	Device string `json:"device,omitempty"`
	// Metric is the objective value, the score record's f: "f" (default,
	// F_r) or "soft_lp" (the welding study's soft LP_r). Both metrics are
	// always in the record (f_r, precision, recall, r; soft_lp,
	// soft_precision, soft_f, soft_r).
	Metric string `json:"metric,omitempty" lua:",enum=f|soft_lp"`
	// MetricR is the chosen metric's tolerance in pixels of the image as
	// stored (absent: scaled with the image, 3 px at 640 x 480 for F_r,
	// 20 px at 3264 x 2448 for soft LP_r; see airline.Options.MetricR).
	// With AirlineSpec.Downscale the evaluator scores with r / Downscale
	// on the reduced image, and the record's r is that.
	MetricR float64 `json:"r,omitempty" zero:"must be a radius > 0 in pixels (leave it out for the default, scaled with the image)"`
}

// ParseSpec decodes and checks a specification: exactly one of airline,
// lua, command. Unknown fields are errors naming them.
func ParseSpec(raw []byte) (Spec, error) {
	const op = "objective.spec"
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, errs.New(errs.BadArg, op, "objective must be {\"airline\": {...}}, {\"lua\": {\"file\": ..., \"fn\": ...}} or {\"command\": {\"command\": [...], ...}}: %v", err)
	}
	var set []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"airline", s.Airline != nil}, {"lua", s.Lua != nil}, {"command", s.Command != nil}} {
		if k.set {
			set = append(set, k.name)
		}
	}
	n := len(set)
	switch {
	case n == 2:
		return s, errs.New(errs.BadArg, op, "objective has both %s and %s; give one", set[0], set[1])
	case n > 2:
		return s, errs.New(errs.BadArg, op, "objective has airline, lua and command; give one")
	case n == 0:
		return s, errs.New(errs.BadArg, op, "objective is empty: give {\"airline\": {...}}, {\"lua\": {\"file\": ..., \"fn\": ...}} or {\"command\": {\"command\": [...]}}")
	case s.Command != nil:
		if err := s.Command.Validate(); err != nil {
			return s, err
		}
	case s.Lua != nil:
		if s.Lua.File == "" {
			return s, errs.New(errs.BadArg, op, "objective.lua.file is required (a Lua file defining the objective function)")
		}
		if s.Lua.Fn == "" {
			s.Lua.Fn = "evaluate"
		}
	case s.Airline != nil:
		if err := s.Airline.Validate(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Validate names the first bad field.
func (s AirlineSpec) Validate() error {
	const op = "objective.airline"
	if s.MaxPixels < 0 {
		return errs.New(errs.BadArg, op, "max_pixels must be a positive number of pixels (0 or absent: the default), got %d", s.MaxPixels)
	}
	if s.Downscale < 0 || s.Downscale > dataset.MaxDownscale {
		return errs.New(errs.BadArg, op, "downscale must be an integer factor in [1, %d] (0 or absent: none), got %d", dataset.MaxDownscale, s.Downscale)
	}
	if s.Downscale > 1 && (s.Data == "" || s.Data == "synthetic") {
		return errs.New(errs.BadArg, op, "downscale is an option of image files (data = a directory or a label file), not of the synthetic scenes: set synth.width and synth.height instead")
	}
	if !s.labelFile() {
		for _, o := range []struct {
			name string
			set  bool
		}{{"images", s.Images != ""}, {"holdout_file", s.HoldoutFile != ""}, {"holdout_fraction", s.HoldoutFraction != 0}, {"holdout_seed", s.HoldoutSeed != 0}} {
			if o.set {
				return errs.New(errs.BadArg, op, "%s is an option of a label file (data = \"ground_truth.json\"), not of data = %q", o.name, s.Data)
			}
		}
	}
	if f := s.HoldoutFraction; !(f >= 0 && f < 1) {
		return errs.New(errs.BadArg, op, "holdout_fraction must be in (0, 1) (0 or absent: %g), got %g", dataset.DefaultHoldoutFraction, f)
	}
	if s.HoldoutFraction != 0 && s.HoldoutFile != "" {
		return errs.New(errs.BadArg, op, "holdout_file and holdout_fraction: give one")
	}
	// The engines below validate Go structs and name Go fields (Gain); the
	// spec names them as JSON and Lua do (perturbations[1].gain).
	if s.Data == "" || s.Data == "synthetic" {
		if err := s.Synth.Validate(); err != nil {
			return errs.Wrap(errs.BadArg, op, errs.JSONNames(err, op, "synth.", reflect.TypeFor[dataset.SynthOptions]()))
		}
	}
	for i, p := range s.Perturbations {
		if err := p.env().Validate(); err != nil {
			return errs.Wrap(errs.BadArg, op, errs.JSONNames(err, op, fmt.Sprintf("perturbations[%d].", i+1), reflect.TypeFor[Perturbation]()))
		}
	}
	if _, err := airline.New(s.Evaluator.options()); err != nil {
		return errs.Wrap(errs.BadArg, op, errs.JSONNames(err, op, "evaluator.", reflect.TypeFor[EvaluatorSpec]()))
	}
	if d := s.Evaluator.Device; d != "" && d != "cpu" && d != "cuda" {
		return errs.New(errs.BadArg, op, "evaluator.device must be \"cpu\" or \"cuda\", got %q", d)
	}
	return nil
}

// labelFile reports whether Data names a welding label file (*.json).
func (s AirlineSpec) labelFile() bool { return strings.EqualFold(filepath.Ext(s.Data), ".json") }

func (p Perturbation) env() envfeat.Perturbation {
	return envfeat.Perturbation{Gain: p.Gain, Contrast: p.Contrast, NoiseSigma: p.NoiseSigma, BlurSigma: p.BlurSigma, Seed: p.Seed}
}

func (e EvaluatorSpec) options() airline.Options {
	return airline.Options{Space: e.Space, ROI: e.ROI, Fusion: e.Fusion, Seed: e.Seed, BlurSigma: e.BlurSigma,
		MinLength: e.MinLength, T: e.T, K: e.K, MaxRegionPx: e.MaxRegionPx, Metric: e.Metric, MetricR: e.MetricR}
}

// Airline is the AirLine objective: a worker.Objective over a data set.
type Airline struct {
	spec AirlineSpec

	once sync.Once
	ds   *dataset.Dataset
	ev   *airline.Evaluator
	err  error
}

var (
	_ worker.Objective = (*Airline)(nil)
	_ airline.Stages   = (*gpu.Context)(nil) // the CUDA stages plug into the evaluator
)

// NewAirline checks spec and returns the objective; the data set is opened on
// first use.
func NewAirline(spec AirlineSpec) (*Airline, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return &Airline{spec: spec}, nil
}

func (a *Airline) load() error {
	a.once.Do(func() {
		opts := a.spec.Evaluator.options()
		if a.spec.Downscale > 1 && opts.MetricR > 0 {
			opts.MetricR /= float64(a.spec.Downscale) // r is in pixels of the image as stored
		}
		if a.spec.Evaluator.Device == "cuda" {
			opts.OnWarning = func(m string) { fmt.Fprintln(os.Stderr, "warning: "+m) }
			if c, err := gpu.Default(); err != nil {
				fmt.Fprintf(os.Stderr, "warning: device cuda: %v; using the CPU path\n", err)
			} else {
				opts.Stages = c
			}
		}
		a.ev, a.err = airline.New(opts)
		if a.err != nil {
			return
		}
		if a.spec.Data == "" || a.spec.Data == "synthetic" {
			o := a.spec.Synth
			if o.Split == "" {
				o.Split = a.spec.Split
			}
			if o.CacheImages == 0 {
				o.CacheImages = a.spec.CacheImages
			}
			a.ds, a.err = dataset.Synthetic(o)
			return
		}
		o := dataset.Options{Split: a.spec.Split, CacheImages: a.spec.CacheImages, MaxPixels: a.spec.MaxPixels, Downscale: a.spec.Downscale}
		if a.spec.labelFile() {
			a.ds, a.err = dataset.OpenLabels(a.spec.Data, dataset.LabelOptions{Options: o, Images: a.spec.Images,
				HoldoutFile: a.spec.HoldoutFile, HoldoutFraction: a.spec.HoldoutFraction, HoldoutSeed: a.spec.HoldoutSeed})
			return
		}
		a.ds, a.err = dataset.Open(a.spec.Data, o)
	})
	return a.err
}

// Dataset opens (once) and returns the data set.
func (a *Airline) Dataset() (*dataset.Dataset, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	return a.ds, nil
}

// Space is the evaluator's search space.
func (a *Airline) Space() ([]airline.Param, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	return a.ev.Space(), nil
}

func (a *Airline) nPert() int {
	if len(a.spec.Perturbations) == 0 {
		return 1
	}
	return len(a.spec.Perturbations)
}

// Len is the number of environments (images × perturbations).
func (a *Airline) Len() (int, error) {
	if err := a.load(); err != nil {
		return 0, err
	}
	return a.ds.Len() * a.nPert(), nil
}

// EnvID names environment i: the image id, with "/pK" (K 1-based) when
// there are perturbations.
func (a *Airline) EnvID(i int) string {
	if a.load() != nil {
		return ""
	}
	it := a.ds.Item(i / a.nPert())
	if len(a.spec.Perturbations) == 0 {
		return it.ID
	}
	return fmt.Sprintf("%s/p%d", it.ID, i%a.nPert()+1)
}

// Image returns environment i's image (perturbed when it has a perturbation)
// and its ground truth.
func (a *Airline) Image(i int) (*imgbuf.Gray, dataset.Item, error) {
	const op = "objective.airline"
	n, err := a.Len()
	if err != nil {
		return nil, dataset.Item{}, err
	}
	if i < 0 || i >= n {
		return nil, dataset.Item{}, errs.New(errs.BadArg, op, "env_index must be in [0, %d), got %d", n, i)
	}
	it := a.ds.Item(i / a.nPert())
	img, err := a.ds.Image(it.Index)
	if err != nil {
		return nil, it, err
	}
	if len(a.spec.Perturbations) > 0 {
		img = envfeat.Perturb(img, a.spec.Perturbations[i%a.nPert()].env())
	}
	return img, it, nil
}

// Envs lists the environments: ids and envfeat features normalised over the
// set (one row per environment), for bo.Env.List.
type Envs struct {
	IDs      []string    `json:"ids"`
	Features [][]float64 `json:"features"`
	Names    []string    `json:"names"`
}

// Envs computes the environment list (every image is rendered or decoded
// once, through the bounded cache).
func (a *Airline) Envs() (Envs, error) {
	n, err := a.Len()
	if err != nil {
		return Envs{}, err
	}
	out := Envs{Names: envfeat.Names}
	raw := make([][]float64, n)
	for i := 0; i < n; i++ {
		img, _, err := a.Image(i)
		if err != nil {
			return Envs{}, err
		}
		raw[i] = envfeat.Features(img)
		out.IDs = append(out.IDs, a.EnvID(i))
	}
	out.Features = envfeat.Normalise(raw)
	return out, nil
}

// Manifest identifies the data set (docs/rundir.md manifest.json).
func (a *Airline) Manifest() (dataset.Manifest, error) {
	if err := a.load(); err != nil {
		return dataset.Manifest{}, err
	}
	return a.ds.Manifest()
}

// Scored is one evaluation with its segments.
type Scored struct {
	Record airline.Record
	Lines  []imgbuf.Segment // detected
	GT     []imgbuf.Segment
	ID     string
}

// Score runs the evaluator at x on environment i; withLines keeps the
// detected segments.
func (a *Airline) Score(ctx context.Context, x []float64, i int, withLines bool) (Scored, error) {
	img, it, err := a.Image(i)
	if err != nil {
		return Scored{}, err
	}
	worker.SetPhase(ctx, "detect")
	if !withLines {
		rec, err := a.ev.Eval(ctx, x, img, it.Lines)
		return Scored{Record: rec, ID: a.EnvID(i)}, err
	}
	res, err := a.ev.Run(ctx, x, img, nil, it.Lines)
	if err != nil {
		return Scored{}, err
	}
	rec := a.ev.ScoreSegments(res.Segments, it.Lines, img.W, img.H)
	rec.Stats = res.Stats
	return Scored{Record: rec, Lines: res.Segments, GT: it.Lines, ID: a.EnvID(i)}, nil
}

// Eval implements worker.Objective: y is the record's f, the chosen metric
// (F_r, or soft LP_r with evaluator.metric = "soft_lp").
func (a *Airline) Eval(ctx context.Context, req worker.Request) (worker.Result, error) {
	var args struct {
		Lines bool `json:"lines"`
	}
	if len(req.Args) > 0 {
		_ = json.Unmarshal(req.Args, &args)
	}
	s, err := a.Score(ctx, req.X, req.EnvIndex, args.Lines)
	if err != nil {
		return worker.Result{}, err
	}
	score := Record(s.Record)
	if args.Lines {
		score["lines"] = Segs(s.Lines)
	}
	return worker.Result{Y: s.Record.Value(), Score: score}, nil
}

// Record is the score record of a trial (and of ev:eval in Lua):
//
//	f               the objective value: F_r, or soft LP_r when metric is "soft_lp"
//	metric          "f" or "soft_lp": what f is
//	f_r             F_r (metric.FScore), whatever the metric
//	precision       P_r, F_r's precision
//	recall          R_r, F_r's recall (LP_r with exact dilation)
//	r               F_r's tolerance, px
//	soft_lp         soft LP_r (metric.SoftLP), whatever the metric
//	soft_precision  its precision counterpart
//	soft_f          their harmonic mean
//	soft_r          soft LP_r's tolerance, px
//	n_lines, n_gt   detected and GT segments; ms the detection time
func Record(r airline.Record) map[string]any {
	m := r.Metric
	if m == "" {
		m = airline.MetricF
	}
	return map[string]any{"f": r.Value(), "metric": m, "f_r": r.F, "precision": r.Precision, "recall": r.Recall, "r": r.R,
		"soft_lp": r.Soft.LP, "soft_precision": r.Soft.Precision, "soft_f": r.Soft.F, "soft_r": r.Soft.R,
		"n_lines": r.NLines, "n_gt": r.NGT, "ms": r.Ms}
}

// Segs converts segments to [[x1,y1,x2,y2], ...].
func Segs(s []imgbuf.Segment) [][4]float64 {
	out := make([][4]float64, len(s))
	for i, g := range s {
		out[i] = [4]float64{g.X1, g.Y1, g.X2, g.Y2}
	}
	return out
}

// Factory is the worker.Factory of the airline objective; other objective
// kinds are an error (the bohost worker subcommand handles lua itself).
func Factory(_ context.Context, hello worker.Hello) (worker.Objective, error) {
	s, err := ParseSpec(hello.Spec)
	if err != nil {
		return nil, err
	}
	if s.Airline == nil {
		return nil, errs.New(errs.BadArg, "objective.factory", "this worker builds only airline objectives")
	}
	return NewAirline(*s.Airline)
}
