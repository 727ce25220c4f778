package bindings

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"bohost/host/airline"
	"bohost/host/cv"
	"bohost/host/dataset"
	"bohost/host/envfeat"
	"bohost/host/errs"
	"bohost/host/gpu"
	"bohost/host/imgbuf"
	"bohost/host/lua"
	"bohost/host/objective"

	glua "github.com/yuin/gopher-lua"
)

// Airline is bohost.airline: data sets with ground-truth lines, the AirLine
// evaluator (host/airline, with learned edge and ROI models through
// host/cv), environment features, and OpenCV baselines.
type Airline struct{}

const (
	datasetType   = "bohost.airline.Dataset"
	evaluatorType = "bohost.airline.Evaluator"
)

// evaluator is the userdata behind an Evaluator: the engine plus the native
// models it holds, freed by :free(), mem.scope or at exit.
type evaluator struct {
	ev     *airline.Evaluator
	handle *lua.Handle
	freed  bool
}

func (Airline) Name() string { return "bohost.airline" }

func (Airline) Open(rt *lua.Runtime) *glua.LTable {
	rt.NewType(datasetType, "Dataset", []lua.Func{
		{Name: "item", Sig: "ds:item(i) -> {index=, id=, path=, width=, height=, lines=}", Desc: "the i-th item (1-based); ds[i] is the same", Fn: func(L *glua.LState) int {
			ds := lua.CheckObject[*dataset.Dataset](L, 1, "Dataset:item", datasetType)
			L.Push(pushItem(L, L.Get(1), ds, L.CheckInt(2), "Dataset:item"))
			return 1
		}},
		{Name: "manifest", Sig: "ds:manifest() -> table", Desc: "file names and sha256 hashes (or the generator's parameters), for reproducible runs", Fn: func(L *glua.LState) int {
			ds := lua.CheckObject[*dataset.Dataset](L, 1, "Dataset:manifest", datasetType)
			m, err := ds.Manifest()
			if err != nil {
				return lua.Raise(L, "Dataset:manifest", err)
			}
			v, err := toLuaJSON(L, m)
			if err != nil {
				return lua.Raise(L, "Dataset:manifest", err)
			}
			L.Push(v)
			return 1
		}},
		{Name: "write", Sig: "ds:write(dir)", Desc: "writes the data set as images + JSON in York Urban's layout (to look at or share the synthetic set)", Fn: func(L *glua.LState) int {
			ds := lua.CheckObject[*dataset.Dataset](L, 1, "Dataset:write", datasetType)
			if err := ds.WriteDir(L.CheckString(2)); err != nil {
				return lua.Raise(L, "Dataset:write", err)
			}
			return 0
		}},
	}, func(v any) string {
		ds := v.(*dataset.Dataset)
		src := ds.Dir()
		if src == "" {
			src = "synthetic"
		}
		split := ds.Split()
		if split == "" {
			split = "all"
		}
		return fmt.Sprintf("bohost.airline.Dataset(%s, %s, %d images)", src, split, ds.Len())
	})
	rt.SetTypeField(datasetType, "__len", func(L *glua.LState) int {
		L.Push(glua.LNumber(lua.CheckObject[*dataset.Dataset](L, 1, "Dataset.__len", datasetType).Len()))
		return 1
	})
	methods := rt.L.GetField(rt.L.GetTypeMetatable(datasetType), "methods")
	rt.SetTypeField(datasetType, "__index", func(L *glua.LState) int {
		ds := lua.CheckObject[*dataset.Dataset](L, 1, "Dataset", datasetType)
		if n, ok := L.Get(2).(glua.LNumber); ok {
			L.Push(pushItem(L, L.Get(1), ds, int(n), "Dataset[]"))
			return 1
		}
		L.Push(L.GetField(methods, L.CheckString(2)))
		return 1
	})

	rt.NewType(evaluatorType, "Evaluator", []lua.Func{
		{Name: "eval", Sig: "ev:eval(x, item [, perturbation]) -> {f=, precision=, recall=, n_lines=, ms=}", Desc: "scores x (nil: defaults; an array in space order; or a table by name) on a data set item against its ground truth", Fn: evalEval},
		{Name: "eval_many", Sig: "ev:eval_many(x, items [, {workers=0, perturbation=}]) -> {record, ...}", Desc: "scores x on several items (an array of ds[i], or a whole data set) on all cores (workers=0: GOMAXPROCS); records in item order", Fn: evalMany},
		{Name: "detect", Sig: "ev:detect(x, image) -> {{x1, y1, x2, y2}, ...}", Desc: "line segments in pixel coordinates; image is a data set item or an image file path", Fn: evalDetect},
		{Name: "space", Sig: "ev:space() -> params", Desc: "the evaluator's parameter space ({name=, lo=, hi=, default=, scale=, doc=} each)", Fn: func(L *glua.LState) int {
			e := checkEvaluator(L, "Evaluator:space")
			L.Push(pushSpace(L, e.ev.Space()))
			return 1
		}},
		{Name: "free", Sig: "ev:free()", Desc: "releases the evaluator and any model it loaded", Fn: func(L *glua.LState) int {
			e := lua.CheckObject[*evaluator](L, 1, "Evaluator:free", evaluatorType)
			e.handle.Free()
			e.freed = true
			return 0
		}},
	}, func(v any) string {
		e := v.(*evaluator)
		if e.freed {
			return "bohost.airline.Evaluator(freed)"
		}
		o := e.ev.Options()
		return fmt.Sprintf("bohost.airline.Evaluator(%s, %s edges, %d parameters)", o.Space, o.Edge, len(e.ev.Space()))
	})

	return rt.Funcs("airline", []lua.Func{
		{Name: "dataset", Sig: "airline.dataset{dir=, split=\"all\"|\"train\"|\"test\", cache=0, max_pixels=67108864, downscale=1} or airline.dataset{labels=\"ground_truth.json\", images=, holdout_file=, holdout_fraction=0.3, holdout_seed=0, split=, downscale=1} or airline.dataset{synthetic={n=24, width=640, height=480, seed=1, scene=\"v1\"|\"weld\"}, split=} -> ds",
			Desc: "a data set of images with ground-truth segments (York Urban's layout, the welding study's label file, or the built-in synthetic scenes)", Fn: datasetNew},
		{Name: "try_dataset", Sig: "airline.try_dataset{...} -> ds | nil, err", Desc: "as airline.dataset, returning nil, err instead of raising", Fn: func(L *glua.LState) int {
			return tryCall(L, "airline.try_dataset", datasetNew)
		}},
		{Name: "space", Sig: "airline.space([name=\"airline8\"]) -> params", Desc: "the evaluator's parameter space as data; pass it as bo.optimizer's space", Fn: func(L *glua.LState) int {
			ps, err := airline.Space(L.OptString(1, "airline8"))
			if err != nil {
				return lua.Raise(L, "airline.space", err)
			}
			L.Push(pushSpace(L, ps))
			return 1
		}},
		{Name: "env", Sig: "airline.env(ds) -> W, names", Desc: "environment features per image (brightness, contrast, gradients, edge density, sharpness, noise), min-max normalised over the data set", Fn: func(L *glua.LState) int {
			ds := lua.CheckObject[*dataset.Dataset](L, 1, "airline.env", datasetType)
			rows := make([][]float64, ds.Len())
			for i := range rows {
				if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
					return lua.Raisef(L, errs.Canceled, "airline.env", "interrupted")
				}
				img, err := ds.Image(i)
				if err != nil {
					return lua.Raise(L, "airline.env", err)
				}
				rows[i] = envfeat.Features(img)
			}
			L.Push(lua.Matrix(L, envfeat.Normalise(rows)))
			L.Push(lua.FromGo(L, envfeat.Names))
			return 2
		}},
		{Name: "evaluator", Sig: "airline.evaluator{space=\"airline8\", edge=\"classical\"|\"learned\", edge_model=, roi=\"image\"|\"boxes\"|\"gt\", roi_model=, fusion=\"lines\", seed=0, device=\"cpu\", min_length=15, blur_sigma=1, metric=\"f\"|\"soft_lp\", r=, ...} -> ev",
			Desc: "the AirLine evaluator; edge_model/roi_model are ONNX files you supply (DexiNed, YOLO)", Fn: func(L *glua.LState) int { return evaluatorNew(L, rt) }},
		{Name: "baseline", Sig: "airline.baseline(\"lsd\"|\"fld\"|\"hough\", image) -> segments", Desc: "OpenCV's line detectors, for comparison", Fn: baseline},
		{Name: "score", Sig: "airline.score(segments, item) -> {f=, precision=, recall=, r=, soft_lp=, soft_precision=, soft_f=, soft_r=}", Desc: "the F-score at r px (3 at 640x480) of segments against an item's ground truth, and the welding study's soft LP_r (r = 20 px at 3264x2448, scaled)", Fn: scoreSegments},
		{Name: "write_weld_set", Sig: "airline.write_weld_set{dir=, n=40, width=3264, height=2448, seed=0, format=\"jpeg\"|\"png\", quality=92} -> {label_file=, complete=, partial=, empty=, labels=}",
			Desc: "writes n weld scenes as images + ground_truth.json in the welding study's label format (some labels partial or empty); open it with airline.dataset{labels = t.label_file}", Fn: writeWeldSet},
	})
}

