package cv

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

func randomGray(w, h int, seed uint64) *imgbuf.Gray {
	rng := rand.New(rand.NewPCG(seed, 0))
	g := imgbuf.NewGray(w, h)
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	return g
}

// conv3 is the reference: zero-padded 3×3 correlation of img·scale with k, plus bias.
func conv3(img *imgbuf.Gray, k []float32, bias, scale float64) *imgbuf.Float {
	out := imgbuf.NewFloat(img.W, img.H)
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			s := bias
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= img.W || yy >= img.H {
						continue
					}
					s += float64(k[(dy+1)*3+dx+1]) * float64(img.At(xx, yy)) * scale
				}
			}
			out.Pix[y*img.W+x] = float32(s)
		}
	}
	return out
}

func TestEdgeModelConvolution(t *testing.T) {
	k := []float32{1, 0, -1, 2, 0.5, -2, 1, 0, -1}
	p := writeModel(t, "conv1.onnx", convModel(1, 3, k, 0.25, true))
	m, err := LoadEdgeModel(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if o := m.Options(); o.Channels != 1 || o.Multiple != 16 || o.Output != "y" || math.Abs(o.Scale-1.0/255) > 1e-15 {
		t.Fatalf("options in effect %+v: want Channels 1 from the model, Multiple 16, Output y, Scale 1/255", o)
	}
	img := randomGray(48, 32, 1) // multiples of 16: no resize
	got, err := m.Edges(img)
	if err != nil {
		t.Fatal(err)
	}
	want := conv3(img, k, 0.25, 1.0/255)
	if got.W != 48 || got.H != 32 {
		t.Fatalf("output %dx%d, want 48x32", got.W, got.H)
	}
	const tol = 1e-5 // float32 accumulation of 9 terms of magnitude <= 2
	for i := range want.Pix {
		if d := math.Abs(float64(got.Pix[i] - want.Pix[i])); d > tol {
			t.Fatalf("pixel %d: got %g want %g (|diff| %g > %g)", i, got.Pix[i], want.Pix[i], d, tol)
		}
	}
}

func TestEdgeModelThreeChannelsAndResize(t *testing.T) {
	// Channel weights sum to 1+2-1 = 2 at the centre tap only: on a grey image
	// replicated to BGR the output is 2·(v−Mean)·Scale + bias away from the border.
	k := make([]float32, 27)
	k[4], k[9+4], k[18+4] = 1, 2, -1
	p := writeModel(t, "conv3.onnx", convModel(3, 3, k, -1, true))
	m, err := LoadEdgeModel(p, &EdgeOptions{Scale: 0.01, Mean: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Options().Channels != 3 {
		t.Fatalf("Channels %d, want 3 from the model", m.Options().Channels)
	}
	img := rectImage(37, 29, 0, 0, 0, 0, 150, 150) // 37×29 → fed as 32×16, resized back
	got, err := m.Edges(img)
	if err != nil {
		t.Fatal(err)
	}
	if got.W != 37 || got.H != 29 {
		t.Fatalf("output %dx%d, want the image size 37x29", got.W, got.H)
	}
	want := float32(2*(150-100)*0.01 - 1)
	if d := math.Abs(float64(got.At(18, 14) - want)); d > 1e-5 {
		t.Fatalf("centre logit %g, want %g", got.At(18, 14), want)
	}
	if _, err := m.Edges(imgbuf.NewGray(10, 40)); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "multiple") {
		t.Fatalf("image narrower than 16: got %v", err)
	}
	if _, err := LoadEdgeModel(p, &EdgeOptions{Channels: 1}); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), "Channels") {
		t.Fatalf("Channels 1 against a 3-channel model: got %v", err)
	}
}

