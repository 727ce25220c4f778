package num

import (
	"math"
	"testing"
)

func TestFinite(t *testing.T) {
	t.Parallel()
	inf, nan := math.Inf(1), math.NaN()
	for _, tc := range []struct {
		vs   []float64
		want bool
	}{
		{nil, true},
		{[]float64{0}, true},
		{[]float64{-1e308, math.SmallestNonzeroFloat64, math.MaxFloat64}, true},
		{[]float64{nan}, false},
		{[]float64{inf}, false},
		{[]float64{-inf}, false},
		{[]float64{1, 2, nan}, false},
		{[]float64{-inf, 1}, false},
	} {
		if got := Finite(tc.vs...); got != tc.want {
			t.Errorf("Finite(%v) = %v, want %v", tc.vs, got, tc.want)
		}
	}
	if !Finite(1) || Finite(nan) {
		t.Error("Finite of one value")
	}
}

// TestKey: two points have the same key exactly when their values are bit
// for bit the same.
func TestKey(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	pts := [][]float64{nil, {0}, {math.Copysign(0, -1)}, {0, 0}, {1, 2}, {2, 1}, {1, 2, 0}, {nan}, {math.Inf(1)},
		{math.Nextafter(1, 2), 2}, {math.Float64frombits(math.Float64bits(nan) ^ 1)}}
	seen := map[string]int{}
	for i, p := range pts {
		k := Key(p)
		if len(k) != 8*len(p) {
			t.Errorf("Key(%v) has %d bytes, want %d", p, len(k), 8*len(p))
		}
		if j, dup := seen[k]; dup {
			t.Errorf("Key(%v) == Key(%v)", p, pts[j])
		}
		seen[k] = i
		if Key(append([]float64(nil), p...)) != k {
			t.Errorf("Key(%v) differs for a copy", p)
		}
	}
	a, b := []float64{nan, 1}, []float64{nan, 1}
	if Key(a) != Key(b) {
		t.Error("the same NaN bits give different keys")
	}
}