// writeWeldSet is airline.write_weld_set: dataset.WriteWeldSet.
func writeWeldSet(L *glua.LState) int {
	const op = "airline.write_weld_set"
	o := lua.CheckOpts(L, 1, op, "dir", "n", "width", "height", "seed", "format", "quality")
	if !o.Has("dir") {
		return lua.Raisef(L, errs.BadArg, op, "option 'dir' is required: the directory to write the images and ground_truth.json to")
	}
	dir := o.String("dir", "")
	seed := o.Int("seed", 0)
	if seed < 0 {
		return lua.Raisef(L, errs.BadArg, op, "option 'seed' must be >= 0, got %d", seed)
	}
	wo := dataset.WeldSetOptions{N: o.Int("n", 0), Width: o.Int("width", 0), Height: o.Int("height", 0), Seed: uint64(seed),
		Format: o.String("format", ""), Quality: o.Int("quality", 0)}
	for _, k := range []string{"n", "width", "height", "quality"} {
		if o.Has(k) && o.Int(k, 0) == 0 {
			return lua.Raisef(L, errs.BadArg, op, "option '%s' must not be 0 (leave it out for the default)", k)
		}
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	sum, err := dataset.WriteWeldSet(ctx, dir, wo)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	v, err := toLuaJSON(L, sum)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.SetField(v, "label_file", glua.LString(filepath.Join(dir, dataset.WeldLabelFile)))
	L.Push(v)
	return 1
}

func tryCall(L *glua.LState, op string, fn glua.LGFunction) int {
	top := L.GetTop()
	L.Push(L.NewFunction(fn))
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	if err := L.PCall(top, 1, nil); err != nil {
		L.Push(glua.LNil)
		if ae, ok := err.(*glua.ApiError); ok {
			if _, isErr := lua.IsError(ae.Object); isErr {
				L.Push(ae.Object)
				return 2
			}
		}
		L.Push(lua.NewError(L, op, err))
		return 2
	}
	return 1
}

func datasetNew(L *glua.LState) int {
	const op = "airline.dataset"
	o := lua.CheckOpts(L, 1, op, "dir", "labels", "split", "cache", "synthetic", "max_pixels", "images", "holdout_file", "holdout_fraction", "holdout_seed", "downscale")
	split := o.String("split", "")
	cache := o.Int("cache", 0)
	// max_pixels bounds each image file's width × height (checked from the
	// header at open, before decoding); absent: BOHOST_MAX_PIXELS, else
	// imgbuf.DefaultMaxPixels. Synthetic scenes (at most 4096 × 4096) are
	// rendered, not read, and do not use it.
	maxPx := o.Int("max_pixels", 0)
	if o.Has("max_pixels") && maxPx <= 0 {
		return lua.Raisef(L, errs.BadArg, op, "option 'max_pixels' must be a positive number of pixels, got %d", maxPx)
	}
	// downscale reduces every image file by an integer factor (its ground
	// truth with it); absent or 1: none.
	down := o.Int("downscale", 0)
	if o.Has("downscale") && (down < 1 || down > dataset.MaxDownscale) {
		return lua.Raisef(L, errs.BadArg, op, "option 'downscale' must be an integer factor in [1, %d], got %d", dataset.MaxDownscale, down)
	}
	if o.Has("downscale") && !o.Has("dir") && !o.Has("labels") {
		return lua.Raisef(L, errs.BadArg, op, "option 'downscale' is for image files (dir = or labels =), not for the synthetic scenes (set synthetic = {width =, height =})")
	}
	var ds *dataset.Dataset
	var err error
	if n := btoi(o.Has("dir")) + btoi(o.Has("labels")) + btoi(o.Has("synthetic")); n > 1 {
		return lua.Raisef(L, errs.BadArg, op, "give one of dir, labels and synthetic")
	}
	if !o.Has("labels") {
		for _, k := range []string{"images", "holdout_file", "holdout_fraction", "holdout_seed"} {
			if o.Has(k) {
				return lua.Raisef(L, errs.BadArg, op, "option '%s' is for a label file: airline.dataset{labels = \"ground_truth.json\", %s = ...}", k, k)
			}
		}
	}
	switch {
	case o.Has("labels"):
		// The welding study's label file: images = the directory its image
		// paths are resolved against; the held-out images (split "test")
		// from holdout_file, or holdout_fraction (0.3) by holdout_seed.
		lo := dataset.LabelOptions{Options: dataset.Options{Split: split, CacheImages: cache, MaxPixels: int64(maxPx), Downscale: down},
			Images: o.String("images", ""), HoldoutFile: o.String("holdout_file", ""),
			HoldoutFraction: o.Number("holdout_fraction", 0), HoldoutSeed: uint64(o.Int("holdout_seed", 0))}
		if o.Has("holdout_fraction") && !(lo.HoldoutFraction > 0 && lo.HoldoutFraction < 1) {
			return lua.Raisef(L, errs.BadArg, op, "option 'holdout_fraction' must be in (0, 1), got %g", lo.HoldoutFraction)
		}
		if o.Has("holdout_seed") && o.Int("holdout_seed", 0) < 0 {
			return lua.Raisef(L, errs.BadArg, op, "option 'holdout_seed' must be >= 0, got %d", o.Int("holdout_seed", 0))
		}
		ds, err = dataset.OpenLabels(o.String("labels", ""), lo)
	case o.Has("dir"):
		ds, err = dataset.Open(o.String("dir", ""), dataset.Options{Split: split, CacheImages: cache, MaxPixels: int64(maxPx), Downscale: down})
	default:
		so := dataset.SynthOptions{Split: split, CacheImages: cache}
		if t := o.Table("synthetic"); t != nil {
			so2 := lua.TableOpts(L, t, op, "synthetic", "n", "width", "height", "seed", "scene")
			so.N, so.Width, so.Height, so.Seed = so2.Int("n", 0), so2.Int("width", 0), so2.Int("height", 0), uint64(so2.Int("seed", 0))
			so.Scene = so2.String("scene", "") // "" or "v1": the v1 scenes; "weld": dataset's weld scenes
		}
		ds, err = dataset.Synthetic(so)
	}
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(lua.NewObject(L, datasetType, ds))
	return 1
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pushItem(L *glua.LState, dsv glua.LValue, ds *dataset.Dataset, i int, op string) glua.LValue {
	if i < 1 || i > ds.Len() {
		lua.Raisef(L, errs.BadArg, op, "index %d out of range [1, %d]", i, ds.Len())
	}
	it := ds.Item(i - 1)
	t := L.NewTable()
	L.SetField(t, "index", glua.LNumber(i))
	L.SetField(t, "id", glua.LString(it.ID))
	L.SetField(t, "path", glua.LString(it.Path))
	L.SetField(t, "width", glua.LNumber(it.Width))
	L.SetField(t, "height", glua.LNumber(it.Height))
	L.SetField(t, "lines", pushSegments(L, it.Lines))
	L.SetField(t, "dataset", dsv)
	return t
}

func pushSegments(L *glua.LState, segs []imgbuf.Segment) *glua.LTable {
	t := L.CreateTable(len(segs), 0)
	for i, s := range segs {
		t.RawSetInt(i+1, lua.Floats(L, []float64{s.X1, s.Y1, s.X2, s.Y2}))
	}
	return t
}

func pushSpace(L *glua.LState, ps []airline.Param) *glua.LTable {
	t := L.CreateTable(len(ps), 0)
	for i, p := range ps {
		r := L.NewTable()
		L.SetField(r, "name", glua.LString(p.Name))
		L.SetField(r, "lo", glua.LNumber(p.Lo))
		L.SetField(r, "hi", glua.LNumber(p.Hi))
		L.SetField(r, "default", glua.LNumber(p.Default))
		L.SetField(r, "scale", glua.LString(p.Scale))
		L.SetField(r, "integer", glua.LBool(p.Integer))
		L.SetField(r, "doc", glua.LString(p.Doc))
		t.RawSetInt(i+1, r)
	}
	return t
}

var evaluatorOptions = []string{"space", "edge", "edge_model", "roi", "roi_model", "fusion", "seed", "device",
	"min_length", "blur_sigma", "t", "k", "max_region_px", "seed_stride", "fix_endpoints", "dense_edges", "metric", "r"}

// EvaluatorOptions reads airline.evaluator's options table into
// airline.Options plus the model paths and device.
func EvaluatorOptions(L *glua.LState, op string, t *glua.LTable) (opts airline.Options, edgeModel, roiModel, device string) {
	o := lua.TableOpts(L, t, op, "options", evaluatorOptions...)
	opts.Space = o.Enum("space", "airline8", "airline8", "classical")
	opts.Edge = o.Enum("edge", "classical", "classical", "learned")
	edgeModel = o.String("edge_model", "")
	if edgeModel != "" {
		opts.Edge = "learned"
	}
	opts.ROI = o.Enum("roi", "image", "image", "boxes", "gt", "func")
	roiModel = o.String("roi_model", "")
	if roiModel != "" {
		opts.ROI = "func"
	}
	opts.Fusion = o.Enum("fusion", "lines", "lines", "seam", "union")
	opts.Seed = uint64(o.Int("seed", 0))
	device = o.Enum("device", "cpu", "cpu", "cuda")
	opts.MinLength = o.Number("min_length", 0)
	opts.BlurSigma = o.Number("blur_sigma", 0)
	opts.T = o.Int("t", 0)
	opts.K = o.Int("k", 0)
	opts.MaxRegionPx = o.Int("max_region_px", 0)
	opts.SeedStride = o.Int("seed_stride", 0)
	opts.FixEndpoints = o.Bool("fix_endpoints", false)
	opts.DenseEdges = o.Bool("dense_edges", false)
	// metric: the record's f (the objective); r: its tolerance in pixels of
	// the image as stored (absent: scaled with the image).
	opts.Metric = o.Enum("metric", airline.MetricF, airline.MetricF, airline.MetricSoftLP)
	opts.MetricR = o.Number("r", 0)
	if r := opts.MetricR; o.Has("r") && !(r > 0 && r <= math.MaxFloat64) {
		lua.Raisef(L, errs.BadArg, op, "option 'r' must be a finite radius > 0 in pixels (leave it out for the default, scaled with the image), got %g", r)
	}
	if opts.Edge == "learned" && edgeModel == "" {
		lua.Raise(L, op, errs.New(errs.BadArg, op, "edge = \"learned\" needs edge_model = \"path/to/dexined.onnx\"").WithHint("DexiNed weights are not shipped: export your model to ONNX and give its path"))
	}
	if opts.ROI == "func" && roiModel == "" {
		lua.Raisef(L, errs.BadArg, op, "roi = \"func\" needs roi_model = \"path/to/yolo.onnx\"")
	}
	return
}

func evaluatorNew(L *glua.LState, rt *lua.Runtime) int {
	const op = "airline.evaluator"
	lua.CheckOpts(L, 1, op, evaluatorOptions...)
	t, _ := L.Get(1).(*glua.LTable)
	if t == nil {
		t = L.NewTable()
	}
	opts, edgeModel, roiModel, device := EvaluatorOptions(L, op, t)
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if edgeModel != "" {
		m, err := cv.LoadEdgeModel(edgeModel, nil)
		if err != nil {
			return lua.Raise(L, op, err)
		}
		closers = append(closers, func() { m.Close() })
		opts.EdgeFunc = m.Edges
	}
	if roiModel != "" {
		y, err := cv.LoadYOLO(roiModel, nil)
		if err != nil {
			closeAll()
			return lua.Raise(L, op, err)
		}
		closers = append(closers, func() { y.Close() })
		opts.ROIFunc = y.Boxes
	}
	if device == "cuda" {
		if c, err := gpu.Default(); err != nil {
			rt.Warn("airline.cuda", "airline.evaluator: device = \"cuda\": %v; using the CPU path (results are identical)", err)
		} else {
			opts.Stages = c
			opts.OnWarning = func(m string) { rt.Warn("airline.cuda.fallback", "%s", m) }
		}
	}
	ev, err := airline.New(opts)
	if err != nil {
		closeAll()
		return lua.Raise(L, op, err)
	}
	e := &evaluator{ev: ev}
	e.handle = rt.Handles.Register("airline.Evaluator", closeAll)
	L.Push(lua.NewObject(L, evaluatorType, e))
	return 1
}

func checkEvaluator(L *glua.LState, op string) *evaluator {
	e := lua.CheckObject[*evaluator](L, 1, op, evaluatorType)
	if e.freed {
		lua.Raisef(L, errs.BadState, op, "the evaluator was freed")
	}
	return e
}

// paramX reads x: nil (defaults), an array in space order, or a table by name.
func paramX(L *glua.LState, op string, n int, space []airline.Param) []float64 {
	switch v := L.Get(n).(type) {
	case *glua.LNilType:
		return nil
	case *glua.LTable:
		if v.Len() > 0 {
			xs, err := lua.ToFloats(v, "x")
			if err != nil {
				lua.Raise(L, op, err)
			}
			return xs
		}
		names := make([]string, len(space))
		x := make([]float64, len(space))
		for i, p := range space {
			names[i] = p.Name
			x[i] = p.Default
		}
		if err := lua.CheckKeys(v, op+": x", names); err != nil {
			lua.Raise(L, op, err)
		}
		for i, p := range space {
			if f, ok := v.RawGetString(p.Name).(glua.LNumber); ok {
				x[i] = float64(f)
			} else if v.RawGetString(p.Name) != glua.LNil {
				lua.Raisef(L, errs.BadArg, op, "x.%s must be a number, got %s", p.Name, lua.TypeName(v.RawGetString(p.Name)))
			}
		}
		return x
	}
	lua.ArgError(L, op, n, "x must be nil, an array of numbers or a table by parameter name, got %s", lua.TypeName(L.Get(n)))
	return nil
}

// imageArg reads an image: a data set item (with its ground truth) or a path.
func imageArg(L *glua.LState, op string, n int) (*imgbuf.Gray, []imgbuf.Segment, bool) {
	switch v := L.Get(n).(type) {
	case glua.LString:
		img, err := dataset.Decode(string(v))
		if err != nil {
			lua.Raise(L, op, err)
		}
		return img, nil, false
	case *glua.LTable:
		if ds, i, ok := itemRef(L, op, v); ok {
			img, err := ds.Image(i)
			if err != nil {
				lua.Raise(L, op, err)
			}
			return img, ds.Item(i).Lines, true
		}
		if p, ok := v.RawGetString("path").(glua.LString); ok && p != "" {
			img, err := dataset.Decode(string(p))
			if err != nil {
				lua.Raise(L, op, err)
			}
			return img, nil, false
		}
	}
	lua.ArgError(L, op, n, "a data set item (ds[i]) or an image path expected, got %s", lua.TypeName(L.Get(n)))
	return nil, nil, false
}

func evalEval(L *glua.LState) int {
	const op = "Evaluator:eval"
	e := checkEvaluator(L, op)
	x := paramX(L, op, 2, e.ev.Space())
	if _, isPath := L.Get(3).(glua.LString); isPath {
		return lua.ArgError(L, op, 3, "eval needs a data set item with ground truth (ds[i]); use ev:detect for a bare image")
	}
	img, gt, isItem := imageArg(L, op, 3)
	if !isItem {
		return lua.ArgError(L, op, 3, "eval needs a data set item with ground truth (ds[i]); use ev:detect for a bare image")
	}
	if pt, ok := L.Get(4).(*glua.LTable); ok {
		img = envfeat.Perturb(img, perturbationArg(L, op, pt))
	}
	rec, err := e.ev.Eval(luaCtx(L), x, img, gt)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(pushRecord(L, rec))
	return 1
}

// pushRecord pushes the score record of objective.Record (the trial
// record's fields: f, metric, f_r, precision, recall, r, soft_lp, ...).
func pushRecord(L *glua.LState, rec airline.Record) glua.LValue {
	return lua.FromGo(L, objective.Record(rec))
}

// perturbationArg reads a perturbation table {gain=, contrast=, noise=, blur=, seed=}.
func perturbationArg(L *glua.LState, op string, pt *glua.LTable) envfeat.Perturbation {
	po := lua.TableOpts(L, pt, op, "perturbation", "gain", "contrast", "noise", "blur", "seed")
	p := envfeat.Perturbation{Gain: po.Number("gain", 1), Contrast: po.Number("contrast", 1), NoiseSigma: po.Number("noise", 0), BlurSigma: po.Number("blur", 0), Seed: uint64(po.Int("seed", 0))}
	if err := p.Validate(); err != nil {
		lua.Raise(L, op, err)
	}
	return p
}

// itemRef resolves a data set item table (ds[i]) to its data set and 0-based
// index; ok is false when v is not one. An item whose index lies outside its
// data set (a table made by hand) raises a bad_arg error naming op.
func itemRef(L *glua.LState, op string, v glua.LValue) (ds *dataset.Dataset, i int, ok bool) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, 0, false
	}
	dsv, ok := t.RawGetString("dataset").(*glua.LUserData)
	idx, ok2 := t.RawGetString("index").(glua.LNumber)
	if !ok || !ok2 {
		return nil, 0, false
	}
	if ds, ok = dsv.Value.(*dataset.Dataset); !ok {
		return nil, 0, false
	}
	if i = int(idx) - 1; i < 0 || i >= ds.Len() {
		lua.Raisef(L, errs.BadArg, op, "item index %d out of range [1, %d]", i+1, ds.Len())
	}
	return ds, i, true
}

