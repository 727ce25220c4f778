package cv

import (
	"context"
	"testing"

	"bohost/host/airline"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

// TestAirlineInjection checks the contract with host/airline: EdgeModel.Edges,
// YOLO.Boxes and LSD plug into airline.Options as EdgeFunc, ROIFunc and
// OtherFunc, and the learned path finds a rectangle's outline from a model
// whose logits mark it (positive on the bright side of each edge, negative
// outside, -40 in flat areas).
func TestAirlineInjection(t *testing.T) {
	const x0, y0, x1, y1 = 40, 32, 120, 96
	g := rectImage(160, 128, x0, y0, x1, y1, 30, 220)
	// 5×5 centre-surround (centre 400, the four pixels 2 px away -100 each):
	// a 2-px band of logit 19000/255 − 40 ≈ 34.5 inside each edge, so AirLine's
	// stride-2 seed grid meets every side, as it does on DexiNed's thick maps;
	// flat areas are at −40. Both lie outside the airline8 edge-threshold range
	// [−23, 7], so the outcome does not depend on the default thresholds.
	k := make([]float32, 25)
	k[12], k[2], k[10], k[14], k[22] = 400, -100, -100, -100, -100
	m, err := LoadEdgeModel(writeModel(t, "lap.onnx", convModel(1, 5, k, -40, true)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// A YOLO model proposing one box around the whole 160×128 image: the
	// 32×32 input holds it scaled by 0.2 as 32×26 at top 3, so the box is
	// centred at (16, 16) with size 32×25.6.
	y, err := LoadYOLO(writeModel(t, "roi.onnx", yoloModel([]float32{16, 16, 32, 25.6, 0.9, 0.1}, false)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	ev, err := airline.New(airline.Options{Edge: "learned", EdgeFunc: m.Edges, ROI: "func", ROIFunc: y.Boxes, OtherFunc: LSD, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	segs, err := ev.Detect(context.Background(), nil, g)
	if err != nil {
		t.Fatal(err)
	}
	gt := []imgbuf.Segment{
		{X1: x0, Y1: y0, X2: x1 - 1, Y2: y0}, {X1: x0, Y1: y1 - 1, X2: x1 - 1, Y2: y1 - 1},
		{X1: x0, Y1: y0, X2: x0, Y2: y1 - 1}, {X1: x1 - 1, Y1: y0, X2: x1 - 1, Y2: y1 - 1},
	}
	s := metric.FScore(segs, gt, g.W, g.H, 0)
	t.Logf("%d segments, F=%.3f P=%.3f R=%.3f", len(segs), s.F, s.Precision, s.Recall)
	if s.F < 0.8 {
		t.Fatalf("learned-edge AirLine on a rectangle: F=%.3f (P %.3f, R %.3f) from %v, want >= 0.8", s.F, s.Precision, s.Recall, segs)
	}
}
