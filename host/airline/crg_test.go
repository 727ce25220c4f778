package airline

import (
	"context"
	"math"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

func TestVoteEndpoints(t *testing.T) {
	// A vertical run x = 5, y = 6, 6, 5, ..., 0 in growth order (the seed is
	// stored twice, AirLine's quirk). Centroid y = 27/8 = 3.375. The first
	// pixel sets v toward -y, so pmax = 2.625 (y = 6 side) and nmax = 3.375
	// (y = 0 side); then v_y < 0 is negated without swapping the radii, so
	// AirLine's endpoints are y = 3.375 - 2.625 = 0.75 and 3.375 + 3.375 =
	// 6.75: shifted by 0.75 from the true extent 0..6, which FixEndpoints gives.
	const w = 10
	region := []int32{6*w + 5, 6*w + 5, 5*w + 5, 4*w + 5, 3*w + 5, 2*w + 5, 1*w + 5, 0*w + 5}
	const tol = 1e-5
	for _, c := range []struct {
		fix    bool
		y1, y2 float64
	}{{false, 0.75, 6.75}, {true, 0, 6}} {
		ln, ok := vote(region, w, CRGParams{StraightStride: 3, FixEndpoints: c.fix})
		if !ok || math.Abs(ln.Y1-c.y1) > tol || math.Abs(ln.Y2-c.y2) > tol || ln.X1 != 5 || ln.X2 != 5 {
			t.Errorf("fix=%v: got %+v, want x = 5, y from %g to %g", c.fix, ln, c.y1, c.y2)
		}
		if math.Abs(ln.Straightness-100) > 1e-3 {
			t.Errorf("straightness of a straight run: %g, want 100", ln.Straightness)
		}
	}
	// All pixels on the centroid: no direction (upstream would emit NaN).
	if _, ok := vote([]int32{11, 11, 11}, w, CRGParams{StraightStride: 3}); ok {
		t.Error("degenerate region accepted")
	}
}

// lineDesc builds a mask and a descriptor for the given pixels, all with the
// same unit descriptor (channel ch = 1).
func lineDesc(w, h, t int, pix [][2]int, ch int) ([]uint8, []float32) {
	mask := make([]uint8, w*h)
	desc := make([]float32, w*h*t)
	for _, p := range pix {
		i := p[1]*w + p[0]
		mask[i] = 1
		desc[i*t+ch] = 1
	}
	return mask, desc
}

func TestCRGRegion(t *testing.T) {
	// A horizontal run of 30 pixels: one region of 31 stored pixels (the seed twice).
	var pix [][2]int
	for x := 4; x < 34; x++ {
		pix = append(pix, [2]int{x, 6})
	}
	mask, desc := lineDesc(40, 12, 6, pix, 0)
	lines, st, err := CRG(mask, desc, 40, 12, 6, CRGParams{SeedStride: 1})
	if err != nil || len(lines) != 1 || lines[0].Pixels != 31 || st.Seeds != 1 {
		t.Fatalf("lines %+v stats %+v err %v; want one region of 31 pixels", lines, st, err)
	}
	if !segNear(lines[0].Segment, imgbuf.Segment{X1: 4, Y1: 6, X2: 33, Y2: 6}, 1) {
		t.Errorf("segment %+v, want (4,6)-(33,6) within 1 px", lines[0].Segment)
	}
	// Too small (count 31 <= 31) and too large (MaxRegionPx 20) are dropped and counted.
	if l, st, _ := CRG(mask, desc, 40, 12, 6, CRGParams{SeedStride: 1, PixelNumThresh: 31}); len(l) != 0 || st.DroppedSmall != 1 {
		t.Errorf("PixelNumThresh 31: %d lines, %+v", len(l), st)
	}
	// The capped region's pixels stay consumed; the rest of the run (not yet
	// reached when the cap hit) seeds a second, accepted region, as upstream.
	if l, st, _ := CRG(mask, desc, 40, 12, 6, CRGParams{SeedStride: 1, MaxRegionPx: 20}); len(l) != 1 || st.DroppedLarge != 1 || l[0].Pixels >= 20 {
		t.Errorf("MaxRegionPx 20: %+v, %+v", l, st)
	}
	// Orthogonal descriptors never join: cos = 0 < SimThresh.
	mask2, desc2 := lineDesc(40, 12, 6, pix, 0)
	for x := 4; x < 34; x += 2 {
		i := 6*40 + x
		desc2[i*6], desc2[i*6+3] = 0, 1
	}
	if l, _, _ := CRG(mask2, desc2, 40, 12, 6, CRGParams{SeedStride: 1}); len(l) != 0 {
		t.Errorf("alternating orthogonal descriptors grew %d regions", len(l))
	}
}

func TestCRGTruncates(t *testing.T) {
	// 12 separate horizontal runs; MaxSegments 5 stops cleanly and says so.
	var pix [][2]int
	for r := 0; r < 12; r++ {
		for x := 3; x < 30; x++ {
			pix = append(pix, [2]int{x, 3 + 3*r})
		}
	}
	mask, desc := lineDesc(40, 42, 6, pix, 0)
	l, st, err := CRG(mask, desc, 40, 42, 6, CRGParams{SeedStride: 1, MaxSegments: 5})
	if err != nil || len(l) != 5 || !st.Truncated {
		t.Errorf("got %d lines, truncated %v, err %v; want 5, true", len(l), st.Truncated, err)
	}
	l, st, _ = CRG(mask, desc, 40, 42, 6, CRGParams{SeedStride: 1})
	if len(l) != 12 || st.Truncated {
		t.Errorf("unlimited: %d lines, truncated %v; want 12, false", len(l), st.Truncated)
	}
}

func TestCRGValidation(t *testing.T) {
	for _, c := range []struct {
		w, h, t int
		mask    []uint8
		desc    []float32
		p       CRGParams
		want    string
	}{
		{0, 5, 6, nil, nil, CRGParams{}, "image size"},
		{5, 5, 0, make([]uint8, 25), nil, CRGParams{}, "descriptor length"},
		{5, 5, 6, make([]uint8, 24), make([]float32, 150), CRGParams{}, "mask has 24"},
		{5, 5, 6, make([]uint8, 25), make([]float32, 149), CRGParams{}, "desc has 149"},
		{5, 5, 6, make([]uint8, 25), make([]float32, 150), CRGParams{SimThresh: math.NaN()}, "SimThresh"},
		{5, 5, 6, make([]uint8, 25), make([]float32, 150), CRGParams{Border: -1}, "Border -1"},
	} {
		_, _, err := CRG(c.mask, c.desc, c.w, c.h, c.t, c.p)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want bad_arg with %q, got %v", c.want, err)
		}
	}
}

