package bo

import (
	"context"
	"testing"
)

// TestCandidateFor: x and w passed back as the script got them from Ask
// find their pending candidate (and its environment); a w of a finite
// environment list finds that environment; anything else is a point of its
// own (EnvIndex -1).
func TestCandidateFor(t *testing.T) {
	cfg := smallCfg(AcqRandom, 1)
	cfg.Env = Env{List: [][]float64{{0.1}, {0.5}, {0.9}}}
	cfg.NW = 2
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := o.Ask(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if got := o.CandidateFor(append([]float64(nil), c.X...), append([]float64(nil), c.W...)); got.EnvIndex != c.EnvIndex {
			t.Errorf("pending %v: env %d, want %d", c, got.EnvIndex, c.EnvIndex)
		}
	}
	if got := o.CandidateFor([]float64{0.123}, []float64{0.9}); got.EnvIndex != 2 {
		t.Errorf("w of environment 3: env index %d, want 2", got.EnvIndex)
	}
	if got := o.CandidateFor([]float64{0.123}, []float64{0.3}); got.EnvIndex != -1 {
		t.Errorf("unknown w: env index %d, want -1", got.EnvIndex)
	}
}
