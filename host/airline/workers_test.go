package airline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/metric"
)

// mixedSynthImages interleaves three synthetic data sets of different sizes
// (wide, square-ish, tall) so that consecutive images on one worker grow and
// shrink the pooled scratch buffers and change the row stride.
func mixedSynthImages(tb testing.TB, per int) (ImageFunc, int) {
	var sets []*dataset.Dataset
	for _, o := range []dataset.SynthOptions{
		{Width: 160, Height: 120, Seed: 3},
		{Width: 208, Height: 96, Seed: 5},
		{Width: 96, Height: 144, Seed: 7},
	} {
		o.N, o.CacheImages = per, per
		d, err := dataset.Synthetic(o)
		if err != nil {
			tb.Fatal(err)
		}
		sets = append(sets, d)
	}
	k := len(sets)
	return func(i int) (*imgbuf.Gray, []imgbuf.Segment, error) {
		d := sets[i%k]
		img, err := d.Image(i / k)
		return img, d.Item(i / k).Lines, err
	}, per * k
}

// workerXs returns distinct parameter vectors of the space: the defaults, the
// all-low and all-high corners, two alternating corners, and seeded random
// points with about a third of the coordinates on a bound.
func workerXs(space []Param, nRandom int, seed uint64) [][]float64 {
	lo, hi, alt1, alt2 := make([]float64, len(space)), make([]float64, len(space)), make([]float64, len(space)), make([]float64, len(space))
	for j, p := range space {
		lo[j], hi[j] = p.Lo, p.Hi
		alt1[j], alt2[j] = p.Lo, p.Hi
		if j%2 == 1 {
			alt1[j], alt2[j] = p.Hi, p.Lo
		}
	}
	xs := [][]float64{Defaults(space), lo, hi, alt1, alt2}
	rng := rand.New(rand.NewPCG(seed, 0x776f726b))
	for k := 0; k < nRandom; k++ {
		x := make([]float64, len(space))
		for j, p := range space {
			switch rng.IntN(6) {
			case 0:
				x[j] = p.Lo
			case 1:
				x[j] = p.Hi
			default:
				x[j] = p.Lo + rng.Float64()*(p.Hi-p.Lo)
			}
		}
		xs = append(xs, x)
	}
	return xs
}

// workerSchedule visits every vector once, in order, and interleaves repeats
// of earlier ones (each earlier vector comes back after a few others), so a
// worker's workspace holds another x's state when a vector is re-evaluated.
func workerSchedule(n int) []int {
	var s []int
	for k := 0; k < n; k++ {
		s = append(s, k)
		if k >= 2 && k%2 == 0 {
			s = append(s, (k*7)%(k-1)) // an earlier vector, not the previous one
		}
	}
	return append(s, 0, n-1, 1) // the defaults, the last and the all-low corner once more
}

// sameRecord reports whether a and b carry bit-identical results (the
// detection time Ms excepted).
func sameRecord(a, b Record) bool {
	f := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	return f(a.F, b.F) && f(a.Precision, b.Precision) && f(a.Recall, b.Recall) && f(a.R, b.R) &&
		a.NDetected == b.NDetected && a.NGT == b.NGT && a.NLines == b.NLines && a.Stats == b.Stats
}

func sameMean(a, b []Record) bool {
	sc := func(rs []Record) []metric.Score {
		out := make([]metric.Score, len(rs))
		for i, r := range rs {
			out[i] = r.Score
		}
		return out
	}
	ma, na := metric.Mean(sc(a))
	mb, nb := metric.Mean(sc(b))
	return na == nb && sameRecord(Record{Score: ma}, Record{Score: mb})
}

// TestEvalManyIndependentOfWorkers: the records of EvalMany, and their mean,
// do not depend on the number of workers, on the order in which one
// evaluator sees parameter vectors and image sizes, or on other calls
// running on the same evaluator at the same time. The reference for every
// (x, image) is a fresh evaluator (an empty workspace pool) scoring that one
// image, so scratch state left behind by an earlier x or image, results
// gathered out of index order, and RANSAC draws that depend on which worker
// ran an image all show up as a mismatch.
func TestEvalManyIndependentOfWorkers(t *testing.T) {
	per, nRandom := 4, 14
	if testing.Short() {
		per, nRandom = 2, 5
	}
	image, n := mixedSynthImages(t, per)
	for _, c := range []struct {
		name    string
		opts    Options
		nRandom int
	}{
		{"airline8", Options{Seed: 7}, nRandom},                             // what scripts/tune_airline.lua tunes
		{"classical", Options{Space: SpaceClassical, Seed: 7}, nRandom / 2}, // T, K, MaxRegionPx and hysteresis vary with x
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := mustNew(t, c.opts).Space()
			xs := workerXs(sp, c.nRandom, 1)
			want := make([][]Record, len(xs))
			for k, x := range xs {
				want[k] = make([]Record, n)
				for i := 0; i < n; i++ {
					img, gt, err := image(i)
					if err != nil {
						t.Fatal(err)
					}
					if want[k][i], err = mustNew(t, c.opts).Eval(ctx, x, img, gt); err != nil {
						t.Fatalf("x %d %v, image %d: %v", k, x, i, err)
					}
				}
			}
			if c.name == "airline8" {
				// The comparison must see the fusion at work, not empty outputs.
				lines := 0
				for _, rs := range want {
					for _, r := range rs {
						lines += r.NLines
					}
				}
				if lines == 0 {
					t.Fatal("no detections at any x: the comparison would be vacuous")
				}
			}
			sched := workerSchedule(len(xs))
			check := func(label string, k int, got []Record) {
				t.Helper()
				if len(got) != n {
					t.Fatalf("%s, x %d: %d records, want %d", label, k, len(got), n)
				}
				bad := 0
				for i := range got {
					if !sameRecord(got[i], want[k][i]) {
						if bad++; bad <= 3 {
							t.Errorf("%s, x %d %v, image %d: got %+v (%d lines, %+v), want %+v (%d lines, %+v)", label, k, xs[k], i,
								got[i].Score, got[i].NLines, got[i].Stats, want[k][i].Score, want[k][i].NLines, want[k][i].Stats)
						}
					}
				}
				if !sameMean(got, want[k]) {
					t.Errorf("%s, x %d: the mean over the images differs", label, k)
				}
			}
			for _, workers := range []int{1, 2, 3, 8} {
				e := mustNew(t, c.opts) // one evaluator for the whole schedule, as a tuning run uses it
				for _, k := range sched {
					got, err := e.EvalMany(ctx, xs[k], n, image, workers)
					if err != nil {
						t.Fatalf("workers %d, x %d: %v", workers, k, err)
					}
					check(fmt.Sprintf("workers %d", workers), k, got)
				}
			}
			// Two schedules at once on one evaluator (the pool shared between calls).
			e := mustNew(t, c.opts)
			var wg sync.WaitGroup
			res := make([][][]Record, 2)
			errc := make(chan error, 2)
			for g := range res {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j, k := range sched {
						if j%2 != g {
							continue
						}
						got, err := e.EvalMany(ctx, xs[k], n, image, 2)
						if err != nil {
							errc <- err
							return
						}
						res[g] = append(res[g], got)
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			for g := range res {
				m := 0
				for j, k := range sched {
					if j%2 == g {
						check(fmt.Sprintf("concurrent calls (%d of 2)", g+1), k, res[g][m])
						m++
					}
				}
			}
		})
	}
}
