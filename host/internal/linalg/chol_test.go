package linalg

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// cholCases are symmetric matrices (row-major) and the jitter each ladder
// needs for them (relative to the mean absolute diagonal).
var cholCases = []struct {
	name        string
	n           int
	a           []float64
	model, samp float64 // relative jitter: Ladder, SampleLadder (0: none; -1: fails)
}{
	{"spd", 3, []float64{4, 2, 0.6, 2, 2, 0.5, 0.6, 0.5, 3}, 0, 0},
	{"identity scaled", 2, []float64{1e-6, 0, 0, 1e-6}, 0, 0},
	{"rank one", 3, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1e-8, 1e-10},
	{"rank one, diagonal 5", 2, []float64{5, 5, 5, 5}, 1e-8, 1e-10},
	{"slightly indefinite", 2, []float64{1, 1 + 1e-7, 1 + 1e-7, 1}, 1e-6, 1e-6},
	{"indefinite", 2, []float64{1, 0, 0, -1}, -1, -1},
	{"zero", 2, []float64{0, 0, 0, 0}, 1e-8, 1e-10},
	{"nan", 2, []float64{math.NaN(), 0, 0, 1}, -1, -1},
}

func meanAbsDiag(n int, a []float64) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s += math.Abs(a[i*n+i])
	}
	if s /= float64(n); s == 0 {
		return 1
	}
	return s
}

// checkFactor checks L·Lᵀ = a + jitter·I (l lower, row-major) to tol.
func checkFactor(t *testing.T, name string, n int, l, a []float64, jitter, tol float64) {
	t.Helper()
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var v float64
			for k := 0; k <= min(i, j); k++ {
				v += l[i*n+k] * l[j*n+k]
			}
			want := a[i*n+j]
			if i == j {
				want += jitter
			}
			if math.Abs(v-want) > tol*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: (L·Lᵀ)[%d,%d] = %v, want %v", name, i, j, v, want)
			}
		}
	}
}

func TestChol(t *testing.T) {
	t.Parallel()
	for _, tc := range cholCases {
		a := mat.NewSymDense(tc.n, append([]float64(nil), tc.a...))
		var ch mat.Cholesky
		jitter, ok := Chol(&ch, a, 0)
		if ok != (tc.model >= 0) {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.model >= 0)
			continue
		}
		if !ok {
			continue
		}
		if want := tc.model * meanAbsDiag(tc.n, tc.a); jitter != want {
			t.Errorf("%s: jitter %v, want %v", tc.name, jitter, want)
		}
		var L mat.TriDense
		ch.LTo(&L)
		l := make([]float64, tc.n*tc.n)
		for i := 0; i < tc.n; i++ {
			for j := 0; j <= i; j++ {
				l[i*tc.n+j] = L.At(i, j)
			}
		}
		checkFactor(t, tc.name, tc.n, l, tc.a, jitter, 1e-12)
	}
}

// TestCholFirst: a first jitter that works is used as it is (a resumed
// model's); one that does not work falls back to the ladder.
func TestCholFirst(t *testing.T) {
	t.Parallel()
	ones := []float64{1, 1, 1, 1}
	var ch mat.Cholesky
	if j, ok := Chol(&ch, mat.NewSymDense(2, append([]float64(nil), ones...)), 3e-7); !ok || j != 3e-7 {
		t.Errorf("first 3e-7 on a rank-one matrix: jitter %v, ok %v; want 3e-7, true", j, ok)
	}
	if j, ok := Chol(&ch, mat.NewSymDense(2, append([]float64(nil), ones...)), 1e-30); !ok || j != 1e-8 {
		t.Errorf("first 1e-30 on a rank-one matrix: jitter %v, ok %v; want the ladder's 1e-8, true", j, ok)
	}
	spd := mat.NewSymDense(2, []float64{2, 1, 1, 2})
	if j, ok := Chol(&ch, spd, 1e-3); !ok || j != 1e-3 {
		t.Errorf("first 1e-3 on an SPD matrix: jitter %v, ok %v; want 1e-3, true", j, ok)
	}
	if spd.At(0, 0) != 2 {
		t.Error("a first jitter changed a")
	}
}

// TestCholUpperMatchesChol: the raw LAPACK route gives Chol's factor bit for
// bit (the LML loop and the model's factor agree).
func TestCholUpperMatchesChol(t *testing.T) {
	t.Parallel()
	for _, tc := range cholCases {
		f := make([]float64, len(tc.a))
		ok := CholUpper(f, tc.a, tc.n)
		var ch mat.Cholesky
		_, ok2 := Chol(&ch, mat.NewSymDense(tc.n, append([]float64(nil), tc.a...)), 0)
		if ok != ok2 {
			t.Errorf("%s: CholUpper ok = %v, Chol ok = %v", tc.name, ok, ok2)
			continue
		}
		if !ok {
			continue
		}
		var U mat.TriDense
		ch.UTo(&U)
		for i := 0; i < tc.n; i++ {
			for j := i; j < tc.n; j++ {
				if f[i*tc.n+j] != U.At(i, j) {
					t.Errorf("%s: U[%d,%d] = %v, Chol's %v", tc.name, i, j, f[i*tc.n+j], U.At(i, j))
				}
			}
		}
	}
}

func TestCholLower(t *testing.T) {
	t.Parallel()
	for _, tc := range cholCases {
		l := append([]float64(nil), tc.a...)
		ok := CholLower(l, tc.n)
		if ok != (tc.samp >= 0) {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.samp >= 0)
			continue
		}
		if !ok {
			continue
		}
		for i := 0; i < tc.n; i++ {
			for j := i + 1; j < tc.n; j++ {
				if l[i*tc.n+j] != 0 {
					t.Errorf("%s: upper triangle [%d,%d] = %v, want 0", tc.name, i, j, l[i*tc.n+j])
				}
			}
		}
		checkFactor(t, tc.name, tc.n, l, tc.a, tc.samp*meanAbsDiag(tc.n, tc.a), 1e-12)
	}
}

// TestClimbLeavesPDAlone: a positive definite matrix is factorised as it is
// (no jitter, a unchanged), so callers that never needed jitter see the plain
// factor.
func TestClimbLeavesPDAlone(t *testing.T) {
	t.Parallel()
	a := mat.NewSymDense(2, []float64{2, 1, 1, 2})
	var ch, plain mat.Cholesky
	if j, ok := Chol(&ch, a, 0); !ok || j != 0 {
		t.Fatalf("jitter %v, ok %v", j, ok)
	}
	if a.At(0, 0) != 2 || a.At(1, 1) != 2 {
		t.Error("Chol changed a positive definite a")
	}
	plain.Factorize(mat.NewSymDense(2, []float64{2, 1, 1, 2}))
	if ch.LogDet() != plain.LogDet() {
		t.Errorf("log det %v, plain factor's %v", ch.LogDet(), plain.LogDet())
	}
}
