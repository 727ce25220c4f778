// Package hart6 holds what the benches that run the anchors' hart6 problem
// through bohost's optimiser share: the GP options the anchors' runs use and
// the unit box of its x and w.
package hart6

import "bohost/host/gp"

// GP returns the GP options of the anchors' hart6 runs: RBF kernel with
// Gamma priors (BoTorch >= 0.12), one hyper-parameter restart.
func GP() *gp.Options {
	o := gp.DefaultOptions()
	o.Restarts = 1
	o.Kernel = gp.RBF
	o.Prior = gp.PriorGamma
	return &o
}

// UnitBox returns d dimensions of [0, 1].
func UnitBox(d int) [][2]float64 {
	b := make([][2]float64, d)
	for i := range b {
		b[i] = [2]float64{0, 1}
	}
	return b
}
