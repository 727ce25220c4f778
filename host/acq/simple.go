package acq

import (
	"math"
	"math/rand/v2"

	"bohost/host/errs"
	"bohost/host/risk"
)

// newStream returns a PCG stream for (seed, purpose).
func newStream(seed, purpose uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, purpose)) }

// MeanRisk evaluates the posterior-mean risk measure ρ(μ_n(x, W)) and the
// linearised posterior variance of ρ(f(x, W)) at x-only points: with a the
// measure's weights at the mean, Var ≈ aᵀ Σ(x, W) a. Raw output units.
type MeanRisk struct {
	p *Post
	w [][]float64
	r rho
}

// NewMeanRisk returns the posterior-mean risk evaluator over the W set.
func NewMeanRisk(p *Post, W [][]float64, m risk.Measure) (*MeanRisk, error) {
	if len(W) == 0 {
		return nil, errs.New(errs.BadArg, "acq.NewMeanRisk", "W must hold at least one w, got 0")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &MeanRisk{p: p, w: W, r: newRho(m, len(W))}, nil
}

// Value returns ρ(μ_n(x, W)) and mean_i μ_n(x, w_i) in raw units.
func (mr *MeanRisk) Value(x []float64) (rhoMean, mean float64) {
	out := mr.Batch([][]float64{x})
	return out[0][0], out[0][1]
}

// Batch returns [ρ(μ(x, W)), mean μ(x, W)] for every x of X in raw units.
func (mr *MeanRisk) Batch(X [][]float64) [][2]float64 {
	p, nw := mr.p, len(mr.w)
	var Z [][]float64
	for _, x := range X {
		Z = append(Z, appendW(x, mr.w)...)
	}
	mu := p.means(Z)
	out := make([][2]float64, len(X))
	buf := make([]float64, nw+1)
	vals := make([]float64, nw)
	for j := range X {
		var s float64
		for i := 0; i < nw; i++ {
			vals[i] = p.ymu + p.ysd*mu[j*nw+i]
			s += vals[i]
		}
		out[j] = [2]float64{mr.r.eval(vals, buf), s / float64(nw)}
	}
	return out
}

// MeanVar returns ρ(μ_n(x, W)) and the linearised variance aᵀΣa (raw units).
func (mr *MeanRisk) MeanVar(x []float64) (m, v float64) {
	p, nw := mr.p, len(mr.w)
	ps := p.points(appendW(x, mr.w))
	vals := make([]float64, nw)
	for i := range vals {
		vals[i] = p.ymu + p.ysd*ps.mu[i]
	}
	m = mr.r.eval(vals, make([]float64, nw+1))
	a := mr.r.weights(vals, nil)
	S := p.covMat(ps, ps, nil)
	for i := 0; i < nw; i++ {
		if a[i] == 0 {
			continue
		}
		for k := 0; k < nw; k++ {
			v += a[i] * S[i*nw+k] * a[k]
		}
	}
	return m, math.Max(v, 0) * p.ysd * p.ysd
}

// UCB returns ρ(μ) + beta·sd with the linearised sd (beta default 2).
func (mr *MeanRisk) UCB(x []float64, beta float64) float64 {
	m, v := mr.MeanVar(x)
	return m + beta*math.Sqrt(v)
}

// EI returns the expected improvement of a normal N(ρ(μ), aᵀΣa) over best.
func (mr *MeanRisk) EI(x []float64, best float64) float64 {
	m, v := mr.MeanVar(x)
	s := math.Sqrt(v)
	if s < 1e-12 {
		return math.Max(m-best, 0)
	}
	z := (m - best) / s
	return s * (math.Exp(-0.5*z*z)/math.Sqrt(2*math.Pi) + z*0.5*math.Erfc(-z/math.Sqrt2))
}

// UCBGrad returns UCB(x, beta) and fills grad (len(x), when non-nil) with
// its analytic gradient (the measure's weights held at the mean).
func (mr *MeanRisk) UCBGrad(x []float64, beta float64, grad []float64) float64 {
	return mr.meanVarGrad(x, grad, func(m, v float64) (float64, float64, float64) {
		s := math.Sqrt(v)
		if s < 1e-12 {
			return m, 1, 0
		}
		return m + beta*s, 1, beta / (2 * s)
	})
}

// EIGrad returns EI(x, best) and fills grad (len(x), when non-nil) with its
// analytic gradient.
func (mr *MeanRisk) EIGrad(x []float64, best float64, grad []float64) float64 {
	return mr.meanVarGrad(x, grad, func(m, v float64) (float64, float64, float64) {
		s := math.Sqrt(v)
		if s < 1e-12 {
			if m > best {
				return m - best, 1, 0
			}
			return 0, 0, 0
		}
		z := (m - best) / s
		pdf := math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi)
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		return s * (pdf + z*cdf), cdf, pdf / (2 * s)
	})
}

// meanVarGrad evaluates comb(ρ(μ), aᵀΣa) → (value, ∂/∂m, ∂/∂v) at x and
// fills grad with the gradient of the value through m and v.
func (mr *MeanRisk) meanVarGrad(x, grad []float64, comb func(m, v float64) (float64, float64, float64)) float64 {
	p, nw := mr.p, len(mr.w)
	ps := p.points(appendW(x, mr.w))
	vals := make([]float64, nw)
	for i := range vals {
		vals[i] = p.ymu + p.ysd*ps.mu[i]
	}
	a := make([]float64, nw)
	m := mr.r.evalW(vals, make([]float64, nw+1), make([]int, nw+1), a)
	S := p.covMat(ps, ps, nil)
	var v float64
	for i := 0; i < nw; i++ {
		for k := 0; k < nw; k++ {
			v += a[i] * S[i*nw+k] * a[k]
		}
	}
	v = math.Max(v, 0) * p.ysd * p.ysd
	val, cm, cv := comb(m, v)
	if grad == nil {
		return val
	}
	clear(grad)
	// m̄_i = cm·a_i·ysd; V̄ = −2·cv·ysd²·(V_X a) aᵀ (Σ = K_XX − V_XᵀV_X, K_XX constant in x)
	n := p.n
	mbar := make([]float64, nw)
	for i := range mbar {
		mbar[i] = cm * a[i] * p.ysd
	}
	var vbar []float64
	if cv != 0 {
		vbar = make([]float64, n*nw)
		c := -2 * cv * p.ysd * p.ysd
		for t := 0; t < n; t++ {
			var va float64
			for i := 0; i < nw; i++ {
				va += ps.v[t*nw+i] * a[i]
			}
			for i := 0; i < nw; i++ {
				vbar[t*nw+i] = c * va * a[i]
			}
		}
	}
	p.adjoint(ps, mbar, vbar, grad)
	return val
}
