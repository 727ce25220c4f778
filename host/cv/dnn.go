package cv

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sort"
	"sync"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/internal/num"
)

// EdgeOptions configures an EdgeModel. Zero fields take the documented defaults,
// which match AirLine's DexiNed path (notes/airline.md §1, §8).
type EdgeOptions struct {
	// Channels is the model's input channel count: 3 (grey replicated to BGR)
	// or 1 (grey). 0 reads it from the model's declared input shape, and uses 3
	// when the shape does not say.
	Channels int
	// Scale multiplies (pixel − Mean) to form the input. 0 means 1/255 (AirLine's
	// run_airline); upstream's test scripts effectively used 1/65025.
	Scale float64
	// Mean is subtracted from every pixel (0..255 units) before scaling. Default 0
	// (AirLine does not subtract the BGR mean, the original DexiNed does).
	Mean float64
	// Multiple floors the input width and height to a multiple of it (DexiNed
	// needs 16); the logits are resized back to the image size. 0 means 16; 1
	// disables the resize. A model with a fixed declared input size is fed
	// exactly that size instead.
	Multiple int
	// Output names the output tensor to read. "" means the model's last declared
	// graph output, which is DexiNed's fused block_cat map.
	Output string
}

func (o *EdgeOptions) setDefaults() {
	if o.Scale == 0 {
		o.Scale = 1.0 / 255
	}
	if o.Multiple == 0 {
		o.Multiple = 16
	}
}

// Validate reports the first field out of range, naming it.
func (o EdgeOptions) Validate() error {
	const op = "cv.load_edge_model"
	switch {
	case o.Channels != 0 && o.Channels != 1 && o.Channels != 3:
		return errs.New(errs.BadArg, op, "Channels must be 0 (from the model), 1 or 3, got %d", o.Channels)
	case !(o.Scale >= 0 && o.Scale <= 1e6) || math.IsInf(o.Scale, 0):
		return errs.New(errs.BadArg, op, "Scale must be in (0, 1e6] (0 = 1/255), got %g", o.Scale)
	case !(o.Mean >= -1e6 && o.Mean <= 1e6):
		return errs.New(errs.BadArg, op, "Mean must be in [-1e6, 1e6], got %g", o.Mean)
	case o.Multiple < 0 || o.Multiple > 1024:
		return errs.New(errs.BadArg, op, "Multiple must be in [1, 1024] (0 = 16), got %d", o.Multiple)
	}
	return nil
}

// EdgeModel is a learned edge detector (DexiNed-style ONNX) run by OpenCV's DNN
// module on the CPU. Its methods are safe for concurrent use (calls are
// serialised: cv::dnn::Net is not re-entrant). Close releases the network.
type EdgeModel struct {
	mu    sync.Mutex
	net   *net
	path  string
	opts  EdgeOptions
	fixed [2]int // declared input W, H when both are fixed, else 0
}

// modelPreflight checks that path exists and is readable protobuf holding an
// ONNX graph, before OpenCV's importer (which aborts the process on some bad
// input when not guarded) ever sees it.
func modelPreflight(op, path string) (onnxInfo, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return onnxInfo{}, errs.New(errs.IO, op, "cannot read model %s: no such file", quote(path)).
			WithHint("give the path of an ONNX file")
	case err != nil:
		return onnxInfo{}, errs.New(errs.IO, op, "cannot read model %s: %v", quote(path), err)
	case fi.IsDir():
		return onnxInfo{}, errs.New(errs.IO, op, "cannot read model %s: is a directory", quote(path))
	}
	info, err := readONNXInfo(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return info, errs.New(errs.IO, op, "cannot read model %s: %v", quote(path), err)
		}
		return info, errs.New(errs.BadArg, op, "model %s is not a valid ONNX file: %v", quote(path), err)
	}
	if len(info.Inputs) == 0 {
		return info, errs.New(errs.BadArg, op, "model %s declares no graph input", quote(path))
	}
	return info, nil
}

