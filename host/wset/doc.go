// Package wset chooses the w set: the n_w environments over which a risk
// measure of f(x, ·) is estimated.
//
//	idx, err := wset.SnapSobol(envs, nw, seed) // indices into envs, for a discrete set of real environments
//	W := wset.SobolW(dim, nw, seed)           // nw × dim points in [0,1]^dim, for a continuous w
//
// SnapSobol is the original code's method (shared/notes/airline.md, "How the
// original picked its w set"): scrambled Sobol points scaled to each feature's
// [min, max] over the environments, each snapped to the nearest environment
// not yet taken. It is deterministic for a seed; a run stores the seed and the
// returned indices. Unlike the original, which silently lowered n_w to the
// number of images, asking for more environments than exist is an error.
//
// Both use bohost/host/sobol with scrambling, so a seed fixes the set exactly
// on every platform.
package wset
