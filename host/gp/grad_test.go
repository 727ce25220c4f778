package gp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// relErr is |a−b| / max(1, |a|, |b|).
func relErr(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func randData(rng *rand.Rand, n, d int) ([][]float64, []float64) {
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, d)
		var s float64
		for k := range X[i] {
			X[i][k] = rng.Float64()
			s += math.Sin(3*X[i][k] + float64(k))
		}
		y[i] = s + 0.1*rng.NormFloat64()
	}
	return X, y
}

var fdCentral = &fd.Settings{Formula: fd.Central, Step: 1e-6}

func TestKernelGradU(t *testing.T) {
	t.Parallel()
	const tol = 1e-7
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []Kernel{RBF, Matern52} {
		for trial := 0; trial < 5; trial++ {
			d := 1 + trial
			h := Hyper{Lengthscales: make([]float64, d), Outputscale: 0.5 + rng.Float64()}
			a := make([]float64, d)
			b := make([]float64, d)
			for k := 0; k < d; k++ {
				h.Lengthscales[k] = 0.1 + rng.Float64()
				a[k], b[k] = rng.Float64(), rng.Float64()
			}
			kn := newKern(kind, h)
			got := make([]float64, d)
			kn.gradU(got, 1, a, b)
			want := fd.Gradient(nil, func(x []float64) float64 { return kn.cov(x, b) }, a, fdCentral)
			for k := range got {
				if e := relErr(got[k], want[k]); e > tol {
					t.Errorf("%s d=%d: dk/du[%d] = %g, finite differences %g (rel err %.2g > %g)", kind, d, k, got[k], want[k], e, tol)
				}
			}
			// d k / d log ℓ_k = g · Δ_k²/ℓ_k².
			_, g := kn.eval(kn.r2(a, b))
			lg := make([]float64, d)
			for k := range lg {
				lg[k] = math.Log(h.Lengthscales[k])
			}
			wantL := fd.Gradient(nil, func(l []float64) float64 {
				hh := h.clone()
				for k := range l {
					hh.Lengthscales[k] = math.Exp(l[k])
				}
				kk := newKern(kind, hh)
				return kk.cov(a, b)
			}, lg, fdCentral)
			for k := range lg {
				dd := a[k] - b[k]
				got := g * dd * dd * kn.invl2[k]
				if e := relErr(got, wantL[k]); e > tol {
					t.Errorf("%s d=%d: dk/dlogℓ[%d] = %g, finite differences %g (rel err %.2g)", kind, d, k, got, wantL[k], e)
				}
			}
		}
	}
}

// TestObjectiveGradient checks the analytic gradient of −(LML + log prior)/n
// with respect to θ against central finite differences at random θ, for both
// kernels, every prior set and learned or fixed noise.
func TestObjectiveGradient(t *testing.T) {
	t.Parallel()
	const tol = 2e-6
	rng := rand.New(rand.NewPCG(3, 4))
	X, y := randData(rng, 25, 3)
	for _, kind := range []Kernel{RBF, Matern52} {
		for _, pr := range []Prior{PriorDimScaled, PriorGamma, PriorNone} {
			for _, learn := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/learn=%v", kind, pr, learn), func(t *testing.T) {
					o := DefaultOptions()
					o.Kernel, o.Prior, o.LearnNoise = kind, pr, learn
					if !learn {
						o.Noise = 0.05
					}
					m, err := New(o)
					if err != nil {
						t.Fatal(err)
					}
					u, err := m.checkData("test", X, y)
					if err != nil {
						t.Fatal(err)
					}
					ym, ys := standardise(y)
					yst := make([]float64, len(y))
					for i := range y {
						yst[i] = (y[i] - ym) / ys
					}
					floor := o.NoiseFloor
					if !learn {
						floor = o.Noise
					}
					p := newProblem(u, yst, 3, kind, makePriors(pr, 3), learn, floor)
					w := p.newWork()
					for trial := 0; trial < 4; trial++ {
						th := make([]float64, p.dim())
						for i := range th {
							// Random points inside the box, away from its edges.
							th[i] = p.lo[i] + (0.3+0.4*rng.Float64())*(p.hi[i]-p.lo[i])
						}
						for k := 0; k < 3; k++ {
							th[k] = math.Log(0.1 + 1.5*rng.Float64())
						}
						if pr != PriorDimScaled {
							th[3] = math.Log(0.3 + 2*rng.Float64())
						}
						if learn {
							th[p.dim()-2] = math.Log(1e-3 + 0.2*rng.Float64())
						}
						th[p.dim()-1] = 0.5 * rng.NormFloat64()
						got := make([]float64, len(th))
						if _, ok := p.eval(w, th, got); !ok {
							t.Fatalf("not PD at θ=%v", th)
						}
						want := fd.Gradient(nil, func(x []float64) float64 {
							f, _ := p.eval(p.newWork(), x, nil)
							return f
						}, th, fdCentral)
						for i := range got {
							if e := relErr(got[i], want[i]); e > tol {
								t.Errorf("θ=%v: grad[%d] = %.10g, finite differences %.10g (rel err %.2g > %g)", th, i, got[i], want[i], e, tol)
							}
						}
					}
					// Outside the box: the penalty's gradient.
					th := p.theta(Hyper{Lengthscales: []float64{1e-4, 0.5, 0.5}, Outputscale: 1, Noise: 0.1})
					th[0] = logLsLo - 0.5
					got := make([]float64, len(th))
					p.eval(w, th, got)
					if e := relErr(got[0], -2*penaltyWeight*0.5); e > 1e-12 {
						t.Errorf("penalty gradient below the box: %g, want %g", got[0], -2*penaltyWeight*0.5)
					}
				})
			}
		}
	}
}