// LoadEdgeModel loads an ONNX edge model. The file is checked in Go first and
// then read by cv::dnn::readNetFromONNX inside the shim's try/catch, so a
// malformed model is an error (kind io for an unreadable file, bad_arg for a
// bad model), never a process abort. opts may be nil for the defaults.
func LoadEdgeModel(path string, opts *EdgeOptions) (*EdgeModel, error) {
	const op = "cv.load_edge_model"
	var o EdgeOptions
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.setDefaults()
	info, err := modelPreflight(op, path)
	if err != nil {
		return nil, err
	}
	in := info.Inputs[0]
	if len(in.Dims) != 0 && len(in.Dims) != 4 {
		return nil, errs.New(errs.BadArg, op, "model %s input %q has %d dimensions; an edge model takes NCHW (4)", quote(path), in.Name, len(in.Dims))
	}
	m := &EdgeModel{path: path, opts: o}
	if len(in.Dims) == 4 {
		if c := in.Dims[1]; c > 0 {
			if c != 1 && c != 3 {
				return nil, errs.New(errs.BadArg, op, "model %s input %q has %d channels; an edge model takes 1 or 3", quote(path), in.Name, c)
			}
			if o.Channels != 0 && int64(o.Channels) != c {
				return nil, errs.New(errs.BadArg, op, "Channels is %d but model %s declares %d input channels", o.Channels, quote(path), c)
			}
			m.opts.Channels = int(c)
		}
		if in.Dims[2] > 0 && in.Dims[3] > 0 {
			m.fixed = [2]int{int(in.Dims[3]), int(in.Dims[2])}
		}
	}
	if m.opts.Channels == 0 {
		m.opts.Channels = 3
	}
	if m.opts.Output == "" && len(info.Outputs) > 0 {
		m.opts.Output = info.Outputs[len(info.Outputs)-1]
	}
	if m.net, err = loadNet(op, path); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(m, (*EdgeModel).Close) // safety net only: callers Close
	return m, nil
}

// Options returns the options in effect (defaults and model-derived values filled in).
func (m *EdgeModel) Options() EdgeOptions { return m.opts }

// Close releases the network; later calls to Edges fail with bad_state.
// Close is idempotent. A model that becomes unreachable unclosed is closed by
// a finalizer, but only eventually: native memory is not seen by the Go GC.
func (m *EdgeModel) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.net.close()
	return nil
}

// Edges returns the model's per-pixel edge logits for img, at img's size
// (1×1×H×W output, resized back bilinearly when the input had to be resized).
// Its signature matches airline.Options.EdgeFunc.
func (m *EdgeModel) Edges(img *imgbuf.Gray) (*imgbuf.Float, error) {
	const op = "cv.edges"
	if err := checkGray(op, img); err != nil {
		return nil, err
	}
	w, h := m.fixed[0], m.fixed[1]
	if w == 0 {
		k := m.opts.Multiple
		w, h = img.W/k*k, img.H/k*k
		if w == 0 || h == 0 {
			return nil, errs.New(errs.BadArg, op, "image %dx%d is smaller than the model's size multiple %d", img.W, img.H, k)
		}
	}
	src := img
	if w != img.W || h != img.H {
		var err error
		if src, err = Resize(img, w, h); err != nil {
			return nil, err
		}
	}
	c := m.opts.Channels
	blob := make([]float32, c*w*h)
	scale, mean := float32(m.opts.Scale), float32(m.opts.Mean)
	for i, v := range src.Pix {
		x := (float32(v) - mean) * scale
		for ch := 0; ch < c; ch++ {
			blob[ch*w*h+i] = x
		}
	}
	m.mu.Lock()
	dims, data, err := m.net.forward(op, blob, [4]int{1, c, h, w}, m.opts.Output)
	m.mu.Unlock()
	runtime.KeepAlive(m) // the finalizer must not free the net during forward
	if err != nil {
		return nil, err
	}
	if len(dims) < 2 {
		return nil, errs.New(errs.BadArg, op, "edge model output has shape %v; want [1, 1, H, W]", dims)
	}
	oh, ow := dims[len(dims)-2], dims[len(dims)-1]
	if oh*ow != len(data) || oh <= 0 || ow <= 0 {
		return nil, errs.New(errs.BadArg, op, "edge model output has shape %v; want one map [1, 1, H, W]", dims).
			WithHint("set EdgeOptions.Output to the fused single-channel output")
	}
	out := &imgbuf.Float{W: ow, H: oh, Pix: data}
	if ow != img.W || oh != img.H {
		return ResizeFloat(out, img.W, img.H)
	}
	return out, nil
}

