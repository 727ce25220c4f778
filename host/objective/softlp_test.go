package objective

import (
	"context"
	"math"
	"testing"

	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/metric"
	"bohost/host/worker"
)

// notesSoftLP follows ../shared/notes/welding.md's text literally, written
// independently of host/metric: "a segment (x1, y1, x2, y2) is sampled at
// the 100 points (x1 + t(x2 − x1), y1 + t(y2 − y1)) for t = 0, 1/99, …, 1
// (both ends included). The sample points of all GT segments of an image
// are pooled; every detected segment is sampled the same way; for each GT
// point, d is the Euclidean distance to the nearest detected sample point
// (not to the segment itself); score = mean over all GT points of
// clip(1 − d/r, 0, 1). No detected segment gives 0." The precision
// counterpart swaps the roles of GT and detections.
func notesSoftLP(det, gt []imgbuf.Segment) func(r float64) (lp, precision float64) {
	points := func(segs []imgbuf.Segment) (xs, ys []float64) {
		for _, s := range segs {
			for i := 0; i <= 99; i++ {
				t := float64(i) / 99
				xs = append(xs, s.X1+t*(s.X2-s.X1))
				ys = append(ys, s.Y1+t*(s.Y2-s.Y1))
			}
		}
		return xs, ys
	}
	// nearest[i]: the distance from point i of a to the nearest point of b.
	nearest := func(ax, ay, bx, by []float64) []float64 {
		out := make([]float64, len(ax))
		for i := range ax {
			d := math.Inf(1)
			for j := range bx {
				d = math.Min(d, math.Hypot(ax[i]-bx[j], ay[i]-by[j]))
			}
			out[i] = d
		}
		return out
	}
	score := func(ds []float64, r float64) float64 {
		total := 0.0
		for _, d := range ds {
			v := 1 - d/r
			if v < 0 {
				v = 0
			}
			if v > 1 {
				v = 1
			}
			total += v
		}
		return total / float64(len(ds))
	}
	gx, gy := points(gt)
	dx, dy := points(det)
	if len(dx) == 0 {
		return func(float64) (float64, float64) { return 0, 0 }
	}
	toDet, toGT := nearest(gx, gy, dx, dy), nearest(dx, dy, gx, gy)
	return func(r float64) (float64, float64) { return score(toDet, r), score(toGT, r) }
}

// TestSoftLPMatchesTheNotes: on 5 generated images, the evaluator's
// soft_lp (metric = "soft_lp", default and explicit r) equals the notes'
// definition computed literally from the same GT and detections, and the
// trial's y is soft LP_r.
func TestSoftLPMatchesTheNotes(t *testing.T) {
	ctx := context.Background()
	var objs []*Airline
	for _, r := range []float64{0, 7.5} {
		a, err := NewAirline(AirlineSpec{Synth: dataset.SynthOptions{N: 5, Width: 320, Height: 240, Seed: 5},
			Evaluator: EvaluatorSpec{Metric: "soft_lp", MetricR: r}})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, a)
	}
	for i := range 5 {
		var ref func(float64) (float64, float64)
		for k, a := range objs {
			wantR := []float64{20 * 400.0 / 4080, 7.5}[k] // 320 x 240: diagonal 400
			s, err := a.Score(ctx, nil, i, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Lines) == 0 || len(s.GT) == 0 {
				t.Fatalf("image %d: %d detections, %d GT segments: the comparison needs both", i, len(s.Lines), len(s.GT))
			}
			if ref == nil { // the detections do not depend on the metric
				ref = notesSoftLP(s.Lines, s.GT)
			}
			lp, p := ref(wantR)
			rec := s.Record
			if math.Abs(rec.Soft.LP-lp) > 1e-9 || math.Abs(rec.Soft.Precision-p) > 1e-9 || math.Abs(rec.Soft.R-wantR) > 1e-12 {
				t.Fatalf("image %d: soft LP %.12f, precision %.12f, r %g; the notes' definition gives %.12f, %.12f at r %g",
					i, rec.Soft.LP, rec.Soft.Precision, rec.Soft.R, lp, p, wantR)
			}
			res, err := a.Eval(ctx, worker.Request{EnvIndex: i})
			if err != nil {
				t.Fatal(err)
			}
			if res.Y != rec.Soft.LP || res.Score["f"] != rec.Soft.LP || res.Score["soft_lp"] != rec.Soft.LP ||
				res.Score["metric"] != "soft_lp" || res.Score["soft_r"] != rec.Soft.R || res.Score["f_r"] != rec.F {
				t.Fatalf("image %d: trial y %v, record %v; want y = f = soft_lp = %v", i, res.Y, res.Score, rec.Soft.LP)
			}
			t.Logf("image %d (r %.3g): %d detections, %d GT: soft LP %.4f, soft precision %.4f, F_r %.4f", i, wantR, len(s.Lines), len(s.GT), lp, p, rec.F)
		}
	}
}

// TestMetricFUnchanged: without a metric the trial's y is F_r at the
// default radius, bit for bit, and soft LP_r is in the record beside it.
func TestMetricFUnchanged(t *testing.T) {
	ctx := context.Background()
	a, err := NewAirline(smallSpec())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s, err := a.Score(ctx, nil, i, true)
		if err != nil {
			t.Fatal(err)
		}
		img, it, err := a.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		f := metric.FScore(s.Lines, it.Lines, img.W, img.H, 0)
		soft := metric.SoftLP(s.Lines, it.Lines, img.W, img.H, 0)
		res, err := a.Eval(ctx, worker.Request{EnvIndex: i})
		if err != nil {
			t.Fatal(err)
		}
		if res.Y != f.F || res.Score["f"] != f.F || res.Score["metric"] != "f" || res.Score["r"] != f.R ||
			res.Score["soft_lp"] != soft.LP || res.Score["soft_precision"] != soft.Precision || res.Score["soft_f"] != soft.F {
			t.Fatalf("image %d: y %v, record %v; want y = f = F_r %v, soft_lp %v", i, res.Y, res.Score, f.F, soft.LP)
		}
	}
}

func TestMetricOptionErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{"airline": {"evaluator": {"metric": "soft"}}}`, `evaluator.metric must be "f" or "soft_lp", got "soft"`},
		{`{"airline": {"evaluator": {"metric": "soft_lp", "r": -2}}}`, "evaluator.r must be a finite radius > 0"},
	} {
		_, err := ParseSpec([]byte(tc.src))
		if err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
	if _, err := ParseSpec([]byte(`{"airline": {"evaluator": {"metric": "soft_lp", "r": 20}}}`)); err != nil {
		t.Errorf("a valid metric: %v", err)
	}
}
