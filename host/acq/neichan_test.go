package acq

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"bohost/host/gp"
	"bohost/host/internal/linalg"
)

// TestNEIChanMatchesJoint recomputes the channel route's qNEI and qLogNEI
// from the dense route's joint posterior over baseline × W and x × W: in the
// rotated basis (I ⊗ Q_w) the joint covariance must be block diagonal over
// the channels (the route's premise), the baseline means must match, and
// the value must equal the sample average built from each channel's
// Cholesky factor (baseline first, candidate last) and the same base
// samples. The baseline holds training x's and one x that is not (a pending
// x as the batch optimiser passes them).
func TestNEIChanMatchesJoint(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 5, wset4, 21, false)
	pk, _ := NewPost(m, X, y)
	o := m.Options()
	o.DenseOnly = true
	ym, ys := m.YTransform()
	pd, err := newPost(X, y, m.Hyper(), o, ym, ys, m.Jitter())
	if err != nil {
		t.Fatal(err)
	}
	// W in another order than the grid's
	W := [][]float64{wset4[2], wset4[0], wset4[3], wset4[1]}
	base := [][]float64{X[0][:2], X[8][:2], {0.45, 0.55}, X[16][:2]}
	nw, S, nbx := len(W), 32, len(base)
	for _, log := range []bool{false, true} {
		a, err := NewNEI(pk, W, base, cvar07, NEIOptions{Log: log, Samples: S, Seed: 5, NoPrune: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.ch == nil {
			t.Fatal("channel route not taken")
		}
		for _, x := range [][]float64{{0.37, 0.62}, {0.9, 0.1}, X[4][:2]} {
			var Z [][]float64
			for _, b := range base {
				Z = append(Z, appendW(b, W)...)
			}
			Z = append(Z, appendW(x, W)...)
			ps := pd.points(Z)
			N := ps.m
			sig := pd.covMat(ps, ps, nil)
			for b := 0; b < nbx; b++ {
				for i := 0; i < nw; i++ {
					if d := math.Abs(a.ch.mu[b*nw+i] - ps.mu[b*nw+i]); d > 1e-9 {
						t.Fatalf("baseline mean (%d, %d): channel %g, dense %g", b, i, a.ch.mu[b*nw+i], ps.mu[b*nw+i])
					}
				}
			}
			// rotated covariance R ᵀ Σ R, R = I ⊗ Q_w
			R := make([]float64, N*N)
			for b := 0; b <= nbx; b++ {
				for i := 0; i < nw; i++ {
					for j := 0; j < nw; j++ {
						R[(b*nw+i)*N+b*nw+j] = a.ch.qw[i*nw+j]
					}
				}
			}
			rot := linalg.Gemm(true, false, N, N, R, N, N, linalg.Gemm(false, false, N, N, sig, N, N, R))
			scale := slices.Max(sig)
			for u := 0; u < N; u++ {
				for v := 0; v < N; v++ {
					if u%nw != v%nw && math.Abs(rot[u*N+v]) > 1e-9*scale {
						t.Fatalf("rotated covariance not block diagonal: [%d,%d] = %g", u, v, rot[u*N+v])
					}
				}
			}
			// per channel: Cholesky of the (nbx+1)² block, samples, risk
			dev := make([]float64, N*S) // rotated deviations, point-major
			for j := 0; j < nw; j++ {
				k := nbx + 1
				L := make([]float64, k*k)
				for b := 0; b < k; b++ {
					for b2 := 0; b2 < k; b2++ {
						L[b*k+b2] = rot[(b*nw+j)*N+b2*nw+j]
					}
				}
				if !linalg.CholLower(L, k) {
					t.Fatal("channel block not PD")
				}
				for s := 0; s < S; s++ {
					z := make([]float64, k)
					for b := 0; b < nbx; b++ {
						z[b] = a.ch.zb[(j*nbx+b)*S+s]
					}
					z[nbx] = a.zx[s][j]
					for b := 0; b < k; b++ {
						var v float64
						for b2 := 0; b2 <= b; b2++ {
							v += L[b*k+b2] * z[b2]
						}
						dev[(b*nw+j)*S+s] = v
					}
				}
			}
			var sum float64
			logs := make([]float64, S)
			for s := 0; s < S; s++ {
				f := make([]float64, N)
				for u := 0; u < N; u++ {
					b, i := u/nw, u%nw
					v := ps.mu[u]
					for j := 0; j < nw; j++ {
						v += a.ch.qw[i*nw+j] * dev[(b*nw+j)*S+s]
					}
					f[u] = ym + ys*v
				}
				best := math.Inf(-1)
				for b := 0; b < nbx; b++ {
					best = math.Max(best, cvar07.Eval(f[b*nw:(b+1)*nw]))
				}
				if d := math.Abs(best - a.best[s]); d > 1e-8*(1+math.Abs(best)) {
					t.Fatalf("sample %d: best baseline %g, channel route %g", s, best, a.best[s])
				}
				imp := cvar07.Eval(f[nbx*nw:]) - best
				sum += math.Max(imp, 0)
				logs[s] = logFatplus(imp, 1e-6)
			}
			want := sum / float64(S)
			if log {
				want = logMeanExp(logs)
			}
			if got := a.Value(x); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Errorf("log=%v x=%v: channel route %.12g, brute force %.12g", log, x, got, want)
			}
		}
	}
}

