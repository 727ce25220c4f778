package acq

import (
	"math"

	"bohost/host/internal/linalg"
)

// means returns the standardised posterior means at the raw points Z, as
// points(Z).mu, without the n×len(Z) whitened cross-covariances points
// keeps (22 MB for the 1664 points of 104 x's × 16 w's at n = 1664).
func (p *Post) means(Z [][]float64) []float64 {
	m, d := len(Z), p.d
	mu := make([]float64, m)
	if m == 0 {
		return mu
	}
	u := make([]float64, m*d)
	for j, z := range Z {
		p.unit(z, u[j*d:(j+1)*d])
	}
	if kr := p.kr; kr != nil {
		s, nx, nw, dw := kr.s, kr.nx, kr.nw, d-kr.s
		KX := make([]float64, nx*m)
		KW := make([]float64, nw*m)
		for j := 0; j < m; j++ {
			uj := u[j*d : (j+1)*d]
			for a := 0; a < nx; a++ {
				KX[a*m+j] = p.os * math.Exp(-0.5*p.r2(uj[:s], kr.ux[a*s:(a+1)*s], 0))
			}
			for i := 0; i < nw; i++ {
				KW[i*m+j] = math.Exp(-0.5 * p.r2(uj[s:], kr.uw[i*dw:(i+1)*dw], s))
			}
		}
		T := linalg.Gemm(false, false, nx, nw, kr.am, nw, m, KW)
		for j := 0; j < m; j++ {
			v := p.c0
			for a := 0; a < nx; a++ {
				v += KX[a*m+j] * T[a*m+j]
			}
			mu[j] = v
		}
		return mu
	}
	for j := 0; j < m; j++ {
		v := p.c0
		uj := u[j*d : (j+1)*d]
		for i := 0; i < p.n; i++ {
			v += p.k(p.xs[i*d:(i+1)*d], uj) * p.alpha[i]
		}
		mu[j] = v
	}
	return mu
}
