package wset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/sobol"
)

func randomEnvs(n, d int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	envs := make([][]float64, n)
	for i := range envs {
		envs[i] = make([]float64, d)
		for j := range envs[i] {
			envs[i][j] = rng.Float64()*float64(j+1) - 0.5 // features on different scales
		}
	}
	return envs
}

func TestSnapSobolNearestUnused(t *testing.T) {
	t.Parallel()
	envs := randomEnvs(60, 3, 2)
	for _, nw := range []int{1, 5, 16, 60} {
		idx, err := SnapSobol(envs, nw, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(idx) != nw {
			t.Fatalf("nw=%d: got %d indices", nw, len(idx))
		}
		// Recompute the scaled Sobol points and check each pick is the
		// nearest environment among those not picked before it.
		lo, hi := []float64{math.Inf(1), math.Inf(1), math.Inf(1)}, []float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
		for _, e := range envs {
			for j, v := range e {
				lo[j], hi[j] = math.Min(lo[j], v), math.Max(hi[j], v)
			}
		}
		s, _ := sobol.New(3, true, 7)
		dist := func(p, e []float64) float64 {
			var d float64
			for j := range p {
				d += (p[j] - e[j]) * (p[j] - e[j])
			}
			return d
		}
		for t0, id := range idx {
			p := s.Next(nil)
			for j := range p {
				p[j] = lo[j] + p[j]*(hi[j]-lo[j])
			}
			for i, e := range envs {
				if slices.Contains(idx[:t0], i) {
					continue
				}
				if dist(p, e) < dist(p, envs[id]) {
					t.Fatalf("nw=%d pick %d: env %d is nearer than the chosen %d", nw, t0, i, id)
				}
			}
		}
		sorted := slices.Clone(idx)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != nw {
			t.Errorf("nw=%d: repeated environments in %v", nw, idx)
		}
	}
}

// When the environments include the Sobol points themselves (and the unit
// corners, so min-max scaling is the identity), SnapSobol returns them.
func TestSnapSobolExact(t *testing.T) {
	t.Parallel()
	s, _ := sobol.New(2, true, 3)
	pts := s.Draw(8)
	envs := [][]float64{{0, 0}, {1, 1}, {0.5, 0.001}}
	want := []int{}
	for _, p := range pts {
		want = append(want, len(envs))
		envs = append(envs, p)
	}
	got, err := SnapSobol(envs, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("SnapSobol = %v, want %v", got, want)
	}
}

func TestSnapSobolDeterministic(t *testing.T) {
	t.Parallel()
	envs := randomEnvs(40, 6, 5)
	a, _ := SnapSobol(envs, 10, 1)
	b, _ := SnapSobol(envs, 10, 1)
	c, _ := SnapSobol(envs, 10, 2)
	if !slices.Equal(a, b) {
		t.Errorf("same seed: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 gave the same set %v", a)
	}
	all, _ := SnapSobol(envs, 40, 1)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("nw = len(envs) is not a permutation: %v", all)
		}
	}
}

func TestSnapSobolErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		envs [][]float64
		nw   int
		msg  string
	}{
		{nil, 1, "at least one environment"},
		{[][]float64{{1}, {2}}, 3, "nw must be in [1, 2] (the number of environments), got 3"},
		{[][]float64{{1}, {2}}, 0, "got 0"},
		{[][]float64{{1, 2}, {2}}, 1, "envs[1] has 1 features"},
		{[][]float64{{1}, {math.NaN()}}, 1, "envs[1][0] = NaN"},
		{[][]float64{{}}, 1, "no features"},
	} {
		_, err := SnapSobol(c.envs, c.nw, 0)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("error %v, want bad_arg containing %q", err, c.msg)
		}
	}
}

func TestSobolW(t *testing.T) {
	t.Parallel()
	w := SobolW(2, 16, 4)
	if len(w) != 16 || len(w[0]) != 2 {
		t.Fatalf("SobolW shape %d×%d", len(w), len(w[0]))
	}
	// Scrambled Sobol: the 16 points stratify each axis into 16 bins.
	for j := range 2 {
		seen := map[int]bool{}
		for _, p := range w {
			seen[int(p[j]*16)] = true
		}
		if len(seen) != 16 {
			t.Errorf("axis %d: %d of 16 bins hit", j, len(seen))
		}
	}
	w2 := SobolW(2, 16, 4)
	for i := range w {
		if w[i][0] != w2[i][0] || w[i][1] != w2[i][1] {
			t.Fatal("SobolW not deterministic")
		}
	}
	if SobolW(0, 4, 1) != nil || SobolW(2, 0, 1) != nil {
		t.Error("invalid SobolW arguments did not return nil")
	}
}