// TestNEIChanPruneAgrees: the channel route's pruning samples the same
// joint posterior as the generic route, so each baseline x wins in the same
// share of samples up to Monte-Carlo noise (8192 samples each; x's close
// together and noisy data, so that several of them win).
func TestNEIChanPruneAgrees(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(22, 1))
	var X, base [][]float64
	var y []float64
	for j := 0; j < 10; j++ {
		x := []float64{0.45 + 0.1*rng.Float64(), 0.45 + 0.1*rng.Float64()}
		base = append(base, x)
		for _, w := range wset4 {
			X = append(X, []float64{x[0], x[1], w[0]})
			y = append(y, math.Sin(3*x[0])+x[1]*w[0]+0.3*rng.NormFloat64())
		}
	}
	o := gp.DefaultOptions()
	o.Restarts = 0
	m, err := gp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(context.Background(), X, y); err != nil {
		t.Fatal(err)
	}
	p, _ := NewPost(m, X, y)
	const S = 8192
	a := &NEI{p: p, w: wset4, dx: 2, r: newRho(cvar07, len(wset4)), o: NEIOptions{Seed: 3, PruneMax: S}}
	a.o.defaults()
	qw := chanPerm(p, wset4)
	if qw == nil {
		t.Fatal("channel route not available")
	}
	ch, err := a.chanWinCounts(qw, base)
	if err != nil {
		t.Fatal(err)
	}
	gen := a.winCounts(base)
	winners := 0
	for j := range base {
		pc, pg := float64(ch[j])/S, float64(gen[j])/S
		if pc > 0.02 {
			winners++
		}
		// 5 sd of the difference of two binomial shares
		if sd := math.Sqrt(2 * math.Max(pc*(1-pc), 1/S) / S); math.Abs(pc-pg) > 5*sd {
			t.Errorf("x %d wins in %.4f of the channel route's samples, %.4f of the generic route's (sd %.4f)", j, pc, pg, sd)
		}
	}
	if winners < 3 {
		t.Errorf("only %d x's win in more than 2 %% of the samples: the test is not informative", winners)
	}
	t.Logf("win counts: channel %v, generic %v", ch, gen)
}

// TestNEIChanNotAtEvaluatedX: at a baseline x the candidate's conditional
// variance vanishes; the channel route returns a finite value and gradient
// there (no failed factorisation).
func TestNEIChanNotAtEvaluatedX(t *testing.T) {
	t.Parallel()
	m, X, y := toyGrid(t, 2, 6, wset4, 23, false)
	p, _ := NewPost(m, X, y)
	base := [][]float64{X[0][:2], X[4][:2], X[8][:2]}
	a, _ := NewNEI(p, wset4, base, cvar07, NEIOptions{Log: true, Seed: 1, NoPrune: true})
	g := make([]float64, 2)
	for _, x := range base {
		v := a.ValueGrad(x, g)
		if math.IsNaN(v) || math.IsInf(v, 0) || math.IsNaN(g[0]) || math.IsNaN(g[1]) {
			t.Errorf("x=%v: value %g, gradient %v", x, v, g)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3; i++ {
		x := []float64{rng.Float64(), rng.Float64()}
		checkGrad(t, "channel", a.ValueGrad, x)
	}
}
