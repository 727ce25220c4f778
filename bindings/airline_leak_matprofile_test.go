//go:build matprofile

package bindings_test

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// TestAirlineEvaluatorMatsClosed runs the evaluator loop of
// TestAirlineEvaluatorNoLeak (1,000 evaluations through the Lua API, with
// LSD baselines, file decoding, eval_many and scoped evaluators) and checks
// that gocv's live-Mat count (it exists only with -tags matprofile) is
// unchanged and RSS stays flat.
//
//	go test -tags matprofile -count=1 -run AirlineEvaluator ./bindings/
func TestAirlineEvaluatorMatsClosed(t *testing.T) {
	r := newLeakRig(t)
	before := gocv.MatProfile.Count()
	if m := gocv.NewMat(); gocv.MatProfile.Count() != before+1 {
		t.Fatalf("gocv.MatProfile does not count Mats (%d -> %d): is gocv built with -tags matprofile?", before, gocv.MatProfile.Count())
	} else {
		m.Close()
	}
	n := leakCycles()
	growth := r.measure(t, 50, n)
	r.finish(t)
	after := gocv.MatProfile.Count()
	t.Logf("live Mats: %d before, %d after %d evaluations; RSS growth %+.2f MB", before, after, n+50, float64(growth)/(1<<20))
	if after != before {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats left open after %d evaluations; creating stacks:\n%s", after-before, n+50, b.String())
	}
	if growth >= rssGrowthLimit {
		t.Errorf("RSS grew %.2f MB over %d evaluations, want < %d MB", float64(growth)/(1<<20), n, rssGrowthLimit>>20)
	}
}