// YOLOOptions configures a YOLO ROI detector. Zero fields take the defaults.
type YOLOOptions struct {
	// Size is the square input side used when the model's input size is not
	// fixed in the file. Default 640.
	Size int
	// Conf is the minimum confidence kept, in (0, 1]. Default 0.25.
	Conf float64
	// IoU is the non-maximum-suppression overlap threshold, in (0, 1]: a box
	// overlapping a higher-scoring box of the same class by more is dropped.
	// Default 0.45.
	IoU float64
	// Format is the output layout: "auto" (default), "v5" ([1, N, 5+C]: cx, cy,
	// w, h, objectness, C class scores) or "v8" ([1, 4+C, N]: cx, cy, w, h, C
	// class scores). "auto" takes [1, A, B] as v8 when A < B, else v5.
	Format string
	// Classes keeps only these class indices (0-based); nil keeps all.
	Classes []int
	// MaxDetections caps the boxes returned, highest scores first. Default 300.
	MaxDetections int
}

func (o *YOLOOptions) setDefaults() {
	if o.Size == 0 {
		o.Size = 640
	}
	if o.Conf == 0 {
		o.Conf = 0.25
	}
	if o.IoU == 0 {
		o.IoU = 0.45
	}
	if o.Format == "" {
		o.Format = "auto"
	}
	if o.MaxDetections == 0 {
		o.MaxDetections = 300
	}
}

// Validate reports the first field out of range, naming it.
func (o YOLOOptions) Validate() error {
	const op = "cv.load_yolo"
	switch {
	case o.Size < 0 || o.Size > 8192:
		return errs.New(errs.BadArg, op, "Size must be in [1, 8192] (0 = 640), got %d", o.Size)
	case !(o.Conf >= 0 && o.Conf <= 1):
		return errs.New(errs.BadArg, op, "Conf must be in (0, 1] (0 = 0.25), got %g", o.Conf)
	case !(o.IoU >= 0 && o.IoU <= 1):
		return errs.New(errs.BadArg, op, "IoU must be in (0, 1] (0 = 0.45), got %g", o.IoU)
	case o.Format != "" && o.Format != "auto" && o.Format != "v5" && o.Format != "v8":
		return errs.New(errs.BadArg, op, "Format must be \"auto\", \"v5\" or \"v8\", got %q", o.Format)
	case o.MaxDetections < 0:
		return errs.New(errs.BadArg, op, "MaxDetections must be >= 1 (0 = 300), got %d", o.MaxDetections)
	}
	for i, c := range o.Classes {
		if c < 0 {
			return errs.New(errs.BadArg, op, "Classes[%d] must be >= 0, got %d", i, c)
		}
	}
	return nil
}

// Detection is one YOLO box in image pixels.
type Detection struct {
	Box   imgbuf.Box
	Class int
	Score float64
}

// YOLO is an ONNX YOLOv5/YOLOv8 detector used to propose regions of interest.
// Input: the grey image replicated to 3 channels, letterboxed (aspect kept,
// centred, padded with 114) to the model's input size, scaled by 1/255.
// Output: see YOLOOptions.Format. Methods are safe for concurrent use.
type YOLO struct {
	mu      sync.Mutex
	net     *net
	opts    YOLOOptions
	w, h, c int // model input size and channels
	output  string
	keep    map[int]bool
}

