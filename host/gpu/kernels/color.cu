// Grey conversion, as host/dataset.ToGray for *image.RGBA / *image.NRGBA:
// (4899 R + 9617 G + 1868 B + 8192) >> 14, OpenCV's fixed-point BT.601 weights.
#include "bh_cuda.h"

// bh_rgba_to_gray converts a w x h RGBA image with row stride stride (bytes).
BH_KERNEL bh_rgba_to_gray(const bh_u8 *src, int stride, bh_u8 *dst, int w, int h) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	const bh_u8 *p = src + (long long)y * stride + 4 * x;
	unsigned r = p[0], g = p[1], b = p[2];
	dst[(long long)y * w + x] = (bh_u8)((4899u * r + 9617u * g + 1868u * b + 8192u) >> 14);
}
