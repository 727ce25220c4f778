package airline

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

func synthImages(tb testing.TB, n, w, h int) ImageFunc {
	d, err := dataset.Synthetic(dataset.SynthOptions{N: n, Width: w, Height: h, Seed: 3, CacheImages: n})
	if err != nil {
		tb.Fatal(err)
	}
	return func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
		img, err := d.Image(i)
		return img, d.Item(i).Lines, err
	}
}

// EvalMany returns exactly the records of sequential Evals, in index order,
// for any number of workers (the fusion is deterministic for a seed).
func TestEvalManyMatchesEval(t *testing.T) {
	const n = 6
	image := synthImages(t, n, 320, 240)
	e := mustNew(t, Options{Seed: 7})
	x := []float64{-5, 0.88, 0.03, -7, 0.65, 0.02, 10, 14}
	want := make([]Record, n)
	for i := range want {
		img, gt, err := image(i)
		if err != nil {
			t.Fatal(err)
		}
		if want[i], err = e.Eval(ctx, x, img, gt); err != nil {
			t.Fatal(err)
		}
	}
	for _, workers := range []int{0, 1, 2, 4, 16} {
		got, err := e.EvalMany(ctx, x, n, image, workers)
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		if len(got) != n {
			t.Fatalf("workers %d: %d records, want %d", workers, len(got), n)
		}
		for i := range got {
			if got[i].Score != want[i].Score || got[i].NLines != want[i].NLines || got[i].Stats != want[i].Stats {
				t.Errorf("workers %d, image %d: got %+v, want %+v", workers, i, got[i].Score, want[i].Score)
			}
			if got[i].Ms <= 0 {
				t.Errorf("workers %d, image %d: Ms = %g, want > 0", workers, i, got[i].Ms)
			}
		}
	}
	got, err := e.EvalMany(ctx, nil, 0, image, 2)
	if err != nil || len(got) != 0 {
		t.Errorf("n = 0: got %v, %v; want no records and no error", got, err)
	}
}

func TestEvalManyErrors(t *testing.T) {
	image := synthImages(t, 4, 160, 120)
	e := mustNew(t, Options{})
	var calls atomic.Int64
	counting := func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
		calls.Add(1)
		return image(i)
	}
	failAt := func(bad int, kind string) ImageFunc {
		return func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
			if i == bad {
				return nil, nil, errs.New(kind, "dataset.image", "photo-%d.jpg: truncated JPEG", i)
			}
			return image(i)
		}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	x := Defaults(e.Space())
	x[1] = 1.5
	for _, c := range []struct {
		name  string
		ctx   context.Context
		x     []float64
		n     int
		image ImageFunc
		kind  string
		msg   []string
	}{
		{"x out of bounds", ctx, x, 4, counting, errs.BadArg, []string{"sim_thresh_q", "[0.5, 0.99]", "1.5"}},
		{"x too short", ctx, []float64{1, 2}, 4, counting, errs.BadArg, []string{"2 values", "8 parameters"}},
		{"negative n", ctx, nil, -1, counting, errs.BadArg, []string{"n must be >= 0", "-1"}},
		{"nil image function", ctx, nil, 4, nil, errs.BadArg, []string{"nil"}},
		{"failing image", ctx, nil, 4, failAt(2, errs.IO), errs.IO, []string{"image 3 of 4: ", "photo-2.jpg"}},
		{"lowest failing index wins", ctx, nil, 4, func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
			if i >= 1 {
				return nil, nil, errs.New(errs.IO, "", "bad-%d.png", i)
			}
			return image(i)
		}, errs.IO, []string{"image 2 of 4: ", "bad-1.png"}},
		{"bad image", ctx, nil, 4, func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
			return &imgbuf.Gray{W: 10, H: 10, Pix: make([]uint8, 5)}, nil, nil
		}, errs.BadArg, []string{"image 1 of 4: "}},
		{"panicking image function", ctx, nil, 4, func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
			panic("boom")
		}, errs.Internal, []string{"image 1 of 4: ", "boom"}},
		{"canceled", canceled, nil, 4, counting, errs.Canceled, nil},
	} {
		calls.Store(0)
		_, err := e.EvalMany(c.ctx, c.x, c.n, c.image, 2)
		if !errs.Is(err, c.kind) {
			t.Errorf("%s: got %v, want kind %s", c.name, err, c.kind)
			continue
		}
		for _, m := range c.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: %q does not mention %q", c.name, err, m)
			}
		}
		if c.kind == errs.BadArg && calls.Load() != 0 {
			t.Errorf("%s: %d images loaded before x was rejected", c.name, calls.Load())
		}
	}
}

// BenchmarkEvalMany640x480 scores 8 synthetic 640x480 images per op with 1
// worker and with GOMAXPROCS workers: the ratio is the multi-core speed-up
// (run with -cpu 1,2 or on more cores).
func BenchmarkEvalMany640x480(b *testing.B) {
	const n = 8
	image := synthImages(b, n, 640, 480)
	e := mustNew(b, Options{})
	if _, err := e.EvalMany(ctx, nil, n, image, 0); err != nil { // render the images into the cache
		b.Fatal(err)
	}
	for _, workers := range []int{1, 0} {
		name := fmt.Sprintf("workers=%d", workers)
		if workers == 0 {
			name = "workers=GOMAXPROCS"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.EvalMany(ctx, nil, n, image, workers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/image")
		})
	}
}