func TestEdgeModelClosed(t *testing.T) {
	p := writeModel(t, "conv1.onnx", convModel(1, 3, make([]float32, 9), 0, true))
	before := LiveModels()
	m, err := LoadEdgeModel(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if LiveModels() != before+1 {
		t.Fatalf("LiveModels %d after a load, want %d", LiveModels(), before+1)
	}
	m.Close()
	m.Close() // idempotent
	if LiveModels() != before {
		t.Fatalf("LiveModels %d after Close, want %d", LiveModels(), before)
	}
	if _, err := m.Edges(randomGray(16, 16, 2)); !errs.Is(err, errs.BadState) {
		t.Fatalf("Edges after Close: got %v, want bad_state", err)
	}
}

func TestMalformedModelsAreErrors(t *testing.T) {
	good := convModel(1, 3, make([]float32, 9), 0, true)
	cases := []struct {
		name, kind, want string
		data             []byte
	}{
		{"garbage", errs.BadArg, "not a valid ONNX", []byte("this is not a model\x00\xff\xff\xff")},
		{"truncated", errs.BadArg, "not a valid ONNX", good[:len(good)/2]},
		{"empty", errs.BadArg, "not a valid ONNX", nil},
		// Well-formed protobuf that OpenCV 4.6's importer rejects (it needs
		// kernel_shape on Conv): this reaches readNetFromONNX, whose exception
		// the shim must turn into an error instead of SIGABRT.
		{"no_kernel_shape", errs.BadArg, "OpenCV", convModel(1, 3, make([]float32, 9), 0, false)},
		// An op OpenCV does not know.
		{"unknown_op", errs.BadArg, "OpenCV", onnxModel([]onnxNode{{op: "NoSuchOp", in: []string{"x"}, out: []string{"y"}}}, nil, "x", []int64{1, 1, 4, 4}, []string{"y"})},
	}
	for _, tc := range cases {
		p := writeModel(t, tc.name+".onnx", tc.data)
		for _, load := range []func() error{
			func() error { m, err := LoadEdgeModel(p, nil); closeIf(m); return err },
			func() error { y, err := LoadYOLO(p, nil); closeIf(y); return err },
		} {
			err := load()
			if !errs.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: got %v, want %s naming the file and saying %q", tc.name, err, tc.kind, tc.want)
			}
		}
	}
	// The shim's guard on its own, without the Go pre-check: garbage must not abort.
	p := writeModel(t, "raw.onnx", []byte("\x08\x07\x3a\x05junk!"))
	if n, err := loadNet("test", p); err == nil {
		n.close()
		t.Fatal("readNetFromONNX accepted junk")
	}
	if _, err := LoadEdgeModel(p+".missing", nil); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing model: got %v, want io", err)
	}
	if _, err := LoadYOLO(os.TempDir(), nil); !errs.Is(err, errs.IO) {
		t.Fatalf("directory as model: got %v, want io", err)
	}
}

