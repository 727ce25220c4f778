package problems

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"bohost/host/risk"
	"bohost/host/testsupport"
)

func TestHartmann6(t *testing.T) {
	xopt := []float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}
	if v := Hartmann6(xopt); math.Abs(v-3.32237) > 1e-5 {
		t.Errorf("Hartmann6(x*) = %v, want 3.32237", v)
	}
	p := Hart6Env()
	// w = 0.5 is no shift; w_1 moves x_4 and w_2 moves x_1 by 0.3 (w - 0.5).
	if v := p.F(xopt, []float64{0.5, 0.5}); v != Hartmann6(xopt) {
		t.Errorf("F(x*, 0.5) = %v, want Hartmann6(x*) = %v", v, Hartmann6(xopt))
	}
	z := append([]float64(nil), xopt...)
	z[4] += 0.3 * 0.4
	z[1] += 0.3 * -0.3
	if v, want := p.F(xopt, []float64{0.9, 0.2}), Hartmann6(z); v != want {
		t.Errorf("F(x*, (0.9, 0.2)) = %v, want %v", v, want)
	}
}

func TestBranin(t *testing.T) {
	p := BraninTutorial()
	for _, m := range [][2]float64{{-math.Pi, 12.275}, {math.Pi, 2.275}, {9.42478, 2.475}} {
		v := p.F([]float64{(m[0] + 5) / 15}, []float64{m[1] / 15})
		if math.Abs(v+0.397887) > 1e-5 {
			t.Errorf("-Branin at %v = %v, want -0.397887", m, v)
		}
	}
}

func TestWGrid(t *testing.T) {
	g := WGrid(2, 4)
	if len(g) != 16 || g[0][0] != 0.125 || g[0][1] != 0.125 || g[1][1] != 0.375 || g[4][0] != 0.375 || g[15][1] != 0.875 {
		t.Errorf("WGrid(2, 4) = %v", g)
	}
}

// TestBestValues: TrueCVaR at the stored maximisers gives the stored values
// (hard-coded copy of the anchors), and small moves do not beat them.
func TestBestValues(t *testing.T) {
	for _, b := range bestTable {
		p := map[string]Problem{"hart6": Hart6Env(), "tutorial": BraninTutorial()}[b.name]
		v := TrueCVaR(p, b.x, b.alpha, b.conv, GridPerDim(b.name))
		if math.Abs(v-b.value) > 1e-10*math.Abs(b.value) {
			t.Errorf("%s alpha=%v: TrueCVaR(x*) = %.15g, stored %.15g", b.name, b.alpha, v, b.value)
		}
		for j := range b.x {
			for _, h := range []float64{-2e-3, 2e-3} {
				x := append([]float64(nil), b.x...)
				x[j] = math.Min(1, math.Max(0, x[j]+h))
				if w := TrueCVaR(p, x, b.alpha, b.conv, GridPerDim(b.name)); w > b.value+1e-6 {
					t.Errorf("%s alpha=%v: moving x[%d] by %v gives %v > best %v", b.name, b.alpha, j, h, w, b.value)
				}
			}
		}
		if got, ok := BestTrueCVaR(b.name, b.alpha, b.conv); !ok || got != b.value {
			t.Errorf("BestTrueCVaR(%s, %v) = %v, %v", b.name, b.alpha, got, ok)
		}
	}
	// The nominal Hartmann optimum is a trap: its CVaR is well below the best.
	xopt := []float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}
	if v := TrueCVaR(Hart6Env(), xopt, 0.3, risk.BoTorch, 64); v > 2.9486768852637733-0.1 {
		t.Errorf("CVaR at the nominal optimum %v is not ~0.1 below the robust peak", v)
	}
	if _, ok := BestTrueCVaR("hart6", 0.7, risk.BoTorch); ok {
		t.Error("BestTrueCVaR reported a value for botorch alpha 0.7 on hart6, which is not stored")
	}
	// bohost's worst 50 % is close to, and never above, BoTorch's CVaR(0.5),
	// which rounds the tail up (one extra sample out of 4096 here).
	b5, _ := BestTrueCVaR("hart6", 0.5, risk.Bohost)
	t5, _ := BestTrueCVaR("hart6", 0.5, risk.BoTorch)
	if b5 > t5 || t5-b5 > 1e-3 {
		t.Errorf("hart6 best at worst 50%%: bohost %v, botorch %v", b5, t5)
	}
	if !math.IsNaN(TrueCVaR(Hart6Env(), []float64{0.5}, 0.3, risk.BoTorch, 64)) {
		t.Error("TrueCVaR with a wrong-length x is not NaN")
	}
}

// TestBestTable checks the hard-coded table against the shared anchors file.
func TestBestTable(t *testing.T) {
	path := testsupport.Require(t, "anchors", "botorch", "true_cvar_best.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]struct {
		X      []float64 `json:"x"`
		Value  float64   `json:"value"`
		NWTrue int       `json:"n_w_true"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	for _, b := range bestTable {
		if b.conv != risk.BoTorch {
			continue // computed by bohost, not in the anchors
		}
		dw := map[string]int{"hart6": 2, "tutorial": 1}[b.name]
		key := fmt.Sprintf("%s_dw%d_a%v", b.name, dw, b.alpha)
		e, ok := file[key]
		if !ok {
			t.Errorf("%s missing from %s", key, path)
			continue
		}
		if e.Value != b.value || len(e.X) != len(b.x) || e.NWTrue != 4096 {
			t.Errorf("%s: file %+v, table %v %v", key, e, b.value, b.x)
		}
		for i := range e.X {
			if e.X[i] != b.x[i] {
				t.Errorf("%s: x[%d] file %v, table %v", key, i, e.X[i], b.x[i])
			}
		}
	}
}

func BenchmarkTrueCVaRHart6(b *testing.B) {
	x, _ := BestTrueX("hart6", 0.3, risk.BoTorch)
	p := Hart6Env()
	for b.Loop() {
		TrueCVaR(p, x, 0.3, risk.BoTorch, 64)
	}
}
