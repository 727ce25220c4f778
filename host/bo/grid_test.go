package bo

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"bohost/host/acq"
	"bohost/host/gp"
)

// TestGridPartlyTold: all_w results told w by w, x's interleaved (the
// pipeline's interleave schedule): the training rows are arranged as an
// x × W grid (the GP's Kronecker route) with the pending cells of partly
// told x's imputed, and the posterior mean is the one on the told rows
// alone; untold x's stay out; a sequential loop's data and a skipped
// failure are left as they are.
func TestGridPartlyTold(t *testing.T) {
	ctx := context.Background()
	cfg := smallCfg(AcqQLogNEI, 3)
	cfg.Mode, cfg.NW = ModeAllW, 4
	g := gp.DefaultOptions()
	g.Kernel, g.Restarts = gp.RBF, 0
	cfg.GP = &g
	o := mustNew(t, cfg)
	tell := func(cs ...Candidate) {
		t.Helper()
		for _, c := range cs {
			if err := o.Tell(c, toyF(c.X, c.W)); err != nil {
				t.Fatal(err)
			}
		}
	}
	init, err := o.AskMore(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	tell(init...)
	X, y := o.trainData()
	if _, ok := o.grid(X, y); ok {
		t.Error("the initial design, told in order, was rearranged")
	}
	batch, err := o.AskMore(ctx, 3) // x's a, b, c at 4 w's each
	if err != nil {
		t.Fatal(err)
	}
	tell(batch[0], batch[4], batch[1]) // a: 2 of 4, b: 1 of 4, c: none
	X, y = o.trainData()
	gr, ok := o.grid(X, y)
	if !ok {
		t.Fatal("partly told x's: no grid")
	}
	if len(gr.fitY) != 4*4 || len(gr.y) != 6*4 || len(gr.miss) != 5 {
		t.Fatalf("fit rows %d (want 16), grid rows %d (want 24), imputed %d (want 5)", len(gr.fitY), len(gr.y), len(gr.miss))
	}
	if _, nx, nw, ok := gp.GridSplit(gr.X); !ok || nx != 6 || nw != 4 {
		t.Fatalf("grid rows split %d×%d (%v), want 6×4", nx, nw, ok)
	}
	m, Xf, yf, err := o.fit(ctx, 1, purFit, nil)
	if err != nil {
		t.Fatal(err)
	}
	post, err := acq.NewPost(m, Xf, yf)
	if err != nil {
		t.Fatal(err)
	}
	told, err := acq.NewPost(m, X, y)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var Z [][]float64
	for range 30 {
		Z = append(Z, []float64{rng.Float64(), o.wset[rng.IntN(4)][0]})
	}
	mg, _ := post.Predict(Z)
	md, _ := told.Predict(Z)
	for j := range mg {
		if math.Abs(mg[j]-md[j]) > 1e-6*(1+math.Abs(md[j])) {
			t.Fatalf("point %v: mean %.10g on the imputed grid, %.10g on the told rows", Z[j], mg[j], md[j])
		}
	}
	next, err := o.AskMore(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Candidate{batch[0], batch[4], batch[8]} {
		if next[0].X[0] == b.X[0] {
			t.Errorf("x %v proposed again while pending", b.X)
		}
	}
	// Everything told, interleaved: complete, reordered, nothing imputed.
	tell(batch[8], batch[5], batch[2], next[0], batch[9], batch[6], batch[3], next[1], batch[10], batch[7], next[2], batch[11], next[3])
	X, y = o.trainData()
	if gr, ok = o.grid(X, y); !ok || len(gr.miss) != 0 || len(gr.y) != len(y) {
		t.Fatalf("all told out of order: grid %v, %d imputed, %d of %d rows", ok, len(gr.miss), len(gr.y), len(y))
	}
	if _, _, _, ok := gp.GridSplit(gr.X); !ok {
		t.Error("all told out of order: the rearranged rows are not a grid")
	}
	// A skipped failure is not pending: the data stay as they are (dense).
	last, err := o.AskMore(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.TellFailed(last[0], FailSkip); err != nil {
		t.Fatal(err)
	}
	tell(last[1:]...)
	X, y = o.trainData()
	if _, ok := o.grid(X, y); ok {
		t.Error("a skipped failure's cell was imputed")
	}
}
