package cv

import (
	"testing"

	"bohost/host/imgbuf"
)

// benchImage is a 640×480 scene of nested rectangles with mild texture.
func benchImage() *imgbuf.Gray {
	g := imgbuf.NewGray(640, 480)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			v := 40 + (x*7+y*13)%11
			for k := 0; k < 6; k++ {
				if x >= 40+k*45 && x < 600-k*45 && y >= 30+k*35 && y < 450-k*35 {
					v += 25
				}
			}
			g.Set(x, y, uint8(v))
		}
	}
	return g
}

func benchDetector(b *testing.B, run func(*imgbuf.Gray) ([]imgbuf.Segment, error)) {
	g := benchImage()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s, err := run(g)
		if err != nil {
			b.Fatal(err)
		}
		n = len(s)
	}
	b.ReportMetric(float64(n), "segments")
}

func BenchmarkLSD(b *testing.B) { benchDetector(b, LSD) }
func BenchmarkFLD(b *testing.B) { benchDetector(b, FLD) }
func BenchmarkHough(b *testing.B) {
	benchDetector(b, func(g *imgbuf.Gray) ([]imgbuf.Segment, error) { return Hough(g, HoughParams{}) })
}

// BenchmarkEdgeModelConv3 measures the DNN path's overhead (blob, forward,
// copy-out) with a one-layer 3×3 model at 640×480.
func BenchmarkEdgeModelConv3(b *testing.B) {
	p := writeModelB(b, convModel(3, 3, make([]float32, 27), 0, true))
	m, err := LoadEdgeModel(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	g := benchImage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Edges(g); err != nil {
			b.Fatal(err)
		}
	}
}
