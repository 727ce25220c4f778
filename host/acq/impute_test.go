package acq

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestImputeIsConditionalMean: the values Impute puts in the missing cells
// of a grid are E[y_M | y_O], the dense posterior on the told rows alone
// (same hyper-parameters, noise and jitter); and the grid posterior with
// them has the told-rows posterior's mean everywhere (the tower property),
// with the believer's smaller variance at the imputed cells.
func TestImputeIsConditionalMean(t *testing.T) {
	m, X, y := toyGrid(t, 2, 6, wset4, 21, false)
	miss := []int{len(y) - 1, len(y) - 3, len(y) - 6, 2} // the last x half told, one cell of the first
	in := map[int]bool{}
	for _, i := range miss {
		in[i] = true
	}
	var XO, XM [][]float64
	var yO []float64
	for _, i := range miss {
		XM = append(XM, X[i])
	}
	for i := range X {
		if in[i] {
			continue
		}
		XO = append(XO, X[i])
		yO = append(yO, y[i])
	}
	told, err := NewPost(m, XO, yO) // not a grid: the dense route
	if err != nil {
		t.Fatal(err)
	}
	if told.kr != nil {
		t.Fatal("the told rows took the grid route")
	}
	want, _ := told.Predict(XM)
	yi := append([]float64(nil), y...)
	for _, i := range miss {
		yi[i] = 1e6 // ignored
	}
	if err := Impute(m, X, yi, miss); err != nil {
		t.Fatal(err)
	}
	for a, i := range miss {
		if math.Abs(yi[i]-want[a]) > 1e-7*(1+math.Abs(want[a])) {
			t.Errorf("cell %d: imputed %.10g, conditional mean %.10g", i, yi[i], want[a])
		}
	}
	full, err := NewPost(m, X, yi)
	if err != nil {
		t.Fatal(err)
	}
	if full.kr == nil {
		t.Fatal("the imputed grid did not take the grid route")
	}
	rng := rand.New(rand.NewPCG(5, 1))
	var Z [][]float64
	for range 20 {
		Z = append(Z, []float64{rng.Float64(), rng.Float64(), wset4[rng.IntN(len(wset4))][0]})
	}
	mg, vg := full.Predict(append(Z, XM...))
	md, vd := told.Predict(append(Z, XM...))
	for j := range mg {
		if math.Abs(mg[j]-md[j]) > 1e-6*(1+math.Abs(md[j])) {
			t.Errorf("point %d: mean %.10g on the imputed grid, %.10g on the told rows", j, mg[j], md[j])
		}
		if vg[j] > vd[j]*(1+1e-6)+1e-12 {
			t.Errorf("point %d: variance %.3g on the imputed grid above %.3g on the told rows", j, vg[j], vd[j])
		}
	}
	for a := range XM {
		if j := len(Z) + a; !(vg[j] < vd[j]) {
			t.Errorf("imputed cell %d: variance %.3g, told-rows variance %.3g: not believed", a, vg[j], vd[j])
		}
	}
	if err := Impute(m, X, yi, []int{1, 1}); err == nil {
		t.Error("a repeated missing row was accepted")
	}
}