// LoadYOLO loads a YOLO ONNX model under the same guard as LoadEdgeModel.
// opts may be nil for the defaults.
func LoadYOLO(path string, opts *YOLOOptions) (*YOLO, error) {
	const op = "cv.load_yolo"
	var o YOLOOptions
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.setDefaults()
	info, err := modelPreflight(op, path)
	if err != nil {
		return nil, err
	}
	y := &YOLO{opts: o, w: o.Size, h: o.Size, c: 3}
	in := info.Inputs[0]
	if len(in.Dims) == 4 {
		if in.Dims[1] > 0 {
			if in.Dims[1] != 1 && in.Dims[1] != 3 {
				return nil, errs.New(errs.BadArg, op, "model %s input %q has %d channels; want 1 or 3", quote(path), in.Name, in.Dims[1])
			}
			y.c = int(in.Dims[1])
		}
		if in.Dims[2] > 0 && in.Dims[3] > 0 {
			y.w, y.h = int(in.Dims[3]), int(in.Dims[2])
		}
	} else if len(in.Dims) != 0 {
		return nil, errs.New(errs.BadArg, op, "model %s input %q has %d dimensions; YOLO takes NCHW (4)", quote(path), in.Name, len(in.Dims))
	}
	if len(o.Classes) > 0 {
		y.keep = map[int]bool{}
		for _, c := range o.Classes {
			y.keep[c] = true
		}
	}
	if len(info.Outputs) > 0 {
		y.output = info.Outputs[0]
	}
	if y.net, err = loadNet(op, path); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(y, (*YOLO).Close) // safety net only: callers Close
	return y, nil
}

// Close releases the network. Close is idempotent.
func (y *YOLO) Close() error {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.net.close()
	return nil
}

// Boxes returns the detected boxes (highest score first). Its signature
// matches airline.Options.ROIFunc.
func (y *YOLO) Boxes(img *imgbuf.Gray) ([]imgbuf.Box, error) {
	d, err := y.Detect(img)
	if err != nil {
		return nil, err
	}
	out := make([]imgbuf.Box, len(d))
	for i := range d {
		out[i] = d[i].Box
	}
	return out, nil
}

