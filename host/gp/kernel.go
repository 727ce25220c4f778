package gp

import "math"

var sqrt5 = math.Sqrt(5)

// kern evaluates a stationary ARD kernel on unit-cube inputs. Both kernels are
// functions of the squared scaled distance r² = Σ_k Δ_k²/ℓ_k², and both have
// a "gradient factor" g(r²) with
//
//	∂k/∂log ℓ_k = g · Δ_k²/ℓ_k²   and   ∂k/∂u_k = −g · Δ_k/ℓ_k²,
//
// where Δ = u − u'. For RBF g = k; for Matérn-5/2 g = (5/3)σ²(1+√5 r)e^{−√5 r}.
type kern struct {
	kind  Kernel
	os    float64   // outputscale σ²
	invl2 []float64 // 1/ℓ_k²
}

func newKern(kind Kernel, h Hyper) kern {
	k := kern{kind: kind, os: h.Outputscale, invl2: make([]float64, len(h.Lengthscales))}
	for i, l := range h.Lengthscales {
		k.invl2[i] = 1 / (l * l)
	}
	return k
}

// r2 returns the squared scaled distance between a and b.
func (k *kern) r2(a, b []float64) float64 {
	var s float64
	for i, il := range k.invl2 {
		d := a[i] - b[i]
		s += d * d * il
	}
	return s
}

// eval returns k and the gradient factor g at squared scaled distance r2.
func (k *kern) eval(r2 float64) (kv, g float64) {
	if k.kind == Matern52 {
		r := math.Sqrt(r2)
		e := math.Exp(-sqrt5 * r)
		kv = k.os * (1 + sqrt5*r + 5.0/3.0*r2) * e
		g = 5.0 / 3.0 * k.os * (1 + sqrt5*r) * e
		return kv, g
	}
	kv = k.os * math.Exp(-0.5*r2)
	return kv, kv
}

// cov returns k(a, b).
func (k *kern) cov(a, b []float64) float64 {
	v, _ := k.eval(k.r2(a, b))
	return v
}

// gradU adds ∂k(a, b)/∂a scaled by w to dst.
func (k *kern) gradU(dst []float64, w float64, a, b []float64) {
	_, g := k.eval(k.r2(a, b))
	for i, il := range k.invl2 {
		dst[i] -= w * g * (a[i] - b[i]) * il
	}
}
