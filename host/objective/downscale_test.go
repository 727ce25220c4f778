package objective

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"bohost/host/dataset"
	"bohost/host/worker"
)

// TestAirlineDownscale: a sweep's objective spec with downscale = 2 on a
// generated weld set (640 x 480) is built by the workers' Factory and
// evaluates end to end on 320 x 240 images with the GT halved; the
// manifest records the factor; an explicit r is in pixels of the image as
// stored (the record's r is r / 2, the tolerance on the reduced image).
func TestAirlineDownscale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := dataset.WriteWeldSet(ctx, dir, dataset.WeldSetOptions{N: 3, Width: 640, Height: 480, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, dataset.WeldLabelFile)
	spec := func(extra string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"airline": {"data": %q, "split": "all"%s}}`, file, extra))
	}
	obj, err := Factory(ctx, worker.Hello{Spec: spec(`, "downscale": 2, "evaluator": {"r": 6}`)})
	if err != nil {
		t.Fatal(err)
	}
	a := obj.(*Airline)
	full, err := NewAirline(AirlineSpec{Data: file, Evaluator: EvaluatorSpec{MetricR: 6}})
	if err != nil {
		t.Fatal(err)
	}
	envs, err := a.Envs()
	if err != nil {
		t.Fatal(err)
	}
	if len(envs.IDs) == 0 || len(envs.Features) != len(envs.IDs) {
		t.Fatalf("envs: %d ids, %d features", len(envs.IDs), len(envs.Features))
	}
	img, it, err := a.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	_, fit, err := full.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 320 || img.H != 240 || it.Width != 320 || len(it.Lines) != len(fit.Lines) {
		t.Fatalf("image %dx%d, item width %d, %d segments (full size %d)", img.W, img.H, it.Width, len(it.Lines), len(fit.Lines))
	}
	space, err := a.Space()
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(space))
	for i, p := range space {
		x[i] = p.Default
	}
	res, err := obj.Eval(ctx, worker.Request{X: x, EnvIndex: 0})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Score["r"]; r != 3.0 {
		t.Fatalf("record r = %v, want 6 px as stored / 2 = 3", r)
	}
	if f := res.Score["f_r"].(float64); !(f >= 0 && f <= 1) || res.Y != f {
		t.Fatalf("y %v, f_r %v", res.Y, res.Score["f_r"])
	}
	mh, err := a.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	mf, err := full.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if mh.Downscale != 2 || mh.SHA256 == mf.SHA256 {
		t.Fatalf("manifest downscale %d, sha256 the full-size one's: %v", mh.Downscale, mh.SHA256 == mf.SHA256)
	}

	// Errors name the option.
	for _, c := range []struct{ extra, want string }{
		{`, "downscale": -2`, "downscale must be an integer factor in [1, 64]"},
		{`, "downscale": 65`, "downscale must be an integer factor in [1, 64]"},
		{`, "downscale": 1.5`, "downscale"},
		{`, "downscale": "2"`, "downscale"},
	} {
		if _, err := ParseSpec(spec(c.extra)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.extra, err, c.want)
		}
	}
	if _, err := ParseSpec([]byte(`{"airline": {"downscale": 2}}`)); err == nil || !strings.Contains(err.Error(), "downscale is an option of image files") {
		t.Errorf("synthetic: %v", err)
	}
	if _, err := ParseSpec(spec(`, "downscale": 0`)); err != nil {
		t.Errorf("downscale 0: %v", err)
	}
}
