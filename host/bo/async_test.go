package bo

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func sameCands(a, b []Candidate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// warm runs the initial design and two plain iterations, telling toyF.
func warm(t *testing.T, cfg Config) *Optimizer {
	t.Helper()
	o := mustNew(t, cfg)
	loop(t, o, 3)
	return o
}

var asyncAcqs = []struct{ acq, mode string }{
	{AcqQLogNEI, ModeAllW}, {AcqQLogNEI, ModePair}, {AcqUCB, ModeAllW}, {AcqUCB, ModePair},
	{AcqEI, ModePair}, {AcqTS, ModePair}, {AcqRhoKG, ModePair},
}

// TestAskMoreSplits: AskMore(ctx, 3) proposes exactly what three AskMore(1)
// calls do, and a restored optimiser (through JSON) with candidates in
// flight proposes exactly what the original does.
func TestAskMoreSplits(t *testing.T) {
	ctx := context.Background()
	for _, c := range asyncAcqs {
		cfg := smallCfg(c.acq, 11)
		cfg.Mode = c.mode
		a, b := warm(t, cfg), warm(t, cfg)
		ga, err := a.AskMore(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		var gb []Candidate
		for j := 0; j < 3; j++ {
			if j == 1 { // a restore with pending candidates in the middle
				b = roundTrip(t, b)
			}
			cb, err := b.AskMore(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			gb = append(gb, cb...)
		}
		if !sameCands(ga, gb) {
			t.Errorf("%s/%s: AskMore(3) = %v, three AskMore(1) with a restore = %v", c.acq, c.mode, ga, gb)
		}
		per := 1
		if c.mode == ModeAllW {
			per = cfg.NW
		}
		if len(ga) != 3*per {
			t.Errorf("%s/%s: %d candidates, want %d", c.acq, c.mode, len(ga), 3*per)
		}
		p, at := a.Pending()
		if len(p) != len(ga) || at[0] != 3 || at[len(at)-1] != 5 {
			t.Errorf("%s/%s: pending %d, asked at %v", c.acq, c.mode, len(p), at)
		}
	}
}

// TestAskMoreDiverse: the candidates of one batch are distinct x's, spread
// out (conditioning on the pending ones keeps the acquisition from proposing
// the same point again).
func TestAskMoreDiverse(t *testing.T) {
	for _, c := range asyncAcqs {
		cfg := smallCfg(c.acq, 5)
		cfg.Mode = c.mode
		o := warm(t, cfg)
		cs, err := o.AskMore(context.Background(), 4)
		if err != nil {
			t.Fatal(err)
		}
		var xs []float64
		for _, cc := range cs {
			if len(xs) == 0 || xs[len(xs)-1] != cc.X[0] {
				xs = append(xs, cc.X[0])
			}
		}
		minGap := math.Inf(1)
		for i := range xs {
			for j := i + 1; j < len(xs); j++ {
				minGap = math.Min(minGap, math.Abs(xs[i]-xs[j]))
			}
		}
		if len(xs) != 4 || !(minGap > 1e-3) {
			t.Errorf("%s/%s: batch x's %v (closest pair %.3g apart)", c.acq, c.mode, xs, minGap)
		}
	}
}

// TestAsyncRandomOrder is the asynchronous loop: keep k candidates in
// flight, tell a random one of them back at each step, ask again. No
// (x, w) is ever pending twice, every result is accepted in any order, and
// the final regret is comparable to the sequential loop with the same
// number of evaluations.
func TestAsyncRandomOrder(t *testing.T) {
	ctx := context.Background()
	best := trueCVaR([]float64{0.3}, 0.3)
	for _, c := range []struct{ acq, mode string }{{AcqQLogNEI, ModeAllW}, {AcqRhoKG, ModePair}, {AcqUCB, ModePair}} {
		var rAsync, rSeq float64
		for seed := uint64(0); seed < 3; seed++ {
			cfg := smallCfg(c.acq, seed)
			cfg.Mode = c.mode
			per, iters := 1, 14
			if c.mode == ModeAllW {
				per, iters = cfg.NW, 5
			}
			// sequential reference: the same number of evaluations
			seq := mustNew(t, cfg)
			loop(t, seq, iters+1)
			n := len(seq.Observations())
			rec, err := seq.Recommend(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rSeq += (best - trueCVaR(rec.X, 0.3)) / 3

			o := mustNew(t, cfg)
			rng := rand.New(rand.NewPCG(seed, 99))
			init, _ := o.AskMore(ctx, 1)
			for _, cc := range init {
				if err := o.Tell(cc, toyF(cc.X, cc.W)); err != nil {
					t.Fatal(err)
				}
			}
			inflight := 3
			if _, err := o.AskMore(ctx, inflight); err != nil {
				t.Fatal(err)
			}
			told := len(init)
			for told < n {
				p, _ := o.Pending()
				seen := map[string]bool{}
				for _, pc := range p {
					k := keyOfCand(pc)
					if seen[k] {
						t.Fatalf("%s/%s: (x, w) %v pending twice", c.acq, c.mode, pc)
					}
					seen[k] = true
				}
				pick := p[rng.IntN(len(p))]
				if err := o.Tell(pick, toyF(pick.X, pick.W)); err != nil {
					t.Fatal(err)
				}
				told++
				if left, _ := o.Pending(); len(left) <= (inflight-1)*per && told+len(left) < n {
					if _, err := o.AskMore(ctx, 1); err != nil {
						t.Fatal(err)
					}
				}
			}
			rec, err = o.Recommend(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rAsync += (best - trueCVaR(rec.X, 0.3)) / 3
		}
		t.Logf("%s/%s: mean regret async %.4g, sequential %.4g", c.acq, c.mode, rAsync, rSeq)
		if rAsync > 0.05 && rAsync > 2*rSeq+0.01 {
			t.Errorf("%s/%s: asynchronous regret %.4g, sequential %.4g", c.acq, c.mode, rAsync, rSeq)
		}
	}
}

func keyOfCand(c Candidate) string {
	b, _ := json.Marshal(c)
	return string(b)
}

// TestAskMoreNeedsData: a BO iteration cannot be proposed while the whole
// initial design is pending and nothing is told.
func TestAskMoreNeedsData(t *testing.T) {
	o := mustNew(t, smallCfg(AcqUCB, 1))
	ctx := context.Background()
	if _, err := o.AskMore(ctx, 2); err != nil { // the initial design
		t.Fatal(err)
	}
	if _, err := o.AskMore(ctx, 1); err == nil {
		t.Fatal("a BO proposal without any told result")
	}
	if _, err := o.AskMore(ctx, 0); err == nil {
		t.Fatal("q = 0 accepted")
	}
}

// TestAskMoreFitsOnce: asks between two tells reuse one GP fit (the data
// did not change), a tell makes the next ask fit again, and a state saved
// in between records the fit so that a restore refits the same model.
func TestAskMoreFitsOnce(t *testing.T) {
	ctx := context.Background()
	for _, c := range asyncAcqs {
		cfg := smallCfg(c.acq, 3)
		cfg.Mode = c.mode
		o := warm(t, cfg)
		if _, err := o.AskMore(ctx, 1); err != nil {
			t.Fatal(err)
		}
		m := o.model
		st := o.State()
		if st.Fit == nil || st.Fit.Iteration != o.Iteration() || st.Fit.Observations != len(o.obs) {
			t.Fatalf("%s/%s: state's fit = %+v after an ask at iteration %d with %d observations", c.acq, c.mode, st.Fit, o.Iteration(), len(o.obs))
		}
		if _, err := o.AskMore(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if o.fitted.m != m || o.diag.FitSeconds > 0.05 {
			t.Errorf("%s/%s: asks without a tell between them fitted again (%.3f s)", c.acq, c.mode, o.diag.FitSeconds)
		}
		p, _ := o.Pending()
		if err := o.Tell(p[0], toyF(p[0].X, p[0].W)); err != nil {
			t.Fatal(err)
		}
		if st := o.State(); st.Fit != nil {
			t.Errorf("%s/%s: a tell left the state's fit %+v", c.acq, c.mode, st.Fit)
		}
		if _, err := o.AskMore(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if o.fitted.m == m {
			t.Errorf("%s/%s: the ask after a tell reused the old fit", c.acq, c.mode)
		}
	}
}
