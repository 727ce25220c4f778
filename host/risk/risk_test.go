package risk

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"bohost/host/errs"
)

const tol = 1e-12

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func TestCVaRHandComputed(t *testing.T) {
	t.Parallel()
	v := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct {
		alpha float64
		conv  Convention
		cvar  float64
		vaR   float64
	}{
		{0.1, Bohost, 1, 1},                          // m = 0.5: worst case
		{0.2, Bohost, 1, 1},                          // m = 1
		{0.3, Bohost, 2.0 / 1.5, 2},                  // m = 1.5: (1 + 0.5*2)/1.5
		{0.4, Bohost, 1.5, 2},                        // m = 2
		{0.5, Bohost, 4.5 / 2.5, 3},                  // (1+2+0.5*3)/2.5
		{1, Bohost, 3, 5},                            // mean
		{0.5, BoTorch, 2, 3},                         // ceil(2.5)-1 = 2, k = 3
		{0.6, BoTorch, 2, 3},                         // 5*0.6 = 3: idx 2, k = 3
		{0.9, BoTorch, 1, 1},                         // ceil(4.5)-1 = 4, k = 1
		{0.1, BoTorch, (1 + 2 + 3 + 4 + 5) / 5.0, 5}, // ceil(0.5)-1 = 0, k = 5
	} {
		got, err := CVaR(v, c.alpha, c.conv)
		if err != nil || !near(got, c.cvar, tol) {
			t.Errorf("CVaR(alpha=%v, %s) = %v, %v; want %v", c.alpha, c.conv, got, err, c.cvar)
		}
		gv, err := VaR(v, c.alpha, c.conv)
		if err != nil || gv != c.vaR {
			t.Errorf("VaR(alpha=%v, %s) = %v, %v; want %v", c.alpha, c.conv, gv, err, c.vaR)
		}
	}
}

// TestBoTorchVectors is TestCVaR/TestVaR of BoTorch's test_risk_measures.py.
func TestBoTorchVectors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		y         []float64
		cvar, vaR float64
	}{
		{[]float64{1.0, 0.5, 2.0}, 0.75, 1.0},
		{[]float64{3.0, 1.0, 5.0}, 2.0, 3.0},
		{[]float64{-1.0, -0.5, -2.0}, -1.5, -1.0}, // weights=[-1] preprocessing
		{[]float64{-3.0, -1.0, -5.0}, -4.0, -3.0},
	} {
		if k, _ := Tail(3, 0.5, BoTorch); k != 2 { // alpha_idx == 1
			t.Fatalf("Tail(3, 0.5) = %d, want 2", k)
		}
		got, _ := CVaR(c.y, 0.5, BoTorch)
		if got != c.cvar {
			t.Errorf("CVaR(0.5, 3)(%v) = %v, want %v", c.y, got, c.cvar)
		}
		gv, _ := VaR(c.y, 0.5, BoTorch)
		if gv != c.vaR {
			t.Errorf("VaR(0.5, 3)(%v) = %v, want %v", c.y, gv, c.vaR)
		}
	}
}

// TestTailTables checks the k table of shared/notes/risk.md §4.
func TestTailTables(t *testing.T) {
	t.Parallel()
	alphas := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9}
	botorch := map[int][]int{
		3:  {3, 3, 3, 2, 2, 1, 1},
		10: {10, 9, 8, 7, 6, 4, 2},
		16: {15, 13, 12, 10, 9, 5, 2},
	}
	for n, want := range botorch {
		for i, a := range alphas {
			if k, frac := Tail(n, a, BoTorch); k != want[i] || frac != 0 {
				t.Errorf("Tail(%d, %v, botorch) = %d, %v; want %d, 0", n, a, k, frac, want[i])
			}
		}
	}
	ru := map[int][]float64{
		3:  {0.3, 0.6, 0.9, 1.2, 1.5},
		10: {1, 2, 3, 4, 5},
		16: {1.6, 3.2, 4.8, 6.4, 8},
	}
	for n, want := range ru {
		for i, a := range alphas[:5] {
			k, frac := Tail(n, a, Bohost)
			if !near(float64(k)+frac, want[i], 1e-12) || frac < 0 || frac >= 1 {
				t.Errorf("Tail(%d, %v, bohost) = %d + %v; want mass %v", n, a, k, frac, want[i])
			}
			if want[i] == math.Trunc(want[i]) && frac != 0 {
				t.Errorf("Tail(%d, %v, bohost): integer mass %v has frac %v", n, a, want[i], frac)
			}
		}
	}
}

