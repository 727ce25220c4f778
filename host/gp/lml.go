package gp

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"

	"bohost/host/internal/linalg"
)

// Box on the optimisation parameters (log space). Outside it the objective is
// evaluated at the clamped point plus a quadratic penalty, which keeps the
// objective and its gradient continuous for an unconstrained L-BFGS.
const (
	logLsLo, logLsHi     = -4.605170185988091, 9.210340371976184  // ℓ ∈ [0.01, 1e4] (unit cube)
	logOsLo, logOsHi     = -6.907755278982137, 6.907755278982137  // σ² ∈ [1e-3, 1e3]
	logNoiseLo, logNoise = -23.025850929940457, 2.302585092994046 // noise − floor ∈ [1e-10, 10]
	meanLo, meanHi       = -10.0, 10.0
	penaltyWeight        = 50.0
)

// problem is the MAP objective of one data set. θ holds log ℓ (d values),
// then log σ² when the outputscale is learned, then log(noise − floor) when
// the noise is learned, then the constant mean c.
type problem struct {
	n, d       int
	u          []float64 // n×d unit-cube inputs, row major
	y          []float64 // standardised targets
	kind       Kernel
	pri        priorSet
	learnNoise bool
	floor      float64   // noise floor (learned noise) or the fixed noise
	sq         []float64 // per pair i<j, per dim: Δ² (nil with kr)
	lo, hi     []float64 // box on θ
	kr         *kronData // grid data with the RBF kernel: Kronecker route (kron.go)
}

func newProblem(u, y []float64, d int, kind Kernel, pri priorSet, learnNoise bool, floor float64) *problem {
	return newProblemGrid(u, y, d, kind, pri, learnNoise, floor, false)
}

// newProblemGrid is newProblem that, with grid and the RBF kernel, uses the
// Kronecker route when the inputs form a complete grid (GridSplit).
func newProblemGrid(u, y []float64, d int, kind Kernel, pri priorSet, learnNoise bool, floor float64, grid bool) *problem {
	n := len(y)
	p := &problem{n: n, d: d, u: u, y: y, kind: kind, pri: pri, learnNoise: learnNoise, floor: floor}
	if s, nx, nw, ok := gridSplitU(u, n, d); grid && kind == RBF && ok {
		p.kr = newKronData(u, d, s, nx, nw)
	} else {
		p.sq = make([]float64, n*(n-1)/2*d)
		q := 0
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				for k := 0; k < d; k++ {
					t := u[i*d+k] - u[j*d+k]
					p.sq[q] = t * t
					q++
				}
			}
		}
	}
	for k := 0; k < d; k++ {
		p.lo = append(p.lo, logLsLo)
		p.hi = append(p.hi, logLsHi)
	}
	if pri.learnOS {
		p.lo = append(p.lo, logOsLo)
		p.hi = append(p.hi, logOsHi)
	}
	if learnNoise {
		p.lo = append(p.lo, logNoiseLo)
		p.hi = append(p.hi, logNoise)
	}
	p.lo = append(p.lo, meanLo)
	p.hi = append(p.hi, meanHi)
	return p
}

func (p *problem) dim() int { return len(p.lo) }

// hyper converts θ (assumed inside the box) to hyper-parameters.
func (p *problem) hyper(th []float64) Hyper {
	h := Hyper{Lengthscales: make([]float64, p.d), Outputscale: 1, Noise: p.floor}
	for k := 0; k < p.d; k++ {
		h.Lengthscales[k] = math.Exp(th[k])
	}
	i := p.d
	if p.pri.learnOS {
		h.Outputscale = math.Exp(th[i])
		i++
	}
	if p.learnNoise {
		h.Noise = p.floor + math.Exp(th[i])
		i++
	}
	h.Mean = th[i]
	return h
}

// theta converts hyper-parameters to θ, clamped into the box.
func (p *problem) theta(h Hyper) []float64 {
	th := make([]float64, 0, p.dim())
	for _, l := range h.Lengthscales {
		th = append(th, math.Log(l))
	}
	if p.pri.learnOS {
		th = append(th, math.Log(h.Outputscale))
	}
	if p.learnNoise {
		ex := h.Noise - p.floor
		if ex <= 0 {
			th = append(th, logNoiseLo)
		} else {
			th = append(th, math.Log(ex))
		}
	}
	th = append(th, h.Mean)
	for i := range th {
		th[i] = math.Max(p.lo[i], math.Min(p.hi[i], th[i]))
	}
	return th
}

// work is one goroutine's workspace.
type work struct {
	k, f  []float64 // n×n: kernel matrix (upper), its factor / inverse (upper)
	kf, g []float64 // per pair: kernel value and gradient factor
	r, a  []float64
	th    []float64
}

func (p *problem) newWork() *work {
	if p.kr != nil {
		return &work{th: make([]float64, p.dim())}
	}
	np := p.n * (p.n - 1) / 2
	n := p.n
	return &work{k: make([]float64, n*n), f: make([]float64, n*n), kf: make([]float64, np), g: make([]float64, np),
		r: make([]float64, n), a: make([]float64, n), th: make([]float64, p.dim())}
}

