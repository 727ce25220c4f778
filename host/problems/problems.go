package problems

import (
	"math"

	"bohost/host/risk"
)

// Problem is a maximisation benchmark f(x, w) on the unit cube, x in
// [0,1]^DimX, w in [0,1]^DimW with W ~ Uniform.
type Problem struct {
	Name       string
	DimX, DimW int
	F          func(x, w []float64) float64
}

var (
	h6Alpha = [4]float64{1.0, 1.2, 3.0, 3.2}
	h6A     = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	h6P = [4][6]float64{
		{1312e-4, 1696e-4, 5569e-4, 124e-4, 8283e-4, 5886e-4},
		{2329e-4, 4135e-4, 8307e-4, 3736e-4, 1004e-4, 9991e-4},
		{2348e-4, 1451e-4, 3522e-4, 2883e-4, 3047e-4, 6650e-4},
		{4047e-4, 8828e-4, 8732e-4, 5743e-4, 1091e-4, 381e-4},
	}
)

// ShiftScale is the size of hart6's environmental shift: z = x + ShiftScale (w - 0.5) U.
const ShiftScale = 0.3

// shiftDir[k] is the coordinate of x moved by w_k (rows e_4 and e_1 of U).
var shiftDir = [2]int{4, 1}

// Hartmann6 is the positive Hartmann-6 function (maximum 3.32237 at
// (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)), defined on all
// of R^6.
func Hartmann6(z []float64) float64 {
	var f float64
	for i := range 4 {
		var inner float64
		for j := range 6 {
			d := z[j] - h6P[i][j]
			inner += h6A[i][j] * d * d
		}
		f += h6Alpha[i] * math.Exp(-inner)
	}
	return f
}

// Hart6Env is the anchors' "hart6" problem: f(x, w) = Hartmann6(x + 0.3 (w -
// 0.5) U) with U's rows e_4 and e_1 (0-based), x in [0,1]^6, w in [0,1]^2.
// The shifted point is not clipped. w_1 moves x_4, where the global peak is
// narrow, so the CVaR optimum is the broad peak, not the nominal optimum.
func Hart6Env() Problem {
	return Problem{Name: "hart6", DimX: 6, DimW: 2, F: func(x, w []float64) float64 {
		var z [6]float64
		copy(z[:], x)
		for k := range min(len(w), 2) {
			z[shiftDir[k]] += ShiftScale * (w[k] - 0.5)
		}
		return Hartmann6(z[:])
	}}
}

// Branin is BoTorch's Branin function on [-5, 10] × [0, 15] (minimum
// 0.397887).
func Branin(x1, x2 float64) float64 {
	const (
		a = 1.0
		r = 6.0
		s = 10.0
	)
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - r
	return a*u*u + s*(1-t)*math.Cos(x1) + s
}

// BraninTutorial is the anchors' "tutorial" problem, BoTorch's risk-averse
// tutorial: negated Branin on the unit square, x = dimension 0 (scaled to
// [-5, 10]) and w = dimension 1 (scaled to [0, 15]).
func BraninTutorial() Problem {
	return Problem{Name: "tutorial", DimX: 1, DimW: 1, F: func(x, w []float64) float64 {
		return -Branin(-5+15*x[0], 15*w[0])
	}}
}

// WGrid returns the midpoint grid on [0,1]^dw with perDim points per
// dimension ((i + 0.5)/perDim), in row-major order, as the anchors' w_grid.
func WGrid(dw, perDim int) [][]float64 {
	if dw < 1 || perDim < 1 {
		return nil
	}
	n := 1
	for range dw {
		n *= perDim
	}
	out := make([][]float64, n)
	back := make([]float64, n*dw)
	for i := range out {
		out[i] = back[i*dw : (i+1)*dw]
		r := i
		for j := dw - 1; j >= 0; j-- {
			out[i][j] = (float64(r%perDim) + 0.5) / float64(perDim)
			r /= perDim
		}
	}
	return out
}

// TrueCVaR is the CVaR of f(x, ·) over the midpoint grid WGrid(p.DimW,
// gridPerDim): the anchors' "true" CVaR uses 64 per dimension for hart6
// (4096 points) and 4096 for the 1-D tutorial. alpha and conv are read as in
// bohost/host/risk; the anchors' values are convention botorch. It returns
// NaN for x of the wrong length, gridPerDim < 1 or an invalid alpha or
// convention.
func TrueCVaR(p Problem, x []float64, alpha float64, conv risk.Convention, gridPerDim int) float64 {
	if len(x) != p.DimX || gridPerDim < 1 {
		return math.NaN()
	}
	grid := WGrid(p.DimW, gridPerDim)
	vals := make([]float64, len(grid))
	for i, w := range grid {
		vals[i] = p.F(x, w)
	}
	v, err := risk.CVaR(vals, alpha, conv)
	if err != nil {
		return math.NaN()
	}
	return v
}

