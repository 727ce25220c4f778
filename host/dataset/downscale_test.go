package dataset

import (
	"math"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// TestDownscale: block means (edge blocks over what they cover), sizes
// rounded up, f = 1 a copy, segments mapped centre to centre and back.
func TestDownscale(t *testing.T) {
	g := imgbuf.NewGray(5, 3)
	for i := range g.Pix {
		g.Pix[i] = uint8(10 * i)
	}
	d, err := Downscale(g, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Rows 0-1 then row 2; columns 0-1, 2-3, 4.
	want := []uint8{
		(0 + 10 + 50 + 60 + 2) / 4, (20 + 30 + 70 + 80 + 2) / 4, (40 + 90 + 1) / 2,
		(100 + 110 + 1) / 2, (120 + 130 + 1) / 2, 140,
	}
	if d.W != 3 || d.H != 2 || string(d.Pix) != string(want) {
		t.Errorf("Downscale(5x3, 2) = %dx%d %v, want 3x2 %v", d.W, d.H, d.Pix, want)
	}
	if c, _ := Downscale(g, 1); string(c.Pix) != string(g.Pix) || &c.Pix[0] == &g.Pix[0] {
		t.Error("factor 1 is not a copy")
	}
	for _, f := range []int{0, 65} {
		if _, err := Downscale(g, f); !errs.Is(err, errs.BadArg) {
			t.Errorf("factor %d: %v", f, err)
		}
	}
	s := []imgbuf.Segment{{X1: 1.5, Y1: 3.5, X2: 7.5, Y2: 0}}
	ds := DownscaleSegments(s, 4)
	if ds[0] != (imgbuf.Segment{X1: 0, Y1: 0.5, X2: 1.5, Y2: -0.375}) {
		t.Errorf("DownscaleSegments: %+v", ds[0])
	}
	back := UpscaleSegments(ds, 4)[0]
	if math.Abs(back.X1-1.5)+math.Abs(back.Y1-3.5)+math.Abs(back.X2-7.5)+math.Abs(back.Y2) > 1e-12 {
		t.Errorf("UpscaleSegments(DownscaleSegments) = %+v", back)
	}
}