// eval returns the objective −(LML + log prior)/n plus the box penalty at θ,
// and fills grad (when non-nil). ok is false when the kernel matrix is not
// positive definite even with jitter.
func (p *problem) eval(w *work, th, grad []float64) (f float64, ok bool) {
	var pen float64
	for i, t := range th {
		c := math.Max(p.lo[i], math.Min(p.hi[i], t))
		w.th[i] = c
		pen += penaltyWeight * (t - c) * (t - c)
	}
	h := p.hyper(w.th)
	lml, lp, ok := p.lmlGrad(w, h, grad)
	if !ok {
		return math.Inf(1), false
	}
	nf := float64(p.n)
	f = -(lml+lp)/nf + pen
	if grad != nil {
		for i, t := range th {
			grad[i] = -grad[i] / nf
			if c := w.th[i]; t != c {
				grad[i] = 2 * penaltyWeight * (t - c) // the clamped LML is flat in this coordinate
			}
		}
	}
	return f, true
}

// lmlGrad computes the log marginal likelihood and the log prior at h, and,
// when grad is non-nil, their gradient with respect to θ (ascent direction).
func (p *problem) lmlGrad(w *work, h Hyper, grad []float64) (lml, lp float64, ok bool) {
	if p.kr != nil {
		return p.lmlGradKron(h, grad)
	}
	n, d := p.n, p.d
	kn := newKern(p.kind, h)
	q := 0
	for i := 0; i < n; i++ {
		w.k[i*n+i] = h.Outputscale + h.Noise
		for j := i + 1; j < n; j++ {
			sq := p.sq[q*d : q*d+d]
			var r2 float64
			for k, il := range kn.invl2 {
				r2 += sq[k] * il
			}
			kv, g := kn.eval(r2)
			w.kf[q], w.g[q] = kv, g
			w.k[i*n+j] = kv
			q++
		}
	}
	// Factorise with the jitter ladder, straight through LAPACK (no
	// condition estimate, which mat.Cholesky would compute every time).
	if !linalg.CholUpper(w.f, w.k, n) {
		return 0, 0, false
	}
	ut := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: w.f}
	var logDet float64
	for i := 0; i < n; i++ {
		w.r[i] = p.y[i] - h.Mean
		logDet += 2 * math.Log(w.f[i*n+i])
	}
	copy(w.a, w.r)
	av := blas64.Vector{N: n, Inc: 1, Data: w.a}
	blas64.Trsv(blas.Trans, ut, av)
	blas64.Trsv(blas.NoTrans, ut, av)
	lml = -0.5*dot(w.r, w.a) - 0.5*logDet - 0.5*float64(n)*math.Log(2*math.Pi)

	lp = p.logPrior(h)
	if grad == nil {
		return lml, lp, true
	}
	if _, ok := lapack64.Potri(ut); !ok { // w.f now holds K⁻¹ (upper triangle)
		return 0, 0, false
	}
	a := w.a
	for i := range grad {
		grad[i] = 0
	}
	gl := grad[:d]
	var gos, trW, sumA float64
	q = 0
	for i := 0; i < n; i++ {
		ai := a[i]
		wii := ai*ai - w.f[i*n+i]
		trW += wii
		sumA += ai
		row := w.f[i*n:]
		for j := i + 1; j < n; j++ {
			wij := ai*a[j] - row[j]
			gos += wij * w.kf[q]
			t := wij * w.g[q]
			sq := p.sq[q*d : q*d+d]
			for k := range gl {
				gl[k] += t * sq[k]
			}
			q++
		}
	}
	for k := range gl {
		gl[k] *= 1 / (h.Lengthscales[k] * h.Lengthscales[k])
	}
	// ∂K/∂log σ² = K_f: off-diagonal pairs twice (counted once above, halved
	// by the ½ of the trace formula) and σ² on the diagonal.
	p.finishGrad(h, grad, gos+0.5*trW*h.Outputscale, 0.5*trW, sumA)
	return lml, lp, true
}

// finishGrad completes a log-space gradient whose lengthscale entries
// grad[:d] hold the data terms: it adds their prior terms and writes the
// outputscale entry (gos: the data's ∂/∂log σ²), the noise entry (gnoise:
// the data's ∂/∂noise, through the floor) and the constant mean's (sumA).
func (p *problem) finishGrad(h Hyper, grad []float64, gos, gnoise, sumA float64) {
	pri, d := p.pri, len(h.Lengthscales)
	if !pri.flat {
		for k := 0; k < d; k++ {
			grad[k] += pri.ls.dLogPDF(h.Lengthscales[k]) * h.Lengthscales[k]
		}
	}
	idx := d
	if pri.learnOS {
		grad[idx] = gos
		if !pri.flat {
			grad[idx] += pri.os.dLogPDF(h.Outputscale) * h.Outputscale
		}
		idx++
	}
	if p.learnNoise {
		ex := h.Noise - p.floor
		grad[idx] = gnoise * ex
		if !pri.flat {
			grad[idx] += pri.noise.dLogPDF(h.Noise) * ex
		}
		idx++
	}
	grad[idx] = sumA
}