// evalMany is ev:eval_many(x, items [, opts]): the items are resolved here,
// the parallel loop is airline.Evaluator.EvalMany.
func evalMany(L *glua.LState) int {
	const op = "Evaluator:eval_many"
	e := checkEvaluator(L, op)
	x := paramX(L, op, 2, e.ev.Space())
	type ref struct {
		ds *dataset.Dataset
		i  int
	}
	var refs []ref
	switch v := L.Get(3).(type) {
	case *glua.LUserData:
		ds, ok := v.Value.(*dataset.Dataset)
		if !ok {
			return lua.ArgError(L, op, 3, "items must be a data set or an array of data set items (ds[i]), got %s", lua.TypeName(v))
		}
		for i := 0; i < ds.Len(); i++ {
			refs = append(refs, ref{ds, i})
		}
	case *glua.LTable:
		n := v.Len()
		if n == 0 && v.RawGetString("dataset") != glua.LNil {
			return lua.ArgError(L, op, 3, "items must be an array of data set items: wrap a single item as {item}")
		}
		for k := 1; k <= n; k++ {
			ds, i, ok := itemRef(L, op, v.RawGetInt(k))
			if !ok {
				return lua.ArgError(L, op, 3, "items[%d] must be a data set item with ground truth (ds[i]), got %s", k, lua.TypeName(v.RawGetInt(k)))
			}
			refs = append(refs, ref{ds, i})
		}
	default:
		return lua.ArgError(L, op, 3, "items must be a data set or an array of data set items (ds[i]), got %s", lua.TypeName(L.Get(3)))
	}
	workers := 0
	var pert *envfeat.Perturbation
	if L.GetTop() >= 4 && L.Get(4) != glua.LNil {
		o := lua.CheckOpts(L, 4, op, "workers", "perturbation")
		workers = o.Int("workers", 0)
		if workers < 0 {
			return lua.Raisef(L, errs.BadArg, op, "workers must be >= 0 (0 = all cores), got %d", workers)
		}
		if pt := o.Table("perturbation"); pt != nil {
			p := perturbationArg(L, op, pt)
			pert = &p
		}
	}
	recs, err := e.ev.EvalMany(luaCtx(L), x, len(refs), func(k int) (*imgbuf.Gray, []imgbuf.Segment, error) {
		r := refs[k]
		img, err := r.ds.Image(r.i)
		if err != nil {
			return nil, nil, err
		}
		if pert != nil {
			img = envfeat.Perturb(img, *pert)
		}
		return img, r.ds.Item(r.i).Lines, nil
	}, workers)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	t := L.CreateTable(len(recs), 0)
	for k, rec := range recs {
		t.RawSetInt(k+1, pushRecord(L, rec))
	}
	L.Push(t)
	return 1
}

