package boxopt

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"bohost/host/errs"
)

func rosenbrock(x, g []float64) float64 {
	a, b := 1-x[0], x[1]-x[0]*x[0]
	if g != nil {
		g[0] = -2*a - 400*x[0]*b
		g[1] = 200 * b
	}
	return a*a + 100*b*b
}

// quad is an ill-conditioned coupled quadratic sum_i (i+1)(x_i - c_i)^2 +
// sum_i (x_i - c_i)(x_(i+1) - c_(i+1)).
func quad(c []float64) Func {
	return func(x, g []float64) float64 {
		var f float64
		n := len(x)
		if g != nil {
			clear(g)
		}
		for i := range n {
			d := x[i] - c[i]
			f += float64(i+1) * d * d
			if g != nil {
				g[i] += 2 * float64(i+1) * d
			}
			if i+1 < n {
				e := x[i+1] - c[i+1]
				f += d * e
				if g != nil {
					g[i] += e
					g[i+1] += d
				}
			}
		}
		return f
	}
}

func fdOnly(f Func) Func {
	return func(x, g []float64) float64 {
		if g != nil {
			panic("grad requested in FiniteDiff mode")
		}
		return f(x, nil)
	}
}

func TestMinimize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := []float64{0.3, -0.2, 0.7, 0.1, 0.5, 0.9, -0.4, 0.25}
	cases := []struct {
		name   string
		f      Func
		x0     []float64
		lo, hi []float64
		want   []float64
		tol    float64
	}{
		// Constrained Rosenbrock: x <= 0.5 holds the optimum at (0.5, 0.25).
		{"rosenbrock box", rosenbrock, []float64{-1.2, 1}, []float64{-2, -1}, []float64{0.5, 3}, []float64{0.5, 0.25}, 1e-5},
		{"rosenbrock interior", rosenbrock, []float64{-1.2, 1}, []float64{-2, -1}, []float64{2, 3}, []float64{1, 1}, 1e-4},
		{"quadratic interior", quad(c), make([]float64, 8),
			fill(8, -1), fill(8, 1), c, 1e-5},
		// Optimum outside the box in three coordinates: the answer sits on bounds.
		{"quadratic on bounds", func(x, g []float64) float64 {
			t := []float64{2, -3, 0.5}
			var f float64
			for i := range x {
				f += (x[i] - t[i]) * (x[i] - t[i])
				if g != nil {
					g[i] = 2 * (x[i] - t[i])
				}
			}
			return f
		}, []float64{0, 0, 0}, []float64{-1, -1, -1}, []float64{1, 1, 1}, []float64{1, -1, 0.5}, 1e-6},
	}
	for _, tc := range cases {
		for _, fd := range []bool{false, true} {
			f := tc.f
			if fd {
				f = fdOnly(tc.f)
			}
			r, err := Minimize(ctx, f, tc.x0, tc.lo, tc.hi, &Settings{FiniteDiff: fd})
			if err != nil {
				t.Fatalf("%s fd=%v: %v", tc.name, fd, err)
			}
			for i := range tc.want {
				if math.Abs(r.X[i]-tc.want[i]) > tc.tol {
					t.Errorf("%s fd=%v: x = %v (status %s, %d iter), want %v ± %g", tc.name, fd, r.X, r.Status, r.Iter, tc.want, tc.tol)
					break
				}
			}
			for i := range r.X {
				if r.X[i] < tc.lo[i] || r.X[i] > tc.hi[i] {
					t.Errorf("%s fd=%v: x[%d] = %v outside the box", tc.name, fd, i, r.X[i])
				}
			}
			if !fd && r.Status != StatusGradTol && r.Status != StatusFTol {
				t.Errorf("%s: status %q after %d iterations, want gtol or ftol", tc.name, r.Status, r.Iter)
			}
			t.Logf("%s fd=%v: %s after %d iterations, %d evals", tc.name, fd, r.Status, r.Iter, r.Evals)
			if fx := tc.f(r.X, nil); fx != r.F {
				t.Errorf("%s fd=%v: Result.F = %v but f(X) = %v", tc.name, fd, r.F, fx)
			}
		}
	}
}

