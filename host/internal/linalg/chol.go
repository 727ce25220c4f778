package linalg

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// This file is the one place where bohost adds jitter to a symmetric matrix
// that is not numerically positive definite. Every factorisation climbs a
// jitter ladder the same way (climb): the matrix itself first, then the
// matrix plus level·s·I for each level in turn, where s is the mean absolute
// diagonal (1 when that is 0 or NaN). Three kernels climb it, each where its
// caller needs it:
//
//   - Chol: gonum's mat.Cholesky, for the GP model (solves, log-determinant
//     and condition number come with it) and the acquisitions' posterior;
//   - CholUpper: LAPACK's potrf straight on a row-major buffer, for the
//     marginal-likelihood loop (no condition estimate, no allocation);
//   - CholLower: a plain in-place lower factor with the upper triangle
//     zeroed, for the small conditional covariances the acquisitions draw
//     samples from, with the finer SampleLadder.

// Ladder is the jitter ladder of kernel matrices and posterior covariances,
// relative to the mean absolute diagonal. Its last level appears in error
// messages ("not positive definite after jitter 1e-4").
var Ladder = [...]float64{1e-8, 1e-7, 1e-6, 1e-5, 1e-4}

// SampleLadder is the jitter ladder of the conditional covariances that the
// acquisitions sample from (CholLower): they are often singular by
// construction (a point conditioned on itself), and a finer ladder perturbs
// the samples less.
var SampleLadder = [...]float64{1e-10, 1e-9, 1e-8, 1e-7, 1e-6}

// climb runs a jitter ladder: try(0), then try(level·s) for each level until
// one succeeds; s is the mean of |diag(i)| over i < n (1 when that is 0 or
// NaN). It returns the absolute jitter that worked, or the last one tried
// and false.
func climb(ladder []float64, n int, diag func(i int) float64, try func(jitter float64) bool) (float64, bool) {
	if try(0) {
		return 0, true
	}
	var s float64
	for i := 0; i < n; i++ {
		s += math.Abs(diag(i))
	}
	s /= float64(n)
	if s == 0 || math.IsNaN(s) {
		s = 1
	}
	var jitter float64
	for _, l := range ladder {
		jitter = l * s
		if try(jitter) {
			return jitter, true
		}
	}
	return jitter, false
}

// Chol factorises the symmetric matrix a into dst. With first > 0 it tries
// a + first·I before anything else (a resumed model reproduces its recorded
// jitter); then it climbs Ladder, adding the jitter to a's diagonal in place.
// It returns the absolute jitter on the diagonal of the factorised matrix (0
// when none was needed); ok is false when even the last level fails.
func Chol(dst *mat.Cholesky, a *mat.SymDense, first float64) (jitter float64, ok bool) {
	n := a.SymmetricDim()
	if first > 0 {
		b := mat.NewSymDense(n, nil)
		b.CopySym(a)
		for i := 0; i < n; i++ {
			b.SetSym(i, i, b.At(i, i)+first)
		}
		if dst.Factorize(b) {
			return first, true
		}
	}
	var added float64 // jitter already on a's diagonal
	return climb(Ladder[:], n, func(i int) float64 { return a.At(i, i) }, func(j float64) bool {
		if add := j - added; add != 0 {
			for i := 0; i < n; i++ {
				a.SetSym(i, i, a.At(i, i)+add)
			}
			added = j
		}
		return dst.Factorize(a)
	})
}

// CholUpper factorises the n×n symmetric matrix k (row-major, upper triangle
// read) into the upper triangle of f (k = UᵀU) with LAPACK's potrf, climbing
// Ladder from a fresh copy of k each time. f's lower triangle holds k's.
func CholUpper(f, k []float64, n int) bool {
	fs := blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: f}
	_, ok := climb(Ladder[:], n, func(i int) float64 { return k[i*n+i] }, func(j float64) bool {
		copy(f, k)
		if j != 0 {
			for i := 0; i < n; i++ {
				f[i*n+i] += j
			}
		}
		_, ok := lapack64.Potrf(fs)
		return ok
	})
	return ok
}

// CholLower factorises the m×m symmetric matrix a (row-major, lower triangle
// read) in place into its lower Cholesky factor (upper triangle zeroed),
// climbing SampleLadder from a fresh copy of a each time. It returns false,
// leaving a overwritten, when even the last level fails.
func CholLower(a []float64, m int) bool {
	orig := append([]float64(nil), a...)
	_, ok := climb(SampleLadder[:], m, func(i int) float64 { return orig[i*m+i] }, func(j float64) bool {
		copy(a, orig)
		return cholLower(a, m, j)
	})
	return ok
}

// cholLower is the kernel of CholLower: a Cholesky–Crout factorisation of
// a + jitter·I in place; false when a pivot is not positive.
func cholLower(a []float64, m int, jitter float64) bool {
	for j := 0; j < m; j++ {
		s := a[j*m+j] + jitter
		for k := 0; k < j; k++ {
			s -= a[j*m+k] * a[j*m+k]
		}
		if !(s > 0) {
			return false
		}
		s = math.Sqrt(s)
		a[j*m+j] = s
		for i := j + 1; i < m; i++ {
			t := a[i*m+j]
			for k := 0; k < j; k++ {
				t -= a[i*m+k] * a[j*m+k]
			}
			a[i*m+j] = t / s
		}
		for k := j + 1; k < m; k++ {
			a[j*m+k] = 0
		}
	}
	return true
}
