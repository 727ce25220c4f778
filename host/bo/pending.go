package bo

import (
	"math"
	"math/rand/v2"
	"slices"

	"bohost/host/acq"
	"bohost/host/gp"
	"bohost/host/internal/num"
)

// conditioned is one posterior and its versions conditioned on the pending
// candidates (all three are the posterior itself when none is pending; a
// version the acquisition does not read is the posterior itself too).
type conditioned struct {
	post *acq.Post
	// believer: each pending (x, w) told at its posterior mean (the kriging
	// believer): the variance there vanishes, the mean is unchanged. For ρKG
	// (whose value is the information a point adds), Thompson sampling (a
	// fresh draw each iteration) and pair mode's choice of w.
	believer *acq.Post
	// liar: each pending (x, w) told the lowest y observed (the constant
	// liar, CL-min, Ginsbourger et al. 2010): the mean falls there too, so
	// UCB and EI, which the mean term keeps at the data's best x under the
	// kriging believer, spread a batch out.
	liar *acq.Post
}

// condition builds the conditioned posteriors of model m on (X, y), with the
// same hyper-parameters and output standardisation.
func (o *Optimizer) condition(m *gp.Model, post *acq.Post, X [][]float64, y []float64) (conditioned, error) {
	c := conditioned{post: post, believer: post, liar: post}
	if len(o.pending) == 0 {
		return c, nil
	}
	// Pending cells the training rows already hold (imputed at their
	// posterior mean, grid.go) are believed already.
	inX := map[string]bool{}
	for _, r := range X {
		inX[num.Key(r)] = true
	}
	var P [][]float64
	for _, p := range o.pending {
		if r := append(o.toInternal(p.X), p.W...); !inX[num.Key(r)] {
			P = append(P, r)
		}
	}
	if len(P) == 0 {
		return c, nil
	}
	X2 := append(slices.Clone(X), P...)
	var err error
	// Each conditioned posterior costs a factorisation of the data and the
	// pending points: build only those the acquisition reads.
	a := o.cfg.Acquisition
	if a == AcqRhoKG || a == AcqTS || o.cfg.Mode == ModePair {
		mu, _ := post.Predict(P)
		if c.believer, err = acq.NewPost(m, X2, append(slices.Clone(y), mu...)); err != nil {
			return c, err
		}
	}
	if a == AcqUCB || a == AcqEI {
		low := slices.Min(y)
		lies := make([]float64, len(P))
		for i := range lies {
			lies[i] = low
		}
		c.liar, err = acq.NewPost(m, X2, append(slices.Clone(y), lies...))
	}
	return c, err
}

// withPendingX returns the x's (optimiser space) a candidate must improve
// on: the evaluated ones, then the distinct pending x's not among them.
func (o *Optimizer) withPendingX(evaluated [][]float64) [][]float64 {
	if len(o.pending) == 0 {
		return evaluated
	}
	out := slices.Clone(evaluated)
	seen := map[string]bool{}
	for _, x := range evaluated {
		seen[num.Key(x)] = true
	}
	for _, c := range o.pending {
		z := o.toInternal(c.X)
		if k := num.Key(z); !seen[k] {
			seen[k] = true
			out = append(out, z)
		}
	}
	return out
}

// deduplicate replaces a proposal that repeats a pending one (the same x in
// all_w mode, the same (x, w) pair in pair mode, to 1e-9 of the box) by a
// random x (and, in pair mode, the proposal's w): conditioning on the
// pending points makes this rare, but an acquisition whose value does not
// fall at a pending point (UCB's mean term at the data's best x) can land
// there again.
func (o *Optimizer) deduplicate(it int, c []Candidate) []Candidate {
	if len(c) == 0 || len(o.pending) == 0 {
		return c
	}
	zc := o.toInternal(c[0].X)
	near := func(a, b []float64, lo, hi []float64) bool {
		for k := range a {
			if math.Abs(a[k]-b[k]) > 1e-9*(hi[k]-lo[k]) {
				return false
			}
		}
		return true
	}
	dup := false
	for _, p := range o.pending {
		if !near(zc, o.toInternal(p.X), o.xlo, o.xhi) {
			continue
		}
		if o.cfg.Mode == ModeAllW || near(c[0].W, p.W, o.wlo, o.whi) {
			dup = true
			break
		}
	}
	if !dup {
		return c
	}
	rng := rand.New(rand.NewPCG(o.seedFor(it, purRandom), 3))
	z := make([]float64, o.dx)
	for k := range z {
		z[k] = o.xlo[k] + rng.Float64()*(o.xhi[k]-o.xlo[k])
	}
	if o.cfg.Mode == ModeAllW {
		return o.allW(z)
	}
	return []Candidate{{X: o.toUser(z), W: slices.Clone(c[0].W), EnvIndex: c[0].EnvIndex}}
}