func fill(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// multimodal has many local minima on [-3, 3]^2.
func multimodal(x, g []float64) float64 {
	f := math.Sin(3*x[0]) + math.Cos(3*x[1]) + 0.1*(x[0]*x[0]+x[1]*x[1]) + 0.05*x[0]*x[1]
	if g != nil {
		g[0] = 3*math.Cos(3*x[0]) + 0.2*x[0] + 0.05*x[1]
		g[1] = -3*math.Sin(3*x[1]) + 0.2*x[1] + 0.05*x[0]
	}
	return f
}

func TestMultiStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lo, hi := []float64{-3, -3}, []float64{3, 3}
	// Dense grid reference for the global minimum.
	ref := math.Inf(1)
	for i := 0; i <= 600; i++ {
		for j := 0; j <= 600; j++ {
			ref = math.Min(ref, multimodal([]float64{-3 + 0.01*float64(i), -3 + 0.01*float64(j)}, nil))
		}
	}
	var first Result
	for k, w := range []int{1, 4, 3} {
		ms := MultiStart{RawSamples: 64, Restarts: 8, Seed: 5, Workers: w}
		r, err := ms.Minimize(ctx, multimodal, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		if r.F > ref+1e-9 {
			t.Errorf("workers=%d: best %v above the grid minimum %v", w, r.F, ref)
		}
		if k == 0 {
			first = r
			continue
		}
		if r.F != first.F || r.X[0] != first.X[0] || r.X[1] != first.X[1] || r.Evals != first.Evals || r.Iter != first.Iter {
			t.Errorf("workers=%d result %+v differs from workers=1 %+v", w, r, first)
		}
	}
	// A different seed still finds the global minimum.
	r, err := MultiStart{Seed: 99, Workers: 2, Settings: Settings{FiniteDiff: true}}.Minimize(ctx, fdOnly(multimodal), lo, hi)
	if err != nil || r.F > ref+1e-7 {
		t.Errorf("FD multistart: %v, %v; want <= %v", r.F, err, ref)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Minimize(ctx, rosenbrock, []float64{0, 0}, []float64{-2, -2}, []float64{2, 2}, nil); !errs.Is(err, errs.Canceled) {
		t.Errorf("Minimize on a cancelled context: %v, want canceled", err)
	}
	if _, err := (MultiStart{}).Minimize(ctx, rosenbrock, []float64{-2, -2}, []float64{2, 2}); !errs.Is(err, errs.Canceled) {
		t.Errorf("MultiStart on a cancelled context: %v, want canceled", err)
	}
	// Cancel in the middle of the local runs.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	var n atomic.Int64
	f := func(x, g []float64) float64 {
		if n.Add(1) == 200 {
			cancel2()
		}
		return rosenbrock(x, g)
	}
	r, err := MultiStart{Workers: 2}.Minimize(ctx2, f, []float64{-2, -2}, []float64{2, 2})
	if !errs.Is(err, errs.Canceled) || r.Status != StatusCancel {
		t.Errorf("cancelled mid-run: status %q, err %v; want canceled", r.Status, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		f      Func
		x0     []float64
		lo, hi []float64
		s      *Settings
		kind   string
		msg    string
	}{
		{"nil f", nil, []float64{0}, []float64{0}, []float64{1}, nil, errs.BadArg, "f must not be nil"},
		{"lo > hi", rosenbrock, []float64{0, 0}, []float64{0, 1}, []float64{1, 0}, nil, errs.BadArg, "lo[1] = 1, hi[1] = 0"},
		{"lengths", rosenbrock, []float64{0}, []float64{0, 0}, []float64{1, 1}, nil, errs.BadArg, "x0 must have len(lo) = 2"},
		{"NaN x0", rosenbrock, []float64{math.NaN(), 0}, []float64{0, 0}, []float64{1, 1}, nil, errs.BadArg, "x0[0] is NaN"},
		{"settings", rosenbrock, []float64{0, 0}, []float64{0, 0}, []float64{1, 1}, &Settings{GradTol: -1}, errs.BadArg, "GradTol"},
		{"NaN f", func(x, g []float64) float64 { return math.NaN() }, []float64{0}, []float64{0}, []float64{1}, nil, errs.Failed, "not finite"},
	} {
		_, err := Minimize(ctx, c.f, c.x0, c.lo, c.hi, c.s)
		if !errs.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want %s containing %q", c.name, err, c.kind, c.msg)
		}
	}
	if _, err := (MultiStart{Restarts: -1}).Minimize(ctx, rosenbrock, []float64{0}, []float64{1}); !errs.Is(err, errs.BadArg) {
		t.Errorf("negative Restarts: %v, want bad_arg", err)
	}
}

func BenchmarkMinimizeRosenbrock(b *testing.B) {
	for b.Loop() {
		Minimize(context.Background(), rosenbrock, []float64{-1.2, 1}, []float64{-2, -1}, []float64{2, 3}, nil)
	}
}
