// Package sobol generates Sobol low-discrepancy sequences in [0, 1)^d, plain
// or scrambled, and quasi-random standard-normal base samples from them.
//
// Dimensions 1..53 use Joe and Kuo's direction numbers (new-joe-kuo-6.21201,
// SIAM J. Sci. Comput. 30, 2008), the table torch's SobolEngine and
// scipy.stats.qmc.Sobol use, in the same Gray-code order, so the unscrambled
// points should be theirs (the tests check the published first 2-D points
// (0,0), (0.5,0.5), (0.75,0.25), (0.25,0.75), (0.375,0.375), … and every
// point against the defining recurrence).
// Dimensions 54..MaxDim use the next primitive polynomials in Joe and Kuo's
// order (degree, then coefficients) with initial direction numbers drawn from
// a fixed PCG stream: still a valid Sobol (t, s)-sequence with the same
// t-value bound, but not Joe and Kuo's optimised 2-D projections and not
// torch's points there.
//
// Points are generated in Gray-code order on a 52-bit grid (2^52 points per
// sequence). Scrambling is a random linear matrix scramble of the direction
// numbers plus a random digital shift (as torch's scramble=True), drawn from
// a PCG stream seeded by the caller, so a seed fixes the sequence exactly;
// it keeps the net property: the first 2^m points of each coordinate fall one
// per interval [k/2^m, (k+1)/2^m).
//
// # API
//
//	s, err := sobol.New(dim, true, seed) // *errs.Error (bad_arg) if dim is outside [1, MaxDim]
//	p := s.Next(dst)                     // the next point; dst reused when it has room
//	X := s.Draw(n)                       // the next n points, n × dim
//	i := s.Index()                       // index of the next point: store it ...
//	s.Seek(i)                            // ... and resume exactly, O(dim · 52)
//	Z := sobol.Normal(dim, n, seed)      // n × dim N(0,1) base samples (inverse CDF of scrambled Sobol)
//
// A resumable user stores (dim, scramble, seed, Index()) and calls New and Seek.
// Normal matches BoTorch's SobolQMCNormalSampler in construction (scrambled
// Sobol, squeeze by 1 - 2^-52, inverse normal CDF) but not in its random
// stream. A Seq is not safe for concurrent use; New is.
package sobol
