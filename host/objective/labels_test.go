package objective

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/worker"
)

// weldSet writes n w x h images of a bright weld-like structure (two
// near-vertical plates, a collar and the fillet between the plates' lower
// ends) on a dark textured ground, in images/, and their label file with
// Windows paths: image 0 has no label (excluded), image 1 no right plate
// (left plate and collar only), the rest all four segments.
func weldSet(t *testing.T, n, w, h int) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "images"), 0o755)
	var entries []dataset.LabelEntry
	for i := range n {
		fw, fh := float64(w), float64(h)
		p := dataset.WeldPoints{
			LongiLeftLower: pt(0.2*fw+float64(i), 0.8*fh), LongiLeftUpper: pt(0.22*fw, 0.15*fh),
			LongiRightLower: pt(0.8*fw, 0.82*fh-float64(i)), LongiRightUpper: pt(0.79*fw, 0.2*fh),
			CollarLeftLower: pt(0.5*fw, 0.81*fh), CollarLeftUpper: pt(0.5*fw+2, 0.4*fh),
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		for k := range img.Pix {
			img.Pix[k] = uint8(40 + (k*7919)%23)
		}
		segs, _ := p.Segments()
		for _, s := range segs {
			l := math.Hypot(s.X2-s.X1, s.Y2-s.Y1)
			for u := 0.0; u <= l; u += 0.5 {
				x, y := s.X1+(s.X2-s.X1)*u/l, s.Y1+(s.Y2-s.Y1)*u/l
				for d := -1; d <= 1; d++ {
					img.SetGray(int(x)+d, int(y), color.Gray{Y: 200})
				}
			}
		}
		stem := fmt.Sprintf("WIN_2025_%02d_Pro", i)
		var b bytes.Buffer
		png.Encode(&b, img)
		os.WriteFile(filepath.Join(dir, "images", stem+".png"), b.Bytes(), 0o644)
		switch i {
		case 0:
			p = dataset.WeldPoints{}
		case 1:
			p.LongiRightLower, p.LongiRightUpper = dataset.WeldPoint{}, dataset.WeldPoint{} // no right plate, so no fillet
		}
		entries = append(entries, dataset.LabelEntry{Stem: stem, Image: `images\` + stem + ".png", Points: p})
	}
	f := filepath.Join(dir, "ground_truth.json")
	if err := dataset.WriteLabels(f, entries); err != nil {
		t.Fatal(err)
	}
	return f
}

func pt(x, y float64) dataset.WeldPoint {
	return dataset.WeldPoint{X: int(math.Round(x)), Y: int(math.Round(y))}
}

func TestAirlineLabelFile(t *testing.T) {
	f := weldSet(t, 10, 200, 150)
	ctx := context.Background()
	n := map[string]int{}
	for _, split := range []string{"all", "train", "test"} {
		a, err := NewAirline(AirlineSpec{Data: f, Split: split, HoldoutSeed: 3, Evaluator: EvaluatorSpec{Metric: "soft_lp"}})
		if err != nil {
			t.Fatal(err)
		}
		if n[split], err = a.Len(); err != nil {
			t.Fatal(err)
		}
		m, err := a.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.Labels == nil || m.Labels.Excluded != 1 || m.Labels.ExcludedStems[0] != "WIN_2025_00_Pro" || m.Split != split {
			t.Fatalf("%s: manifest %+v", split, m)
		}
		res, err := a.Eval(ctx, worker.Request{EnvIndex: 0})
		if err != nil {
			t.Fatal(err)
		}
		if res.Score["metric"] != "soft_lp" || res.Y != res.Score["soft_lp"] || res.Score["n_gt"].(int) < 2 {
			t.Fatalf("%s: %v", split, res.Score)
		}
	}
	if n["all"] != 9 || n["train"]+n["test"] != 9 || n["test"] != 3 {
		t.Fatalf("images per split %v: want 9 = 6 + 3 (one excluded, 0.3 held out)", n)
	}
	// Eval on the whole set: the structure is found (its 3-px bars give an
	// edge 2 px to either side of the labelled centre line: r = 5).
	a, _ := NewAirline(AirlineSpec{Data: f, Evaluator: EvaluatorSpec{Metric: "soft_lp", MetricR: 5}})
	sum := 0.0
	for i := range 9 {
		res, err := a.Eval(ctx, worker.Request{EnvIndex: i})
		if err != nil {
			t.Fatal(err)
		}
		sum += res.Y
	}
	if sum/9 < 0.6 {
		t.Errorf("mean soft LP %.3f on bright drawn structures: the labels and images disagree?", sum/9)
	}
}

func TestAirlineLabelOptionErrors(t *testing.T) {
	f := weldSet(t, 3, 64, 48)
	for _, c := range []struct {
		spec AirlineSpec
		want string
	}{
		{AirlineSpec{Images: "imgs"}, `images is an option of a label file`},
		{AirlineSpec{Data: "some/dir", HoldoutSeed: 2}, `holdout_seed is an option of a label file (data = "ground_truth.json"), not of data = "some/dir"`},
		{AirlineSpec{Data: f, HoldoutFraction: 1.5}, "holdout_fraction must be in (0, 1)"},
		{AirlineSpec{Data: f, HoldoutFraction: 0.5, HoldoutFile: "x.txt"}, "holdout_file and holdout_fraction: give one"},
	} {
		_, err := NewAirline(c.spec)
		if errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.spec, err, c.want)
		}
	}
	a, err := NewAirline(AirlineSpec{Data: f, Images: filepath.Join(filepath.Dir(f), "elsewhere")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Len(); errs.KindOf(err) != errs.IO || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("a missing images directory: %v", err)
	}
	if _, err := ParseSpec([]byte(`{"airline": {"data": "gt.json", "holdout_fraction": 0.2, "holdout_seed": 4, "images": "d"}}`)); err != nil {
		t.Errorf("a label file's options: %v", err)
	}
}
