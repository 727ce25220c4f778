package airline

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"bohost/host/dataset"
	"bohost/host/imgbuf"
)

// exportedStages runs the exported stage functions: what host/gpu's kernels
// are checked against. Plugged in as Options.Stages it must leave every
// detection unchanged, which ties the exported stages to the evaluator's own
// inner loops.
type exportedStages struct{ calls int }

func (s *exportedStages) ClassicalEdges(src *imgbuf.Gray, p EdgeParams) (*imgbuf.Float, error) {
	s.calls++
	return ClassicalEdges(src, p), nil
}

func (s *exportedStages) OrientationHalfLen(edge *imgbuf.Float, T, K, halfLen int) ([]float32, error) {
	s.calls++
	return OrientationHalfLen(edge, T, K, halfLen), nil
}

type failingStages struct{}

func (failingStages) ClassicalEdges(*imgbuf.Gray, EdgeParams) (*imgbuf.Float, error) {
	return nil, errors.New("device lost")
}
func (failingStages) OrientationHalfLen(*imgbuf.Float, int, int, int) ([]float32, error) {
	return nil, errors.New("device lost")
}

func TestOffloadedStagesGiveIdenticalDetections(t *testing.T) {
	ds, err := dataset.Synthetic(dataset.SynthOptions{N: 4, Width: 320, Height: 240, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := New(Options{})
	st := &exportedStages{}
	off, _ := New(Options{Stages: st})
	var warned []string
	fail, _ := New(Options{Stages: failingStages{}, OnWarning: func(m string) { warned = append(warned, m) }})
	boxes := []imgbuf.Box{{X0: 20, Y0: 10, X1: 300, Y1: 200}}
	for i := 0; i < ds.Len(); i++ {
		img, err := ds.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		full := []imgbuf.Box{{X0: 0, Y0: 0, X1: img.W, Y1: img.H}}
		for _, bx := range [][]imgbuf.Box{full, boxes} {
			a, err := ref.DetectIn(context.Background(), nil, img, bx)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := off.DetectIn(context.Background(), nil, img, bx)
			c, _ := fail.DetectIn(context.Background(), nil, img, bx)
			if len(a) == 0 {
				t.Fatalf("image %d boxes %v: no detections to compare", i, bx)
			}
			if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
				t.Fatalf("image %d boxes %v: offloaded stages changed the detections (%d vs %d vs %d segments)", i, bx, len(a), len(b), len(c))
			}
		}
	}
	if st.calls == 0 {
		t.Fatal("the stages were never called")
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "device lost") {
		t.Fatalf("warnings %q: want exactly one naming the failure", warned)
	}
}
