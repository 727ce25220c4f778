package bo

import (
	"context"
	"math"
	"strings"
	"testing"

	"bohost/host/errs"
)

// tellAll tells y[i] at a spread of x's (one per value) and fails the test
// on a refusal.
func tellAll(t *testing.T, o *Optimizer, ys ...float64) {
	t.Helper()
	for i, y := range ys {
		c := Candidate{X: []float64{float64(i%97) / 97}, W: []float64{float64(i%13) / 13}, EnvIndex: -1}
		if err := o.Tell(c, y); err != nil {
			t.Fatalf("tell %d (y = %g): %v", i, y, err)
		}
	}
}

func TestCheckYRefusesWhatBreaksTheModel(t *testing.T) {
	o := mustNew(t, smallCfg(AcqUCB, 1))
	c := Candidate{X: []float64{0.5}, W: []float64{0.5}, EnvIndex: -1}
	// -math.huge in gopher-lua is the finite -MaxFloat64: refused even
	// before there is any data to compare with.
	for _, y := range []float64{-math.MaxFloat64, 1e200, -1e101} {
		err := o.Tell(c, y)
		if errs.KindOf(err) != errs.BadValue || !strings.Contains(err.Error(), "overflows") {
			t.Errorf("Tell(%g) = %v, want a bad_value error about overflow", y, err)
		}
	}
	tellAll(t, o, -0.3, -0.2, -0.1, -0.05, 0, -0.15, -0.25)
	for _, y := range []float64{-1e3, -1e6} {
		err := o.Tell(c, y)
		if errs.KindOf(err) != errs.BadValue || !strings.Contains(err.Error(), "below the median") || !strings.Contains(err.Error(), "outlier_factor") {
			t.Errorf("Tell(%g) = %v, want a bad_value outlier error naming outlier_factor", y, err)
		}
	}
	// Deliberate penalties on the objective's own scale, and a breakthrough
	// far above a flat start, are data.
	for _, y := range []float64{-1, -5, 3, 50} {
		if err := o.CheckY(y); err != nil {
			t.Errorf("CheckY(%g) = %v, want nil", y, err)
		}
	}
	if len(o.Observations()) != 7 {
		t.Fatalf("refused values were recorded: %d observations", len(o.Observations()))
	}
	// The check can be turned off.
	cfg := smallCfg(AcqUCB, 1)
	cfg.OutlierFactor = -1
	off := mustNew(t, cfg)
	tellAll(t, off, -0.3, -0.2, -0.1, -0.05, 0)
	if err := off.Tell(c, -1e6); err != nil {
		t.Errorf("outlier_factor = -1: %v", err)
	}
	if err := off.Tell(c, -1e200); errs.KindOf(err) != errs.BadValue {
		t.Errorf("outlier_factor = -1 still refuses overflow: got %v", err)
	}
}

// A run that concentrates near its optimum gives many nearly equal values;
// an ordinary exploration value after them is not an outlier. Nor is a
// breakthrough after a start of zeros.
func TestCheckYFlatStarts(t *testing.T) {
	o := mustNew(t, smallCfg(AcqUCB, 1))
	tellAll(t, o, 0.7278221, 0.7278222, 0.7278221, 0.7278223, 0.7278222, 0.7278221)
	if err := o.CheckY(0.6431604554642684); err != nil {
		t.Errorf("an ordinary value after a flat start: %v", err)
	}
	z := mustNew(t, smallCfg(AcqUCB, 1))
	tellAll(t, z, 0, 0, 0, 0, 0, 0, 1e-3)
	for _, y := range []float64{0.8, -1} {
		if err := z.CheckY(y); err != nil {
			t.Errorf("after zeros, CheckY(%g): %v", y, err)
		}
	}
}

// An outlier told before there was a scale to judge it by is replaced in
// the fit by the worst other value, is not what "worst" tells for a
// failure, and is listed by Outliers; the model stays sound.
func TestEarlyOutlierClipped(t *testing.T) {
	o := mustNew(t, smallCfg(AcqUCB, 2))
	cands, err := o.Ask(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The first value is -1e6: nothing to compare with yet, so accepted.
	for i, c := range cands {
		y := toyF(c.X, c.W)
		if i == 0 {
			y = -1e6
		}
		if err := o.Tell(c, y); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.Outliers(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("Outliers() = %v, want [0]", got)
	}
	worst, ok := o.WorstY()
	if !ok || worst < -10 {
		t.Fatalf("WorstY() = %g, %v: want the worst non-outlier value", worst, ok)
	}
	_, y := o.trainData()
	for i, v := range y {
		if v < worst {
			t.Fatalf("training target %d = %g below the worst non-outlier %g", i, v, worst)
		}
	}
	loop(t, o, 4)
	rec, err := o.Recommend(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ob := range o.Observations() {
		if ob.Y > -10 {
			lo, hi = math.Min(lo, ob.Y), math.Max(hi, ob.Y)
		}
	}
	if math.IsNaN(rec.CVaR) || rec.CVaR < lo-(hi-lo) || rec.CVaR > hi+(hi-lo) {
		t.Fatalf("posterior CVaR %g outside the data [%g, %g]: the outlier broke the model", rec.CVaR, lo, hi)
	}
}

// Tell refuses a w outside the optimiser's environments.
func TestTellChecksW(t *testing.T) {
	o := mustNew(t, smallCfg(AcqUCB, 1))
	for _, w := range []float64{-0.1, 1.5, math.NaN()} {
		err := o.Tell(Candidate{X: []float64{0.5}, W: []float64{w}, EnvIndex: -1}, 0.1)
		if errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "outside the environment bounds") {
			t.Errorf("w = %g: %v", w, err)
		}
	}
	if err := o.Tell(Candidate{X: []float64{0.5}, W: []float64{1}, EnvIndex: -1}, 0.1); err != nil {
		t.Errorf("w on the bound: %v", err)
	}
	cfg := smallCfg(AcqUCB, 1)
	cfg.Env = Env{List: [][]float64{{0.1, 1}, {0.4, 2}, {0.9, 3}}}
	cfg.NW = 2
	l := mustNew(t, cfg)
	if err := l.Tell(Candidate{X: []float64{0.5}, W: []float64{0.4, 2}, EnvIndex: 1}, 0.1); err != nil {
		t.Errorf("env 2 at its own features: %v", err)
	}
	if err := l.Tell(Candidate{X: []float64{0.5}, W: []float64{0.9, 3}, EnvIndex: 1}, 0.1); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "environment 2") {
		t.Errorf("env 2 with env 3's features: %v", err)
	}
	if err := l.Tell(Candidate{X: []float64{0.5}, W: []float64{0.5, 9}, EnvIndex: -1}, 0.1); errs.KindOf(err) != errs.BadArg || !strings.Contains(err.Error(), "range of the environments' features") {
		t.Errorf("w outside the list's range: %v", err)
	}
}
