package wset

import (
	"math"

	"bohost/host/errs"
	"bohost/host/sobol"
)

// SnapSobol picks nw of the real environments envs (one feature vector per
// environment, all of the same length) the way the original code did: draw nw
// scrambled Sobol points in [0, 1]^d (seeded by seed), scale each coordinate
// to that feature's [min, max] over envs, and, for each point in order, take
// the nearest environment by Euclidean distance that has not been taken yet
// (ties to the lower index). It returns the chosen indices in pick order.
//
// Errors (bad_arg): envs empty or ragged, a feature NaN or infinite, nw
// outside [1, len(envs)], or a feature dimension above sobol.MaxDim.
func SnapSobol(envs [][]float64, nw int, seed uint64) ([]int, error) {
	const op = "wset.SnapSobol"
	if len(envs) == 0 {
		return nil, errs.New(errs.BadArg, op, "envs must hold at least one environment, got 0")
	}
	d := len(envs[0])
	if d == 0 {
		return nil, errs.New(errs.BadArg, op, "envs[0] has no features; each environment needs at least one")
	}
	lo, hi := make([]float64, d), make([]float64, d)
	copy(lo, envs[0])
	copy(hi, envs[0])
	for i, e := range envs {
		if len(e) != d {
			return nil, errs.New(errs.BadArg, op, "envs[%d] has %d features, envs[0] has %d", i, len(e), d)
		}
		for j, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errs.New(errs.BadArg, op, "envs[%d][%d] = %v is not finite", i, j, v)
			}
			lo[j], hi[j] = math.Min(lo[j], v), math.Max(hi[j], v)
		}
	}
	if nw < 1 || nw > len(envs) {
		return nil, errs.New(errs.BadArg, op, "nw must be in [1, %d] (the number of environments), got %d", len(envs), nw)
	}
	seq, err := sobol.New(d, true, seed)
	if err != nil {
		return nil, errs.Wrap(errs.BadArg, op, err)
	}
	used := make([]bool, len(envs))
	out := make([]int, 0, nw)
	p := make([]float64, d)
	for range nw {
		seq.Next(p)
		for j := range p {
			p[j] = lo[j] + p[j]*(hi[j]-lo[j])
		}
		best, bestD := -1, math.Inf(1)
		for i, e := range envs {
			if used[i] {
				continue
			}
			var s float64
			for j, v := range e {
				s += (v - p[j]) * (v - p[j])
			}
			if s < bestD {
				best, bestD = i, s
			}
		}
		used[best] = true
		out = append(out, best)
	}
	return out, nil
}

// SobolW returns nw fresh scrambled-Sobol points in [0, 1]^dim (seeded by
// seed) for a continuous environment, as BoTorch's tutorial draws its w set
// with draw_sobol_samples. It returns nil when dim is outside
// [1, sobol.MaxDim] or nw < 1.
func SobolW(dim, nw int, seed uint64) [][]float64 {
	if nw < 1 {
		return nil
	}
	s, err := sobol.New(dim, true, seed)
	if err != nil {
		return nil
	}
	return s.Draw(nw)
}