func closeIf(c interface{ Close() error }) {
	switch v := c.(type) {
	case *EdgeModel:
		if v != nil {
			v.Close()
		}
	case *YOLO:
		if v != nil {
			v.Close()
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	p := writeModel(t, "conv1.onnx", convModel(1, 3, make([]float32, 9), 0, true))
	for _, tc := range []struct {
		o     EdgeOptions
		field string
	}{
		{EdgeOptions{Channels: 2}, "Channels"},
		{EdgeOptions{Scale: -1}, "Scale"},
		{EdgeOptions{Mean: math.NaN()}, "Mean"},
		{EdgeOptions{Multiple: -16}, "Multiple"},
	} {
		if _, err := LoadEdgeModel(p, &tc.o); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
	for _, tc := range []struct {
		o     YOLOOptions
		field string
	}{
		{YOLOOptions{Size: -1}, "Size"},
		{YOLOOptions{Conf: 1.5}, "Conf"},
		{YOLOOptions{IoU: -0.1}, "IoU"},
		{YOLOOptions{Format: "v7"}, "Format"},
		{YOLOOptions{Classes: []int{0, -2}}, "Classes[1]"},
		{YOLOOptions{MaxDetections: -1}, "MaxDetections"},
	} {
		if _, err := LoadYOLO(p, &tc.o); !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
}

func TestYOLOModels(t *testing.T) {
	// 16 identical anchors: box centred (16, 12) of size 8×6 in the 32×32 input,
	// class scores 0.9 and 0.1 (v5: objectness 0.5 in front of them).
	for _, tc := range []struct {
		name  string
		bias  []float32
		v5    bool
		score float64
	}{
		{"v8", []float32{16, 12, 8, 6, 0.9, 0.1}, false, 0.9},
		{"v5", []float32{16, 12, 8, 6, 0.5, 0.9, 0.1}, true, 0.45},
	} {
		p := writeModel(t, tc.name+".onnx", yoloModel(tc.bias, tc.v5))
		y, err := LoadYOLO(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// A 64×64 image is letterboxed by r = 0.5 with no padding, so the box is
		// (16−4, 12−3)−(16+4, 12+3) / 0.5 = (24, 18)−(40, 30).
		d, err := y.Detect(randomGray(64, 64, 3))
		y.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := Detection{Box: imgbuf.Box{X0: 24, Y0: 18, X1: 40, Y1: 30}, Class: 0}
		if len(d) != 1 || d[0].Box != want.Box || d[0].Class != 0 || math.Abs(d[0].Score-tc.score) > 1e-6 {
			t.Fatalf("%s: detections %+v, want one %+v with score %g (16 identical anchors merged by NMS)", tc.name, d, want, tc.score)
		}
	}
	// Letterbox with padding: a 64×32 image is scaled by 0.5 to 32×16 and placed
	// at top = 8, so model y 12 is image y (12−8)/0.5 = 8.
	p := writeModel(t, "v8.onnx", yoloModel([]float32{16, 12, 8, 6, 0.9, 0.1}, false))
	y, err := LoadYOLO(p, &YOLOOptions{Classes: []int{1}, Conf: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	boxes, err := y.Boxes(randomGray(64, 32, 4))
	if err != nil {
		t.Fatal(err)
	}
	if want := (imgbuf.Box{X0: 24, Y0: 2, X1: 40, Y1: 14}); len(boxes) != 1 || boxes[0] != want {
		t.Fatalf("padded letterbox, class 1 only: boxes %v, want [%v]", boxes, want)
	}
}

func TestDecodeYOLOAndNMS(t *testing.T) {
	// v5 layout, 4 anchors, 2 classes: rows cx, cy, w, h, obj, c0, c1.
	v5 := []float32{
		50, 50, 20, 20, 1.0, 0.9, 0.1, // A: class 0, 0.9
		52, 50, 20, 20, 1.0, 0.8, 0.1, // B: overlaps A (IoU 0.82), class 0 → suppressed
		52, 50, 20, 20, 1.0, 0.1, 0.7, // C: same place, class 1 → kept (per-class NMS)
		10, 10, 4, 4, 0.2, 0.9, 0.0, // D: 0.18 < conf 0.25 → dropped
	}
	c, err := decodeYOLO([]int{1, 4, 7}, v5, "v5", 0.25, nil) // "auto" would read [1, 4, 7] as v8 (A < B)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 {
		t.Fatalf("%d candidates above 0.25, want 3: %+v", len(c), c)
	}
	k := nms(c, 0.45, 300)
	if len(k) != 2 || k[0].class != 0 || math.Abs(k[0].score-0.9) > 1e-6 || k[1].class != 1 {
		t.Fatalf("after NMS: %+v, want A then C", k)
	}
	if got := nms(append([]cand(nil), c...), 0.9, 300); len(got) != 3 {
		t.Fatalf("IoU 0.9 keeps %d, want 3 (0.82 overlap allowed)", len(got))
	}
	if got := nms(append([]cand(nil), c...), 0.45, 1); len(got) != 1 {
		t.Fatalf("MaxDetections 1 keeps %d", len(got))
	}
	// The same boxes in v8 layout ([4+C, N], no objectness): transpose of rows without obj.
	v8 := make([]float32, 6*4)
	for i := 0; i < 4; i++ {
		row := v5[i*7 : i*7+7]
		for j, v := range append(append([]float32{}, row[:4]...), row[5:]...) {
			v8[j*4+i] = v
		}
	}
	c8, err := decodeYOLO([]int{1, 6, 4}, v8, "v8", 0.25, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c8) != 4 { // D scores 0.9 without objectness
		t.Fatalf("v8: %d candidates, want 4", len(c8))
	}
	if c8[0].b != [4]float64{40, 40, 60, 60} {
		t.Fatalf("v8 box %v, want [40 40 60 60]", c8[0].b)
	}
	for _, bad := range [][]int{{1, 4}, {2, 4, 7}, {1, 4, 5}} {
		n := 1
		for _, d := range bad {
			n *= d
		}
		if _, err := decodeYOLO(bad, make([]float32, n), "v5", 0.25, nil); err == nil {
			t.Errorf("shape %v decoded without error", bad)
		}
	}
}

func TestUnclosedModelIsFinalized(t *testing.T) {
	p := writeModel(t, "conv1.onnx", convModel(1, 3, make([]float32, 9), 0, true))
	before := LiveModels()
	func() {
		if _, err := LoadEdgeModel(p, nil); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 20 && LiveModels() != before; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if LiveModels() != before {
		t.Fatalf("an unreachable, unclosed model was not finalized: LiveModels %d, want %d", LiveModels(), before)
	}
}
