package linalg

import (
	"math"
	"testing"
)

func TestGemmAndEigSym(t *testing.T) {
	t.Parallel()
	A := []float64{1, 2, 3, 4, 5, 6} // 2×3
	B := []float64{1, 0, 0, 1, 1, 1} // 3×2
	if got := Gemm(false, false, 2, 3, A, 3, 2, B); got[0] != 4 || got[1] != 5 || got[2] != 10 || got[3] != 11 {
		t.Fatalf("A·B = %v", got)
	}
	if got := Gemm(true, false, 2, 3, A, 2, 3, A); len(got) != 9 || got[0] != 17 || got[8] != 45 {
		t.Fatalf("Aᵀ·A = %v", got)
	}
	S := []float64{2, 1, 1, 2}
	lam, Q, ok := EigSym(2, S)
	if !ok || math.Abs(lam[0]-1) > 1e-12 || math.Abs(lam[1]-3) > 1e-12 {
		t.Fatalf("eigenvalues %v", lam)
	}
	// Q diag(lam) Qᵀ reconstructs S.
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			v := 0.0
			for k := 0; k < 2; k++ {
				v += Q[i*2+k] * lam[k] * Q[j*2+k]
			}
			if math.Abs(v-S[i*2+j]) > 1e-12 {
				t.Fatalf("reconstruction [%d,%d] = %v", i, j, v)
			}
		}
	}
}