// GridPerDim is the anchors' true-CVaR grid size per w dimension for a
// problem name (64 for hart6, 4096 for tutorial), 0 if unknown.
func GridPerDim(name string) int {
	switch name {
	case "hart6":
		return 64
	case "tutorial":
		return 4096
	}
	return 0
}

type best struct {
	name  string
	conv  risk.Convention
	alpha float64
	x     []float64
	value float64
}

// bestTable: the botorch rows are anchors/botorch/true_cvar_best.json
// (4096 w points; TestBestTable checks them against the file when present).
// The bohost rows were computed by bohost itself (TestRecomputeBest: Sobol
// multistart of 1024/256 raw points and projected L-BFGS on the same grid;
// the same procedure reproduces every botorch row to 1e-13).
var bestTable = []best{
	{"tutorial", risk.BoTorch, 0.7, []float64{0.24916313287032915}, -55.67887054174541},
	{"hart6", risk.BoTorch, 0.1, []float64{0.4046465152831277, 0.882372866451518, 0.8425421109334358,
		0.5739490528397142, 0.1358848247403101, 0.03854800371827104}, 2.9991474394067477},
	{"hart6", risk.BoTorch, 0.3, []float64{0.40464416213069687, 0.8823724138544304, 0.8412952556811102,
		0.5739337276877396, 0.13702056670256926, 0.03856758930450879}, 2.9486768852637733},
	{"hart6", risk.BoTorch, 0.5, []float64{0.40464094476594703, 0.8823343998691331, 0.8396034526673934,
		0.5739128240686877, 0.13855347281632044, 0.038594304580409855}, 2.884790902913513},
	{"tutorial", risk.Bohost, 0.1, []float64{0.2667681569044181}, -66.4876946150283},
	{"tutorial", risk.Bohost, 0.3, []float64{0.24914431389761402}, -55.6813432717561},
	{"tutorial", risk.Bohost, 0.5, []float64{0.23229743579496787}, -46.2650839431043},
	{"hart6", risk.Bohost, 0.1, []float64{0.4046325661225646, 0.882385604127349, 0.8353562183454205,
		0.5738612915664215, 0.14211378624502385, 0.038660451705801985}, 2.72223369337268},
	{"hart6", risk.Bohost, 0.3, []float64{0.404637210217403, 0.8823767049392569, 0.8375711723947972,
		0.5738880938395874, 0.14006119710581094, 0.03862596532851156}, 2.80880906833219},
	{"hart6", risk.Bohost, 0.5, []float64{0.40464092925682765, 0.8822867043649889, 0.8395952106642907,
		0.5739127150470019, 0.1384887332429009, 0.03859444706813473}, 2.88470380029956},
}

func lookup(name string, alpha float64, conv risk.Convention) (best, bool) {
	for _, b := range bestTable {
		if b.name == name && b.conv == conv && math.Abs(b.alpha-alpha) < 1e-12 {
			return b, true
		}
	}
	return best{}, false
}

// BestTrueCVaR returns the best achievable true CVaR (on the grid of
// TrueCVaR with GridPerDim(name)) for problem name at alpha under conv.
// Convention botorch: the anchors' values (anchors/botorch/true_cvar_best.json),
// "tutorial" at 0.7 and "hart6" at 0.1, 0.3 and 0.5, i.e. the worst 30 %, 90 %,
// 70 % and 50 %. Convention bohost: values computed by bohost, "tutorial" and
// "hart6" at 0.1, 0.3 and 0.5 (the worst 10 %, 30 %, 50 %, RU estimator).
// Other requests report false.
func BestTrueCVaR(name string, alpha float64, conv risk.Convention) (float64, bool) {
	b, ok := lookup(name, alpha, conv)
	return b.value, ok
}

// BestTrueX returns the maximiser stored with BestTrueCVaR (a copy).
func BestTrueX(name string, alpha float64, conv risk.Convention) ([]float64, bool) {
	b, ok := lookup(name, alpha, conv)
	if !ok {
		return nil, false
	}
	return append([]float64(nil), b.x...), true
}
