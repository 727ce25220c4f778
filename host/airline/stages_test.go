package airline

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bohost/host/imgbuf"
)

func ones(k []float32, K int) [][2]int {
	var p [][2]int
	for j, v := range k {
		if v != 0 {
			p = append(p, [2]int{j % K, j / K}) // (x, y)
		}
	}
	return p
}

// TestKernelBank compares the bank with OpenCV 4.6's cv2.line output for
// several (T, K, half-length) settings (testdata/kernels_opencv46.cpp made
// testdata/kernels_opencv46.txt): exact equality of the set pixels.
func TestKernelBank(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "kernels_opencv46.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	checked := 0
	for i := 0; i < len(lines); {
		var T, K, half int
		if _, err := fmt.Sscanf(lines[i], "T=%d K=%d half=%d", &T, &K, &half); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		kb := KernelBank(T, K, half)
		for k := 0; k < T; k++ {
			want := strings.TrimSuffix(lines[i+1+k], ",")
			var got []string
			for j, v := range kb[k] {
				if v != 0 {
					got = append(got, strconv.Itoa(j))
				}
			}
			if g := strings.Join(got, ","); g != want {
				t.Errorf("T=%d K=%d half=%d kernel %d: got pixels %s, OpenCV %s", T, K, half, k, g, want)
			}
			checked++
		}
		i += 1 + T
	}
	if checked < 200 {
		t.Fatalf("checked only %d kernels", checked)
	}
	// Upstream bank (T = 6, K = 9, half-length 50): every kernel has 9 ones (notes §2).
	for i, k := range KernelBank(6, 9, 50) {
		if n := len(ones(k, 9)); n != 9 {
			t.Errorf("kernel %d has %d ones, want 9", i, n)
		}
	}
	if KernelBank(0, 9, 50) != nil || KernelBank(6, 0, 50) != nil || KernelBank(6, 9, -1) != nil {
		t.Error("invalid bank arguments must give nil")
	}
}

func TestBlurSobel(t *testing.T) {
	const tol = 1e-3
	g := uniform(13, 7, 77)
	b := Blur(g, 1.3)
	for i, v := range b.Pix {
		if math.Abs(float64(v)-77) > tol {
			t.Fatalf("blur of a constant image: pixel %d = %g, want 77 ± %g", i, v, tol)
		}
	}
	_, _, mag := Sobel(b)
	for i, v := range mag.Pix {
		if math.Abs(float64(v)) > tol {
			t.Fatalf("Sobel of a constant image: pixel %d = %g, want 0", i, v)
		}
	}
	// A horizontal ramp of slope 2 has gx = 8*2 = 16 and gy = 0 in the interior.
	r := imgbuf.NewFloat(10, 6)
	for y := 0; y < 6; y++ {
		for x := 0; x < 10; x++ {
			r.Pix[y*10+x] = float32(2 * x)
		}
	}
	gx, gy, _ := Sobel(r)
	for y := 0; y < 6; y++ {
		for x := 1; x < 9; x++ {
			if gx.At(x, y) != 16 || gy.At(x, y) != 0 {
				t.Fatalf("ramp at (%d,%d): gx %g gy %g, want 16, 0", x, y, gx.At(x, y), gy.At(x, y))
			}
		}
	}
	// Reflect-101 at the border: gx = 0 at x = 0 (the mirror of x = 1 equals x = 1).
	if gx.At(0, 2) != 0 {
		t.Errorf("gx at the left border = %g, want 0 (reflect-101)", gx.At(0, 2))
	}
	// The kernel is OpenCV's automatic size and sums to 1.
	for _, s := range []float64{0.5, 1, 2.5} {
		k := GaussianKernel(s)
		var sum float64
		for _, v := range k {
			sum += float64(v)
		}
		if want := int(math.Round(6*s+1)) | 1; len(k) != want || math.Abs(sum-1) > 1e-6 {
			t.Errorf("sigma %g: len %d sum %g, want len %d sum 1", s, len(k), sum, want)
		}
	}
	if Blur(nil, 1) != nil || Blur(&imgbuf.Gray{W: 3, H: 3}, 1) != nil {
		t.Error("invalid images must give nil")
	}
}

func TestClassicalEdgesLogit(t *testing.T) {
	// A vertical step 50 -> 150 without blur: Sobel magnitude 4*100 = 400 on
	// the two columns beside the step; NMS keeps the right one (m > left, m >= right).
	g := imgbuf.NewGray(12, 8)
	for y := 0; y < 8; y++ {
		for x := 0; x < 12; x++ {
			g.Pix[y*12+x] = 50
			if x >= 6 {
				g.Pix[y*12+x] = 150
			}
		}
	}
	e := ClassicalEdges(g, EdgeParams{Sigma: 0, NMS: true})
	want := float32(4 * math.Log(400.0/100))
	for y := 1; y < 7; y++ {
		for x := 0; x < 12; x++ {
			v := e.At(x, y)
			if (x == 5) != (v > -30) {
				t.Fatalf("row %d: column %d logit %g; want only column 5 kept", y, x, v)
			}
			if x == 5 && math.Abs(float64(v-want)) > 1e-4 {
				t.Fatalf("logit %g, want 4 ln(400/100) = %g", v, want)
			}
		}
	}
	// Hysteresis with High above 400 removes everything.
	e = ClassicalEdges(g, EdgeParams{Sigma: 0, NMS: true, Low: 100, High: 500})
	for i, v := range e.Pix {
		if v != -30 {
			t.Fatalf("pixel %d kept (%g) although no magnitude exceeds High", i, v)
		}
	}
}

func TestOrientation(t *testing.T) {
	const tol = 1e-5
	// A horizontal line of high logits on a floor: channel 0 (0°) dominates.
	f := imgbuf.NewFloat(30, 20)
	for i := range f.Pix {
		f.Pix[i] = -30
	}
	for x := 0; x < 30; x++ {
		f.Pix[10*30+x] = 5
	}
	T := 6
	d := Orientation(f, T, 9)
	if len(d) != 30*20*T {
		t.Fatalf("len %d, want %d", len(d), 30*20*T)
	}
	for p := 0; p < 30*20; p++ {
		v := d[p*T : p*T+T]
		var s, n2 float64
		for _, c := range v {
			s += float64(c)
			n2 += float64(c) * float64(c)
		}
		if math.Abs(s) > tol || (n2 != 0 && math.Abs(n2-1) > tol) {
			t.Fatalf("pixel %d: sum %g norm² %g, want 0 and 0 or 1", p, s, n2)
		}
	}
	c := d[(10*30+15)*T : (10*30+15)*T+T]
	for i := 1; i < T; i++ {
		if !(c[0] > c[i]) {
			t.Fatalf("descriptor on a horizontal line %v: channel 0 not the largest", c)
		}
	}
	// Far from the line every kernel sees only the floor: D = 0.
	if z := d[(5*30+15)*T : (5*30+15)*T+T]; z[0] != 0 || z[3] != 0 {
		t.Fatalf("descriptor on a flat floor %v, want 0", z)
	}
	if Orientation(f, 1, 9) != nil || Orientation(f, 6, 8) != nil || Orientation(nil, 6, 9) != nil {
		t.Error("invalid arguments must give nil")
	}
}
