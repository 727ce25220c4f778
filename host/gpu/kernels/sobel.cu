// 3x3 Sobel derivatives and L2 magnitude, as airline.Sobel (BORDER_REFLECT_101):
// gx = (c-a) + 2(f-d) + (i-g), gy = (g-a) + 2(h-b) + (i-c), mag = float32(sqrt(float64(gx*gx+gy*gy))).
#include "bh_cuda.h"

BH_KERNEL bh_sobel(const float *src, float *gx, float *gy, float *mag, int w, int h) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	const float *up = src + (long long)bh_reflect101(y - 1, h) * w;
	const float *mid = src + (long long)y * w;
	const float *dn = src + (long long)bh_reflect101(y + 1, h) * w;
	int xl = x - 1, xr = x + 1;
	if (x == 0 || x == w - 1) {
		xl = bh_reflect101(xl, w);
		xr = bh_reflect101(xr, w);
	}
	float a = up[xl], b = up[x], c = up[xr];
	float d = mid[xl], f = mid[xr];
	float g = dn[xl], hh = dn[x], i = dn[xr];
	float sx = (c - a) + 2.0f * (f - d) + (i - g);
	float sy = (g - a) + 2.0f * (hh - b) + (i - c);
	long long o = (long long)y * w + x;
	gx[o] = sx;
	gy[o] = sy;
	mag[o] = (float)bh_sqrt((double)(sx * sx + sy * sy));
}
