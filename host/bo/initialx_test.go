package bo

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestInitialX: the initial design starts with initial_x (all_w: at every
// w of the W set; pair: with the design point's w), the other design points
// are those of the run without it, a restored optimiser keeps it, and a bad
// initial_x names the field.
func TestInitialX(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{ModeAllW, ModePair} {
		acqName := AcqQLogNEI
		if mode == ModePair {
			acqName = AcqRhoKG
		}
		cfg := smallCfg(acqName, 3)
		cfg.Mode = mode
		plain := mustNew(t, cfg)
		cfg.InitialX = [][]float64{{0.125}}
		o := mustNew(t, cfg)
		a, err := plain.Ask(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Ask(ctx)
		if err != nil {
			t.Fatal(err)
		}
		per := 1
		if mode == ModeAllW {
			per = cfg.NW
		}
		if len(a) != len(b) || len(b) != cfg.NInitial*per {
			t.Fatalf("%s: design sizes %d and %d, want %d", mode, len(a), len(b), cfg.NInitial*per)
		}
		for i := range b {
			if i < per {
				if b[i].X[0] != 0.125 {
					t.Errorf("%s: design point %d has x %v, want initial_x 0.125", mode, i, b[i].X)
				}
				if !slices.Equal(b[i].W, a[i].W) {
					t.Errorf("%s: design point %d has w %v, want the plain design's %v", mode, i, b[i].W, a[i].W)
				}
				continue
			}
			if !slices.Equal(a[i].X, b[i].X) || !slices.Equal(a[i].W, b[i].W) {
				t.Errorf("%s: design point %d moved: %v/%v vs %v/%v", mode, i, b[i].X, b[i].W, a[i].X, a[i].W)
			}
		}
		for _, c := range b {
			if err := o.Tell(c, toyF(c.X, c.W)); err != nil {
				t.Fatal(err)
			}
		}
		r, err := Restore(o.State())
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Config().InitialX; len(got) != 1 || got[0][0] != 0.125 {
			t.Errorf("%s: restored initial_x %v", mode, got)
		}
	}
	for _, c := range []struct {
		x    [][]float64
		want string
	}{
		{[][]float64{{1.5}}, "initial_x[1][1] = 1.5 is outside space[1] = [0, 1]"},
		{[][]float64{{0.5, 0.5}}, "initial_x[1] has 2 values, want 1"},
		{[][]float64{{0.1}, {0.2}, {0.3}, {0.4}, {0.5}}, "initial_x holds 5 x's, more than n_initial = 4"},
	} {
		cfg := smallCfg(AcqUCB, 1)
		cfg.InitialX = c.x
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("initial_x %v: %v, want %q", c.x, err, c.want)
		}
	}
}
