package sobol

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"bohost/host/errs"
)

// TestNewTorchMatchesTorch compares NewTorch with points torch 1.13's
// SobolEngine(dim, scramble=True, seed=seed) drew (testdata/torch_sobol.py),
// exactly, including a seed above 2^32 (torch keeps its low 32 bits).
func TestNewTorchMatchesTorch(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/torch_sobol.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		MaxBit int `json:"maxbit"`
		Cases  []struct {
			Dim    int         `json:"dim"`
			Seed   uint64      `json:"seed"`
			N      int         `json:"n"`
			Points [][]float64 `json:"points"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("testdata/torch_sobol.json: %v", err)
	}
	if ref.MaxBit != TorchBits || len(ref.Cases) == 0 {
		t.Fatalf("fixture: maxbit %d, %d cases", ref.MaxBit, len(ref.Cases))
	}
	for _, c := range ref.Cases {
		s, err := NewTorch(c.Dim, c.Seed)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Draw(c.N)
		for i, row := range c.Points {
			for j, want := range row {
				if got[i][j] != want {
					t.Fatalf("dim %d seed %d: point %d coord %d = %v, torch %v", c.Dim, c.Seed, i, j, got[i][j], want)
				}
			}
		}
		// Seek lands on the same points as drawing.
		for _, i := range []int{0, 1, c.N / 2, c.N - 1} {
			s.Seek(uint64(i))
			p := s.Next(nil)
			for j, want := range c.Points[i] {
				if p[j] != want {
					t.Fatalf("dim %d seed %d: Seek(%d) coord %d = %v", c.Dim, c.Seed, i, j, p[j])
				}
			}
		}
	}
}

func TestNewTorchErrors(t *testing.T) {
	t.Parallel()
	for _, d := range []int{0, TorchMaxDim + 1} {
		_, err := NewTorch(d, 0)
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.BadArg {
			t.Fatalf("dim %d: want bad_arg, got %v", d, err)
		}
	}
}

func TestNewTorchExhausted(t *testing.T) {
	t.Parallel()
	s, _ := NewTorch(2, 1)
	defer func() {
		if recover() == nil {
			t.Fatal("Seek past 2^30 points did not panic")
		}
	}()
	s.Seek(1 << TorchBits)
}