func evalDetect(L *glua.LState) int {
	const op = "Evaluator:detect"
	e := checkEvaluator(L, op)
	x := paramX(L, op, 2, e.ev.Space())
	img, _, _ := imageArg(L, op, 3)
	segs, err := e.ev.Detect(luaCtx(L), x, img)
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(pushSegments(L, segs))
	return 1
}

func baseline(L *glua.LState) int {
	const op = "airline.baseline"
	name := strings.ToLower(L.CheckString(1))
	img, _, _ := imageArg(L, op, 2)
	var segs []imgbuf.Segment
	var err error
	switch name {
	case "lsd":
		segs, err = cv.LSD(img)
	case "fld":
		segs, err = cv.FLD(img)
	case "hough":
		segs, err = cv.Hough(img, cv.HoughParams{})
	default:
		msg := fmt.Sprintf("unknown baseline %q: use \"lsd\", \"fld\" or \"hough\"", name)
		if s := lua.Suggest(name, []string{"lsd", "fld", "hough"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return lua.Raisef(L, errs.BadArg, op, "%s", msg)
	}
	if err != nil {
		return lua.Raise(L, op, err)
	}
	L.Push(pushSegments(L, segs))
	return 1
}

func scoreSegments(L *glua.LState) int {
	const op = "airline.score"
	m, err := lua.ToMatrix(L.Get(1), "segments")
	if err != nil {
		return lua.Raise(L, op, err)
	}
	segs := make([]imgbuf.Segment, 0, len(m))
	for i, r := range m {
		if len(r) != 4 {
			return lua.Raisef(L, errs.BadArg, op, "segments[%d] must be {x1, y1, x2, y2}", i+1)
		}
		segs = append(segs, imgbuf.Segment{X1: r[0], Y1: r[1], X2: r[2], Y2: r[3]})
	}
	ds, i, ok := itemRef(L, op, L.Get(2))
	if !ok {
		return lua.ArgError(L, op, 2, "a data set item (ds[i]) expected, got %s", lua.TypeName(L.Get(2)))
	}
	s, soft := scoreFn(segs, ds.Item(i))
	L.Push(lua.FromGo(L, map[string]any{"f": s.F, "precision": s.Precision, "recall": s.Recall, "r": s.R, "n_gt": s.NGT,
		"soft_lp": soft.LP, "soft_precision": soft.Precision, "soft_f": soft.F, "soft_r": soft.R}))
	return 1
}