// Detect runs the model on img and returns its detections after confidence
// filtering and per-class non-maximum suppression, highest score first.
func (y *YOLO) Detect(img *imgbuf.Gray) ([]Detection, error) {
	const op = "cv.yolo"
	if err := checkGray(op, img); err != nil {
		return nil, err
	}
	r := math.Min(float64(y.w)/float64(img.W), float64(y.h)/float64(img.H))
	nw := max(1, min(y.w, int(math.Round(float64(img.W)*r))))
	nh := max(1, min(y.h, int(math.Round(float64(img.H)*r))))
	src := img
	if nw != img.W || nh != img.H {
		var err error
		if src, err = Resize(img, nw, nh); err != nil {
			return nil, err
		}
	}
	left, top := (y.w-nw)/2, (y.h-nh)/2
	plane := y.w * y.h
	blob := make([]float32, y.c*plane)
	const pad = float32(114) / 255
	for i := range blob[:plane] {
		blob[i] = pad
	}
	for yy := 0; yy < nh; yy++ {
		row := blob[(yy+top)*y.w+left:]
		for xx, v := range src.Pix[yy*nw : (yy+1)*nw] {
			row[xx] = float32(v) / 255
		}
	}
	for ch := 1; ch < y.c; ch++ {
		copy(blob[ch*plane:(ch+1)*plane], blob[:plane])
	}
	y.mu.Lock()
	dims, data, err := y.net.forward(op, blob, [4]int{1, y.c, y.h, y.w}, y.output)
	y.mu.Unlock()
	runtime.KeepAlive(y)
	if err != nil {
		return nil, err
	}
	cands, err := decodeYOLO(dims, data, y.opts.Format, y.opts.Conf, y.keep)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	// Undo the letterbox: model pixels → image pixels.
	for i := range cands {
		b := &cands[i].b
		b[0] = (b[0] - float64(left)) / r
		b[1] = (b[1] - float64(top)) / r
		b[2] = (b[2] - float64(left)) / r
		b[3] = (b[3] - float64(top)) / r
	}
	cands = nms(cands, y.opts.IoU, y.opts.MaxDetections)
	out := make([]Detection, 0, len(cands))
	for _, c := range cands {
		box := imgbuf.Box{
			X0: clamp(int(math.Floor(c.b[0])), 0, img.W), Y0: clamp(int(math.Floor(c.b[1])), 0, img.H),
			X1: clamp(int(math.Ceil(c.b[2])), 0, img.W), Y1: clamp(int(math.Ceil(c.b[3])), 0, img.H),
		}
		if box.X1 > box.X0 && box.Y1 > box.Y0 {
			out = append(out, Detection{Box: box, Class: c.class, Score: c.score})
		}
	}
	return out, nil
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// cand is a decoded box (x0, y0, x1, y1) with its class and score.
type cand struct {
	b     [4]float64
	class int
	score float64
}

// yoloErr is a decoding error (wrapped as bad_arg by the caller).
type yoloErr string

func (e yoloErr) Error() string { return string(e) }

// decodeYOLO turns a raw output tensor into candidates above conf. See
// YOLOOptions.Format for the layouts.
func decodeYOLO(dims []int, data []float32, format string, conf float64, keep map[int]bool) ([]cand, error) {
	if len(dims) == 3 && dims[0] == 1 {
		dims = dims[1:]
	}
	if len(dims) != 2 || dims[0]*dims[1] != len(data) || dims[0] <= 0 || dims[1] <= 0 {
		return nil, yoloErr("YOLO output must have shape [1, N, 5+C] (v5) or [1, 4+C, N] (v8), got " + dimsString(dims))
	}
	a, b := dims[0], dims[1]
	if format == "auto" {
		format = "v5"
		if a < b {
			format = "v8"
		}
	}
	var n, feat int
	at := func(i, j int) float32 { return data[i*b+j] } // anchor i, feature j (v5)
	if format == "v8" {
		n, feat = b, a
		at = func(i, j int) float32 { return data[j*b+i] }
		if feat < 5 {
			return nil, yoloErr("YOLOv8 output needs 4+C >= 5 rows, got shape " + dimsString(dims))
		}
	} else {
		n, feat = a, b
		if feat < 6 {
			return nil, yoloErr("YOLOv5 output needs 5+C >= 6 columns, got shape " + dimsString(dims))
		}
	}
	first := 4 // first class column
	if format == "v5" {
		first = 5
	}
	var out []cand
	for i := 0; i < n; i++ {
		best, cls := float32(-1), -1
		for j := first; j < feat; j++ {
			if keep != nil && !keep[j-first] {
				continue
			}
			if v := at(i, j); v > best {
				best, cls = v, j-first
			}
		}
		if cls < 0 {
			continue
		}
		score := float64(best)
		if format == "v5" {
			score *= float64(at(i, 4))
		}
		if !(score >= conf) {
			continue
		}
		cx, cy, w, h := float64(at(i, 0)), float64(at(i, 1)), float64(at(i, 2)), float64(at(i, 3))
		if !num.Finite(cx, cy, w, h) || w <= 0 || h <= 0 {
			continue
		}
		out = append(out, cand{b: [4]float64{cx - w/2, cy - h/2, cx + w/2, cy + h/2}, class: cls, score: score})
	}
	return out, nil
}

func dimsString(d []int) string { return fmt.Sprint(d) }

// nms keeps, per class, boxes that overlap no higher-scoring kept box by more
// than iou; the result is sorted by score (ties: lower index first) and capped.
func nms(c []cand, iou float64, maxN int) []cand {
	sort.SliceStable(c, func(i, j int) bool { return c[i].score > c[j].score })
	var kept []cand
	for _, x := range c {
		ok := true
		for _, k := range kept {
			if k.class == x.class && boxIoU(k.b, x.b) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, x)
			if len(kept) == maxN {
				break
			}
		}
	}
	return kept
}

func boxIoU(a, b [4]float64) float64 {
	iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - inter
	return inter / union
}
