// Package envfeat describes an image by a small vector of classical
// features, the environment w of risk-averse tuning (notes/airline.md §9
// without the CLIP scores, which need model weights), and perturbs images
// photometrically on the fly to make new environments.
//
// Features(img) returns, in the order of Names, raw magnitudes (not the
// original's clipped /50, /100 scores; Normalise rescales over the data set):
//
//	brightness        |mean(g) - 128| / 128: 0 mid-grey, 1 black or white (as the original)
//	local_contrast    mean over pixels of the 15x15 box local std sqrt(max(0, E[g²]-E[g]²)),
//	                  grey levels (windows clipped at the border)
//	gradient_strength mean 3x3 Sobel magnitude sqrt(gx²+gy²), grey levels (interior pixels)
//	edge_density      fraction of pixels that are Canny edges: L1 Sobel magnitude, non-maximum
//	                  suppression, hysteresis thresholds 50 and 150 (Canny(50,150)-like)
//	sharpness         variance of the 4-neighbour Laplacian over interior pixels
//	                  (low = blurred; the original's blur_level is 1 - sharpness/500)
//	noise_level       Immerkær's fast noise estimate: sqrt(pi/2) / (6 (W-2)(H-2)) * sum |g * N|,
//	                  N = [1 -2 1; -2 4 -2; 1 -2 1], in grey levels (sigma of additive noise)
//
// Features allocates about 9 bytes a pixel (the Sobel gradients and L1
// magnitudes the Canny step keeps) plus the edge stack; the local contrast
// uses running column sums, not integral images. The images themselves are
// bounded where they are read (imgbuf.ResolveLimit: max_pixels,
// BOHOST_MAX_PIXELS, default 2^26 pixels).
//
// Normalise min-max scales each column over the data set to [0, 1]; a
// constant column (range < 1e-12) becomes 0.5, NaN stays NaN, ragged rows
// are allowed (each column uses the rows that have it).
//
// Perturb(img, Perturbation{Gain, Contrast, NoiseSigma, BlurSigma, Seed})
// returns a new 8-bit image, computed in integer/uint8 buffers without a
// float32 copy: Gaussian blur (BlurSigma, radius ceil(3 sigma), 8.8
// fixed-point), then gain, then contrast about the mean (v' = m + Contrast*(Gain*v - m),
// m the mean after gain), then additive Gaussian noise seeded by Seed
// (PCG), rounded and clamped. Zero Gain or Contrast means 1, so the zero
// Perturbation is the identity. Validate names bad fields; Perturb itself
// clamps out-of-range values (negatives to the identity, BlurSigma to 20)
// and never panics.
//
// Entry points:
//
//	var Names []string
//	func Features(img *imgbuf.Gray) []float64
//	func FeaturesBox(img *imgbuf.Gray, b imgbuf.Box) []float64
//	func Normalise(rows [][]float64) [][]float64
//	func Perturb(img *imgbuf.Gray, p Perturbation) *imgbuf.Gray
package envfeat
