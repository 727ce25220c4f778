// Package num holds the small float-vector helpers that several host packages
// need and that must mean the same everywhere: whether values are finite, and
// a map key for a point.
package num

import "math"

// Finite reports whether every value is finite (neither NaN nor ±Inf); it is
// true for no values. Finite(x) checks one value, Finite(v...) a slice.
func Finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Key returns a map key for the point v that is equal for two points exactly
// when their values are bit for bit the same (so 0 and -0 differ, and a NaN
// equals a NaN with the same bits): 8 bytes a value, little-endian.
func Key(v []float64) string {
	b := make([]byte, 0, 8*len(v))
	for _, f := range v {
		u := math.Float64bits(f)
		for s := 0; s < 64; s += 8 {
			b = append(b, byte(u>>s))
		}
	}
	return string(b)
}
