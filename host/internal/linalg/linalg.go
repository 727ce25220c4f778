// Package linalg holds the small dense linear-algebra helpers that host/gp
// and host/acq share for Kronecker-structured (x × W grid) computations.
package linalg

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Gemm returns C = op(A)·op(B) for row-major dense matrices (A ar×ac,
// B br×bc); tA, tB transpose A and B.
func Gemm(tA, tB bool, ar, ac int, A []float64, br, bc int, B []float64) []float64 {
	ta, tb := blas.NoTrans, blas.NoTrans
	m := ar
	if tA {
		ta, m = blas.Trans, ac
	}
	nn := bc
	if tB {
		tb, nn = blas.Trans, br
	}
	C := make([]float64, m*nn)
	blas64.Gemm(ta, tb, 1, blas64.General{Rows: ar, Cols: ac, Stride: ac, Data: A},
		blas64.General{Rows: br, Cols: bc, Stride: bc, Data: B}, 0,
		blas64.General{Rows: m, Cols: nn, Stride: nn, Data: C})
	return C
}

// EigSym returns the eigenvalues (ascending, clamped at 0) and the
// eigenvectors (columns of an m×m row-major matrix) of the symmetric m×m
// matrix A; ok is false when the factorisation fails.
func EigSym(m int, A []float64) (lam, Q []float64, ok bool) {
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(m, append([]float64(nil), A...)), true) {
		return nil, nil, false
	}
	lam = es.Values(nil)
	for i := range lam {
		lam[i] = math.Max(lam[i], 0)
	}
	var V mat.Dense
	es.VectorsTo(&V)
	return lam, V.RawMatrix().Data, true
}