func TestPriorDerivatives(t *testing.T) {
	t.Parallel()
	const tol = 1e-7
	for _, p := range []dist{logNormal{-4, 1}, logNormal{2.45, math.Sqrt(3)}, gamma{3, 6}, gamma{2, 0.15}, gamma{1.1, 0.05}} {
		for _, x := range []float64{0.01, 0.3, 1, 4.5} {
			want := fd.Derivative(p.logPDF, x, &fd.Settings{Formula: fd.Central, Step: 1e-7 * x})
			if e := relErr(p.dLogPDF(x), want); e > tol {
				t.Errorf("%+v at %g: d log p = %g, finite differences %g", p, x, p.dLogPDF(x), want)
			}
		}
	}
	// Normalisation: ∫ p = 1 by the midpoint rule on a log grid.
	for _, p := range []dist{logNormal{-4, 1}, gamma{3, 6}, gamma{2, 0.15}} {
		var s float64
		const lo, hi, m = -20.0, 8.0, 200000
		dz := (hi - lo) / m
		for i := 0; i < m; i++ {
			x := math.Exp(lo + (float64(i)+0.5)*dz)
			s += math.Exp(p.logPDF(x)) * x * dz
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("%+v integrates to %g", p, s)
		}
	}
}

func TestPredictGradients(t *testing.T) {
	t.Parallel()
	const tol = 1e-6
	rng := rand.New(rand.NewPCG(5, 6))
	X, y := randData(rng, 30, 3)
	bounds := [][2]float64{{-1, 2}, {0, 1}, {0.5, 0.75}}
	for i := range X {
		for k := range X[i] {
			X[i][k] = bounds[k][0] + X[i][k]*(bounds[k][1]-bounds[k][0])
		}
	}
	for _, kind := range []Kernel{RBF, Matern52} {
		o := DefaultOptions()
		o.Kernel, o.Bounds = kind, bounds
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		h := Hyper{Lengthscales: []float64{0.3, 0.5, 0.8}, Outputscale: 1.3, Noise: 0.01, Mean: 0.2}
		if err := m.FitWithHyper(X, y, h); err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 5; trial++ {
			x := make([]float64, 3)
			for k := range x {
				x[k] = bounds[k][0] + rng.Float64()*(bounds[k][1]-bounds[k][0])
			}
			mean, vr, dm, dv := m.PredictGrad(x)
			pm, pv, err := m.Predict([][]float64{x})
			if err != nil {
				t.Fatal(err)
			}
			if relErr(mean, pm[0]) > 1e-12 || relErr(vr, pv[0]) > 1e-12 {
				t.Errorf("%s: PredictGrad (%g, %g) != Predict (%g, %g)", kind, mean, vr, pm[0], pv[0])
			}
			wm := fd.Gradient(nil, func(x []float64) float64 { mu, _, _ := m.Predict([][]float64{x}); return mu[0] }, x, fdCentral)
			wv := fd.Gradient(nil, func(x []float64) float64 { _, v, _ := m.Predict([][]float64{x}); return v[0] }, x, fdCentral)
			mg := m.MeanGrad(x, nil)
			for k := range x {
				if e := relErr(dm[k], wm[k]); e > tol {
					t.Errorf("%s: dmean/dx[%d] = %g, finite differences %g", kind, k, dm[k], wm[k])
				}
				if mg[k] != dm[k] {
					t.Errorf("%s: MeanGrad[%d] = %g != PredictGrad's %g", kind, k, mg[k], dm[k])
				}
				if e := relErr(dv[k], wv[k]); e > tol {
					t.Errorf("%s: dvar/dx[%d] = %g, finite differences %g", kind, k, dv[k], wv[k])
				}
			}
		}
	}
}
