package bo

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"bohost/host/acq"
)

// torchPoints returns the torch SobolEngine(dim, scramble=True, seed) draws of
// host/sobol's fixture (made with torch 1.13, testdata/torch_sobol.py there).
func torchPoints(t *testing.T, dim int, seed uint64, n int) [][]float64 {
	t.Helper()
	raw, err := os.ReadFile("../sobol/testdata/torch_sobol.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Dim    int         `json:"dim"`
			Seed   uint64      `json:"seed"`
			Points [][]float64 `json:"points"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		if c.Dim == dim && c.Seed == seed && len(c.Points) >= n {
			return c.Points[:n]
		}
	}
	t.Fatalf("fixture has no case dim %d seed %d n >= %d", dim, seed, n)
	return nil
}

// TestTorchDesign: with Design "torch" a hart6-shaped run (6-d x, 2-d w,
// all_w) starts from BoTorch's draw_sobol_samples(n=5, q=1, seed=Seed) x's
// and the torch Sobol W set of the same seed, scaled to the boxes, and keeps
// that design across a State round trip.
func TestTorchDesign(t *testing.T) {
	space := make([][2]float64, 6)
	for i := range space {
		space[i] = [2]float64{0, 1}
	}
	space[2] = [2]float64{-2, 2}
	cfg := Config{Space: space, Env: Env{Bounds: [][2]float64{{0, 1}, {10, 20}}}, Alpha: 0.5, NW: 16,
		Acquisition: AcqUCB, NInitial: 5, Seed: 0, Design: DesignTorch,
		Optim: acq.OptimOptions{RawSamples: 16, Restarts: 1, MaxIter: 5, Workers: 1}}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := o.Ask(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	X, W := torchPoints(t, 6, 0, 5), torchPoints(t, 2, 0, 16)
	if len(cands) != 5*16 {
		t.Fatalf("%d candidates, want 80", len(cands))
	}
	for i, c := range cands {
		x, w := X[i/16], W[i%16]
		for k := range x {
			want := x[k]
			if k == 2 {
				want = -2 + 4*x[k]
			}
			if c.X[k] != want {
				t.Fatalf("candidate %d: x[%d] = %v, want %v (torch point %d)", i, k, c.X[k], want, i/16)
			}
		}
		if c.W[0] != w[0] || c.W[1] != 10+10*w[1] {
			t.Fatalf("candidate %d: w = %v, want torch w %v scaled", i, c.W, w)
		}
	}
	for _, c := range cands {
		if err := o.Tell(c, c.X[0]+c.W[0]); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := json.Marshal(o.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(st)
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.Design != DesignTorch || r.wset[3][1] != 10+10*W[3][1] {
		t.Fatalf("restored design %q, W[3] %v", r.cfg.Design, r.wset[3])
	}

	// The default design is bohost's own stream: different points.
	cfg.Design = ""
	o2, _ := New(cfg)
	c2, _ := o2.Ask(context.Background())
	if c2[0].X[0] == cands[0].X[0] {
		t.Fatal("default design reproduced the torch design")
	}
}