// FuzzCRG feeds arbitrary masks and descriptors (NaN and Inf included) and
// parameters to CRG: it must never panic and every segment must be finite and
// every count consistent.
func FuzzCRG(f *testing.F) {
	f.Add(uint8(9), uint8(7), uint8(6), uint8(2), float32(0.8), int16(3), []byte("\x01\x02\xff\x00\x10\x20\x30\x40\x55"))
	f.Add(uint8(1), uint8(1), uint8(2), uint8(1), float32(-1), int16(0), []byte{1})
	f.Add(uint8(40), uint8(3), uint8(3), uint8(1), float32(0.5), int16(-5), []byte{0xff, 0xfe, 0x7f})
	f.Fuzz(func(t *testing.T, w8, h8, t8, stride uint8, sim float32, minPx int16, data []byte) {
		w, h, tt := int(w8%64)+1, int(h8%64)+1, int(t8%12)+1
		n := w * h
		mask := make([]uint8, n)
		desc := make([]float32, n*tt)
		for i := range mask {
			if len(data) > 0 {
				mask[i] = data[i%len(data)] & 1
			}
		}
		for i := range desc {
			if len(data) > 0 {
				b := data[(i*7+3)%len(data)]
				switch b {
				case 0xff:
					desc[i] = float32(math.NaN())
				case 0xfe:
					desc[i] = float32(math.Inf(1))
				default:
					desc[i] = float32(int(b)-128) / 64
				}
			}
		}
		if math.IsNaN(float64(sim)) || math.IsInf(float64(sim), 0) {
			sim = 0.5
		}
		p := CRGParams{SimThresh: float64(sim), PixelNumThresh: int(minPx), SeedStride: int(stride%4) + 1, MaxRegionPx: 50, MaxSegments: 20}
		lines, st, err := CRG(mask, desc, w, h, tt, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > 20 || st.Accepted != len(lines) || st.Seeds != st.Accepted+st.DroppedSmall+st.DroppedLarge+st.Degenerate {
			t.Fatalf("inconsistent: %d lines, %+v", len(lines), st)
		}
		for _, l := range lines {
			if l.Pixels >= 50 {
				t.Fatalf("region of %d pixels over MaxRegionPx", l.Pixels)
			}
		}
	})
}

// FuzzDetect runs the whole pipeline on arbitrary small images and points
// of the space (in and out of bounds): no panic, only bad_arg errors, finite
// segments.
func FuzzDetect(f *testing.F) {
	f.Add(uint8(16), uint8(12), []byte("\x00\xff\x00\xff\x80\x10"), 0.0, 0.0, 0.0, false)
	f.Add(uint8(1), uint8(1), []byte{7}, -1.0, 1.0, 0.5, true)
	f.Add(uint8(3), uint8(50), []byte{0, 0, 255, 255}, 1.0, -1.0, 1.0, false)
	e8, _ := New(Options{})
	ec, _ := New(Options{Space: SpaceClassical, FixEndpoints: true})
	f.Fuzz(func(t *testing.T, w8, h8 uint8, data []byte, a, b, c float64, classical bool) {
		w, h := int(w8%80)+1, int(h8%60)+1
		img := imgbuf.NewGray(w, h)
		for i := range img.Pix {
			if len(data) > 0 {
				img.Pix[i] = data[(i*31+i/w)%len(data)]
			}
		}
		e := e8
		if classical {
			e = ec
		}
		sp := e.Space()
		x := make([]float64, len(sp))
		for i, p := range sp {
			u := []float64{a, b, c}[i%3]
			if i%2 == 1 {
				u = 1 - u
			}
			x[i] = p.Lo + u*(p.Hi-p.Lo) // u outside [0, 1] exercises validation
		}
		segs, err := e.Detect(context.Background(), x, img)
		if err != nil {
			if !errs.Is(err, errs.BadArg) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, s := range segs {
			if !finiteSeg(s) {
				t.Fatalf("non-finite segment %v", s)
			}
		}
	})
}
