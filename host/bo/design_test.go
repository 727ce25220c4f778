package bo

import (
	"context"
	"testing"

	"bohost/host/acq"
	"bohost/host/sobol"
)

// TestTorchDesign: with Design "torch" a hart6-shaped run (6-d x, 2-d w,
// all_w) starts from BoTorch's draw_sobol_samples(n=5, q=1, seed=Seed) x's
// and the torch Sobol W set of the same seed, scaled to the boxes, and keeps
// that design across a State round trip. (host/sobol's tests pin NewTorch to
// torch's own draws.)
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
	sx, _ := sobol.NewTorch(6, 0)
	sw, _ := sobol.NewTorch(2, 0)
	X, W := sx.Draw(5), sw.Draw(16)
	// torch.quasirandom.SobolEngine(6, scramble=True, seed=0).draw(5, dtype=torch.double)[0][0]
	if X[0][0] != 0.47510719299316406 {
		t.Fatalf("torch design's first coordinate %v", X[0][0])
	}
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
	r := roundTrip(t, o)
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
