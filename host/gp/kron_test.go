package gp

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// gridData returns nx random x's (dx dims) crossed with nw random w's (dw
// dims) in x-major order and a smooth target with noise.
func gridData(rng *rand.Rand, nx, nw, dx, dw int) ([][]float64, []float64) {
	W := make([][]float64, nw)
	for i := range W {
		W[i] = make([]float64, dw)
		for k := range W[i] {
			W[i][k] = rng.Float64()
		}
	}
	var X [][]float64
	var y []float64
	for j := 0; j < nx; j++ {
		x := make([]float64, dx)
		for k := range x {
			x[k] = rng.Float64()
		}
		for _, w := range W {
			z := append(append([]float64{}, x...), w...)
			X = append(X, z)
			v := 0.0
			for k, c := range z {
				v += math.Sin(2*c + float64(k))
			}
			y = append(y, v+0.05*rng.NormFloat64())
		}
	}
	return X, y
}

func TestGridSplit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	X, _ := gridData(rng, 4, 3, 2, 2)
	dx, nx, nw, ok := GridSplit(X)
	if !ok || dx != 2 || nx != 4 || nw != 3 {
		t.Fatalf("grid 4×3 with dx=2: got dx=%d nx=%d nw=%d ok=%v", dx, nx, nw, ok)
	}
	// one w out of order, one row missing, a ragged row: not grids
	bad := append([][]float64{}, X...)
	bad[4], bad[5] = bad[5], bad[4]
	if _, _, _, ok := GridSplit(bad); ok {
		t.Error("swapped w order detected as a grid")
	}
	if _, _, _, ok := GridSplit(X[:len(X)-1]); ok {
		t.Error("incomplete grid detected as a grid")
	}
	if _, _, _, ok := GridSplit(X[:3]); ok {
		t.Error("a single x detected as a grid")
	}
}

// TestKronMatchesDense compares the Kronecker log marginal likelihood and
// gradient with the dense ones on grid data for every prior set and noise
// mode. Tolerance 1e-8 relative: both are exact, only rounding differs.
func TestKronMatchesDense(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ nx, nw, dx, dw int }{{5, 3, 2, 1}, {7, 4, 3, 2}, {3, 6, 1, 2}} {
		X, y := gridData(rng, c.nx, c.nw, c.dx, c.dw)
		d := c.dx + c.dw
		n := len(y)
		u := make([]float64, 0, n*d)
		for _, r := range X {
			u = append(u, r...)
		}
		ym, ys := standardise(y)
		yst := make([]float64, n)
		for i, v := range y {
			yst[i] = (v - ym) / ys
		}
		for _, pr := range []Prior{PriorDimScaled, PriorGamma, PriorNone} {
			for _, learn := range []bool{true, false} {
				floor := 1e-4
				if !learn {
					floor = 0.01
				}
				pd := newProblemGrid(u, yst, d, RBF, makePriors(pr, d), learn, floor, false)
				pk := newProblemGrid(u, yst, d, RBF, makePriors(pr, d), learn, floor, true)
				if pk.kr == nil || pd.kr != nil {
					t.Fatalf("grid %+v: Kronecker route not chosen as asked", c)
				}
				for trial := 0; trial < 3; trial++ {
					th := make([]float64, pd.dim())
					for i := range th {
						th[i] = -1 + 1.5*rng.Float64()
					}
					gd := make([]float64, len(th))
					gk := make([]float64, len(th))
					fd, ok1 := pd.eval(pd.newWork(), th, gd)
					fk, ok2 := pk.eval(pk.newWork(), th, gk)
					if !ok1 || !ok2 {
						t.Fatalf("%+v %s learn=%v: eval failed (dense %v, kron %v)", c, pr, learn, ok1, ok2)
					}
					if e := relErr(fd, fk); e > 1e-8 {
						t.Errorf("%+v %s learn=%v: objective dense %.12g, kron %.12g", c, pr, learn, fd, fk)
					}
					for i := range gd {
						if e := relErr(gd[i], gk[i]); e > 1e-8 {
							t.Errorf("%+v %s learn=%v: grad[%d] dense %.12g, kron %.12g", c, pr, learn, i, gd[i], gk[i])
						}
					}
				}
			}
		}
	}
}

// TestKronFitMatchesDense fits the same grid data with and without the
// Kronecker route: the optimum (MAP objective) must agree to 1e-6 relative.
func TestKronFitMatchesDense(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(8, 9))
	X, y := gridData(rng, 8, 5, 3, 2)
	var lml [2]float64
	for i, dense := range []bool{true, false} {
		o := DefaultOptions()
		o.Restarts = 2
		o.Workers = 1
		o.DenseOnly = dense
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Fit(context.Background(), X, y); err != nil {
			t.Fatal(err)
		}
		lml[i] = m.LogMarginalLikelihood() + m.LogPrior()
	}
	if e := relErr(lml[0], lml[1]); e > 1e-6 {
		t.Errorf("MAP objective dense %.10g, Kronecker %.10g (rel err %.2g)", lml[0], lml[1], e)
	}
}
