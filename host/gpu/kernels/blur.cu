// Separable Gaussian blur, as airline.Blur: rows first (uint8 -> float32),
// then columns; each output is sum_i k[i]*src[reflect101(x+i-r)] in index
// order, float32 multiply then add.
#include "bh_cuda.h"

// bh_u8_to_f32 is the radius-0 case: dst = float32(src).
BH_KERNEL bh_u8_to_f32(const bh_u8 *src, float *dst, int n) {
	int i = bh_x();
	if (i < n) {
		dst[i] = (float)src[i];
	}
}

// bh_blur_h: horizontal pass, src (uint8) -> tmp (float32); k has 2r+1 taps.
BH_KERNEL bh_blur_h(const bh_u8 *src, float *tmp, int w, int h, const float *k, int r) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	const bh_u8 *row = src + (long long)y * w;
	int n = 2 * r + 1;
	float s = 0.0f;
	if (x >= r && x + r < w) {
		const bh_u8 *seg = row + x - r;
		for (int i = 0; i < n; i++) {
			s += k[i] * (float)seg[i];
		}
	} else {
		for (int i = 0; i < n; i++) {
			s += k[i] * (float)row[bh_reflect101(x + i - r, w)];
		}
	}
	tmp[(long long)y * w + x] = s;
}

// bh_blur_v: vertical pass, tmp -> dst.
BH_KERNEL bh_blur_v(const float *tmp, float *dst, int w, int h, const float *k, int r) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	int n = 2 * r + 1;
	float s = 0.0f;
	for (int i = 0; i < n; i++) {
		int yy = bh_reflect101(y + i - r, h);
		s += k[i] * tmp[(long long)yy * w + x];
	}
	dst[(long long)y * w + x] = s;
}