// TestFloatTrap: BoTorch's ceil(n*alpha) on doubles; the bohost rule is exact.
func TestFloatTrap(t *testing.T) {
	t.Parallel()
	if k, _ := Tail(25, 0.28, BoTorch); k != 18 {
		t.Errorf("Tail(25, 0.28, botorch) = %d, want 18 (BoTorch's float behaviour)", k)
	}
	if k, frac := Tail(25, 0.28, Bohost); k != 7 || frac != 0 {
		t.Errorf("Tail(25, 0.28, bohost) = %d, %v; want 7, 0", k, frac)
	}
	// Enumerate n <= 128 on a 0.01 alpha grid: BoTorch's k differs from the
	// exact floor(n(1-alpha)) + 1 in exactly the 13 cases of the notes.
	want := map[[2]int]bool{
		{25, 28}: true, {25, 56}: true, {50, 14}: true, {50, 28}: true, {50, 56}: true,
		{75, 28}: true, {75, 56}: true, {75, 68}: true, {100, 7}: true, {100, 14}: true,
		{100, 28}: true, {100, 55}: true, {100, 56}: true,
	}
	got := 0
	for n := 1; n <= 128; n++ {
		for i := 1; i <= 100; i++ {
			a := float64(i) / 100
			exact := n*(100-i)/100 + 1
			k, _ := Tail(n, a, BoTorch)
			if k != exact {
				got++
				if !want[[2]int{n, i}] || k != exact-1 {
					t.Errorf("botorch k(%d, %v) = %d, exact %d: not a listed trap case", n, a, k, exact)
				}
			}
			// The bohost rule is exact: k + frac == n*i/100.
			kb, fb := Tail(n, a, Bohost)
			if num := n * i; (num%100 == 0) != (fb == 0) || kb != num/100 {
				t.Errorf("bohost Tail(%d, %v) = %d + %v; want %d/100", n, a, kb, fb, num)
			}
		}
	}
	if got != len(want) {
		t.Errorf("found %d BoTorch float-trap cases, want %d", got, len(want))
	}
	// At the trap BoTorch averages one value fewer.
	v := make([]float64, 25)
	for i := range v {
		v[i] = float64(i)
	}
	c, _ := CVaR(v, 0.28, BoTorch)
	if c != 8.5 { // mean of 0..17
		t.Errorf("CVaR(0.28, 25, botorch) = %v, want 8.5", c)
	}
	c, _ = CVaR(v, 0.28, Bohost)
	if c != 3 { // mean of 0..6
		t.Errorf("CVaR(0.28, 25, bohost) = %v, want 3", c)
	}
}

func TestMonotoneInAlpha(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 16, 64} {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		mean := Measure{Kind: KindMean}.Eval(v)
		worst := Measure{Kind: KindWorst}.Eval(v)
		prevB, prevT := math.Inf(-1), math.Inf(1)
		for i := 1; i <= 1000; i++ {
			a := float64(i) / 1000
			b, _ := CVaR(v, a, Bohost)
			bt, _ := CVaR(v, a, BoTorch)
			// Bohost averages more as alpha grows; BoTorch averages less.
			if b < prevB-1e-12 || bt > prevT+1e-12 {
				t.Fatalf("n=%d alpha=%v: not monotone (bohost %v after %v, botorch %v after %v)", n, a, b, prevB, bt, prevT)
			}
			if b < worst-1e-12 || b > mean+1e-12 || bt < worst-1e-12 || bt > mean+1e-12 {
				t.Fatalf("n=%d alpha=%v: CVaR outside [worst, mean]", n, a)
			}
			// BoTorch's rounding up is never more conservative than RU at 1-alpha.
			if a < 1 {
				ru, _ := CVaR(v, 1-a, Bohost)
				if bt < ru-1e-12 {
					t.Fatalf("n=%d alpha=%v: botorch %v < RU %v", n, a, bt, ru)
				}
			}
			prevB, prevT = b, bt
		}
		if b, _ := CVaR(v, 1, Bohost); !near(b, mean, 1e-12) {
			t.Errorf("n=%d: bohost CVaR(1) = %v, want mean %v", n, b, mean)
		}
	}
}

