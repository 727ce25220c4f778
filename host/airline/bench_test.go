package airline

import (
	"context"
	"testing"

	"bohost/host/imgbuf"
)

func benchDetect(b *testing.B, opts Options, img *imgbuf.Gray) {
	e, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		segs, err := e.Detect(ctx, nil, img)
		if err != nil {
			b.Fatal(err)
		}
		n = len(segs)
	}
	b.ReportMetric(float64(n), "lines")
}

// BenchmarkDetect640x480 times the default airline8 pipeline (two presets and
// fusion) on a cluttered synthetic 640x480 scene; the goal is at most twice
// OpenCV LSD's single-threaded time on the same image (~30-60 ms).
func BenchmarkDetect640x480(b *testing.B) {
	benchDetect(b, Options{}, scene(640, 480, 40, 1))
}

// BenchmarkDetect640x480NoEdgeCache is the same without the edge-map cache:
// what the first x on an image costs (BenchmarkDetect640x480 repeats one
// image, as a sweep scores every x on the same images, so its edge map
// comes from the cache).
func BenchmarkDetect640x480NoEdgeCache(b *testing.B) {
	benchDetect(b, Options{EdgeCacheBytes: -1}, scene(640, 480, 40, 1))
}

// BenchmarkDetectYorkUrban times the default pipeline on the first York Urban
// image (OpenCV 4.6 LSD, single-threaded, took 37.7 ms on it on the 2-core
// development machine).
func BenchmarkDetectYorkUrban(b *testing.B) {
	s, ok := yorkSet(b, "", 1)
	if !ok {
		b.Skip("York Urban not found (set BOHOST_SHARED); skipping")
	}
	benchDetect(b, Options{}, s.imgs[0])
}

func BenchmarkDetect640x480Classical(b *testing.B) {
	benchDetect(b, Options{Space: SpaceClassical}, scene(640, 480, 40, 1))
}

func BenchmarkClassicalEdges640x480(b *testing.B) {
	img := scene(640, 480, 40, 1)
	out := make([]float32, 640*480)
	var eb edgeBufs
	eb.grow(640 * 480)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		edgesInto(out, &eb, img.Pix, 640, 480, EdgeParams{Sigma: 1, NMS: true})
	}
}

func BenchmarkOrientation640x480(b *testing.B) {
	img := scene(640, 480, 40, 1)
	e := ClassicalEdges(img, EdgeParams{Sigma: 1})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Orientation(e, 6, 9)
	}
}
