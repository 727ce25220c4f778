package airline

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"bohost/host/dataset"
	"bohost/host/imgbuf"
	"bohost/host/metric"
	"bohost/host/testsupport"
)

type evalSet struct {
	name string
	imgs []*imgbuf.Gray
	gt   [][]imgbuf.Segment
}

func synthSet(tb testing.TB, split string, n int) evalSet {
	d, err := dataset.Synthetic(dataset.SynthOptions{N: n, Seed: 1, Split: split})
	if err != nil {
		tb.Fatal(err)
	}
	s := evalSet{name: "synthetic-" + split}
	for i := 0; i < d.Len(); i++ {
		img, err := d.Image(i)
		if err != nil {
			tb.Fatal(err)
		}
		s.imgs = append(s.imgs, img)
		s.gt = append(s.gt, d.Item(i).Lines)
	}
	return s
}

func yorkSet(tb testing.TB, split string, n int) (evalSet, bool) {
	dir, ok := testsupport.YorkUrban()
	if !ok {
		return evalSet{}, false
	}
	d, err := dataset.Open(dir, dataset.Options{Split: split})
	if err != nil {
		tb.Fatal(err)
	}
	s := evalSet{name: "york-" + split}
	for i := 0; i < d.Len() && i < n; i++ {
		img, err := d.Image(i)
		if err != nil {
			tb.Fatal(err)
		}
		s.imgs = append(s.imgs, img)
		s.gt = append(s.gt, d.Item(i).Lines)
	}
	return s, true
}

func meanScore(tb testing.TB, e *Evaluator, x []float64, s evalSet) (metric.Score, float64) {
	var scores []metric.Score
	var ms float64
	for i, img := range s.imgs {
		r, err := e.Eval(ctx, x, img, s.gt[i])
		if err != nil {
			tb.Fatal(err)
		}
		scores = append(scores, r.Score)
		ms += r.Ms
	}
	m, _ := metric.Mean(scores)
	return m, ms / float64(len(s.imgs))
}

// TestTune (opt-in: BOHOST_TUNE=1) random-searches the airline8 space on the
// synthetic train split and reports the best points on the test split and on
// York Urban; it documents how the defaults were chosen.
func TestTune(t *testing.T) {
	if os.Getenv("BOHOST_TUNE") != "1" {
		t.Skip("tuning report; run with BOHOST_TUNE=1")
	}
	train := synthSet(t, "train", 24)
	test := synthSet(t, "test", 24)
	york, haveYork := yorkSet(t, "train", 20)
	for _, o := range []Options{{}, {DenseEdges: true}, {FixEndpoints: true}, {Space: SpaceClassical}} {
		e := mustNew(t, o)
		line := fmt.Sprintf("%+v defaults:", o)
		for _, s := range []evalSet{train, test, york} {
			if s.imgs == nil {
				continue
			}
			m, ms := meanScore(t, e, nil, s)
			line += fmt.Sprintf(" %s F %.3f P %.3f R %.3f (%.0f ms);", s.name, m.F, m.Precision, m.Recall, ms)
		}
		t.Log(line)
	}
	e := mustNew(t, Options{})
	sp := e.Space()
	rng := rand.New(rand.NewPCG(1, 2))
	type res struct {
		x []float64
		f float64
	}
	var all []res
	n := 60
	if v := os.Getenv("BOHOST_TUNE_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	for k := 0; k < n; k++ {
		x := make([]float64, len(sp))
		for i, p := range sp {
			x[i] = p.Lo + rng.Float64()*(p.Hi-p.Lo)
		}
		// Useful edge-threshold region for the classical map.
		x[0], x[3] = -10+rng.Float64()*14, -10+rng.Float64()*14
		m, _ := meanScore(t, e, x, train)
		all = append(all, res{x, m.F})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].f > all[j].f })
	for _, r := range all[:5] {
		line := fmt.Sprintf("x %.3v train F %.3f", r.x, r.f)
		for _, s := range []evalSet{test, york} {
			if s.imgs == nil {
				continue
			}
			m, _ := meanScore(t, e, r.x, s)
			line += fmt.Sprintf(" %s F %.3f P %.3f R %.3f;", s.name, m.F, m.Precision, m.Recall)
		}
		t.Log(line)
	}
	_ = haveYork
}

// TestTuneCandidates (opt-in: BOHOST_TUNE=1) scores a few hand-rounded points.
func TestTuneCandidates(t *testing.T) {
	if os.Getenv("BOHOST_TUNE") != "1" {
		t.Skip("tuning report; run with BOHOST_TUNE=1")
	}
	train := synthSet(t, "train", 24)
	test := synthSet(t, "test", 24)
	york, _ := yorkSet(t, "train", 20)
	cands := [][]float64{
		{-9, 0.9, 0.03, -7, 0.52, 0.03, 15, 20},
		{-4, 0.85, 0.03, -8, 0.55, 0.03, 10, 12},
		{-6, 0.9, 0.03, -6, 0.6, 0.03, 12, 12},
		{-3, 0.9, 0.02, 1, 0.8, 0.02, 10, 10},
	}
	for _, o := range []Options{{}, {DenseEdges: true}} {
		e := mustNew(t, o)
		for _, x := range cands {
			line := fmt.Sprintf("dense=%v x %v:", o.DenseEdges, x)
			for _, s := range []evalSet{train, test, york} {
				if s.imgs == nil {
					continue
				}
				m, ms := meanScore(t, e, x, s)
				line += fmt.Sprintf(" %s F %.3f P %.3f R %.3f (%.0f ms);", s.name, m.F, m.Precision, m.Recall, ms)
			}
			t.Log(line)
		}
	}
}