func TestWeights(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	measures := []Measure{{Kind: KindMean}, {Kind: KindWorst}}
	for _, a := range []float64{0.05, 0.1, 0.28, 0.3, 0.5, 0.7, 0.95, 1} {
		for _, c := range []Convention{Bohost, BoTorch} {
			measures = append(measures, Measure{KindCVaR, a, c}, Measure{KindVaR, a, c})
		}
	}
	const h = 1e-6
	for _, n := range []int{1, 3, 16, 25} {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64() * 10
		}
		for _, m := range measures {
			w := m.Weights(v, make([]float64, 1)) // deliberately too short dst
			if len(w) != n {
				t.Fatalf("%+v: len(Weights) = %d, want %d", m, len(w), n)
			}
			var dot, sum float64
			for i := range v {
				dot += w[i] * v[i]
				sum += w[i]
			}
			if e := m.Eval(v); !near(dot, e, 1e-12) || !near(sum, 1, 1e-12) {
				t.Errorf("%+v n=%d: sum w*v = %v, Eval = %v, sum w = %v", m, n, dot, e, sum)
			}
			// Central differences: the measure is piecewise linear in v, and
			// a step of 1e-6 does not reorder distinct random values.
			for i := range v {
				vp, vm := append([]float64(nil), v...), append([]float64(nil), v...)
				vp[i] += h
				vm[i] -= h
				fd := (m.Eval(vp) - m.Eval(vm)) / (2 * h)
				if math.Abs(fd-w[i]) > 1e-6 {
					t.Errorf("%+v n=%d: dEval/dv[%d] = %v by FD, Weights %v", m, n, i, fd, w[i])
				}
			}
		}
	}
	// Ties are broken by index.
	w := Measure{Kind: KindWorst}.Weights([]float64{2, 1, 1}, nil)
	if w[1] != 1 || w[2] != 0 {
		t.Errorf("worst-case weights with a tie = %v, want [0 1 0]", w)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		m    Measure
		want string // substring of the message, "" = valid
	}{
		{Measure{Kind: "cvar", Alpha: 0.3}, ""},
		{Measure{Kind: "var", Alpha: 1, Convention: BoTorch}, ""},
		{Measure{Kind: "mean"}, ""},
		{Measure{Kind: "cvar", Alpha: 0}, "alpha must be in (0, 1], got 0"},
		{Measure{Kind: "cvar", Alpha: 1.5}, "got 1.5"},
		{Measure{Kind: "var", Alpha: math.NaN()}, "got NaN"},
		{Measure{Kind: "cvar", Alpha: 0.3, Convention: "paper"}, "Convention must be"},
		{Measure{Kind: "cvar_ru", Alpha: 0.3}, "Kind must be one of"},
	} {
		err := c.m.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: unexpected error %v", c.m, err)
			}
			continue
		}
		if err == nil || !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want bad_arg containing %q", c.m, err, c.want)
		}
		if !math.IsNaN(c.m.Eval([]float64{1, 2})) {
			t.Errorf("%+v: Eval of an invalid measure is not NaN", c.m)
		}
	}
	if _, err := CVaR(nil, 0.3, Bohost); !errs.Is(err, errs.BadArg) {
		t.Errorf("CVaR(nil) error = %v, want bad_arg", err)
	}
	if _, err := VaR([]float64{1, math.NaN()}, 0.3, Bohost); err == nil || !strings.Contains(err.Error(), "values[1]") {
		t.Errorf("VaR with NaN error = %v, want one naming values[1]", err)
	}
	if _, err := CVaR([]float64{1}, 0.3, ""); !errs.Is(err, errs.BadArg) {
		t.Errorf("CVaR with empty convention error = %v, want bad_arg", err)
	}
}

func TestCheckAlphas(t *testing.T) {
	t.Parallel()
	sweep := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	for _, c := range []struct {
		conv    Convention
		nw      int
		want    []string // substrings that must appear among the warnings
		suggest int
	}{
		{Bohost, 3, []string{
			"alpha 0.1 at n_w = 3: alpha*n_w = 0.3 < 1",
			"alpha 0.3 at n_w = 3: alpha*n_w = 0.9 < 1",
			"alphas 0.1, 0.2, 0.3 give the same estimator at n_w = 3 (the worst case",
		}, 10},
		{BoTorch, 3, []string{
			"alphas 0.1, 0.2, 0.3 give the same estimator at n_w = 3 (the plain mean",
			"alphas 0.4, 0.5 give the same estimator at n_w = 3 (the mean of the 2 worst of 3",
			"alpha is the confidence level",
		}, 9},
		{Bohost, 16, nil, 10},
		{Bohost, 6, []string{"alpha 0.1 at n_w = 6"}, 10},
	} {
		warn, sug := CheckAlphas(sweep, c.nw, c.conv)
		all := strings.Join(warn, "\n")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s n_w=%d: warnings\n%s\nlack %q", c.conv, c.nw, all, w)
			}
		}
		if c.want == nil && len(warn) != 0 {
			t.Errorf("%s n_w=%d: unexpected warnings %q", c.conv, c.nw, warn)
		}
		if sug != c.suggest {
			t.Errorf("%s n_w=%d: suggestNW = %d, want %d", c.conv, c.nw, sug, c.suggest)
		}
		// The suggestion really separates, and nothing smaller does.
		if len(separation(sweep, sug, c.conv)) != 0 || len(separation(sweep, sug-1, c.conv)) == 0 {
			t.Errorf("%s: suggestNW %d is not the smallest separating n_w", c.conv, sug)
		}
	}
	warn, _ := CheckAlphas([]float64{0.3, 0.3, 2}, 10, Bohost)
	if all := strings.Join(warn, "\n"); !strings.Contains(all, "listed twice") || !strings.Contains(all, "alphas[2] = 2") {
		t.Errorf("duplicate/invalid alphas not reported: %q", warn)
	}
}

func BenchmarkCVaR(b *testing.B) {
	for _, n := range []int{16, 128, 4096} {
		v := make([]float64, n)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		m := Measure{Kind: KindCVaR, Alpha: 0.3}
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				m.Eval(v)
			}
		})
		b.Run("weights/n="+strconv.Itoa(n), func(b *testing.B) {
			w := make([]float64, n)
			for b.Loop() {
				m.Weights(v, w)
			}
		})
	}
}
