//go:build matprofile

package cv

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// TestMatsClosed runs 1,000 full cycles (see leakRig.cycle) and checks that
// every Mat created on every path was closed (gocv.MatProfile, which exists
// only with -tags matprofile), and that RSS stays flat after warm-up.
//
//	go test -tags matprofile -count=1 ./host/cv/
func TestMatsClosed(t *testing.T) {
	r := newLeakRig(t)
	before := gocv.MatProfile.Count()
	for i := 0; i < 10; i++ {
		r.cycle(t)
	}
	growth := rssGrowth(t, r, 40, 950)
	if n := gocv.MatProfile.Count() - before; n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats left open after 1,000 cycles; creating stacks:\n%s", n, b.String())
	}
	t.Logf("live Mats: %d before, %d after", before, gocv.MatProfile.Count())
	checkRSS(t, growth, 950)
}

// TestMatProfileSeesLeaks shows the check above can fail: a Mat left open is counted.
func TestMatProfileSeesLeaks(t *testing.T) {
	before := gocv.MatProfile.Count()
	m := gocv.NewMat()
	if gocv.MatProfile.Count() != before+1 {
		t.Fatalf("MatProfile did not count a new Mat: %d -> %d", before, gocv.MatProfile.Count())
	}
	m.Close()
	if gocv.MatProfile.Count() != before {
		t.Fatal("MatProfile still counts a closed Mat")
	}
}
