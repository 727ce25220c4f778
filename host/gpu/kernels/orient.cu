// AirLine's orientation descriptor, as airline.OrientationHalfLen: per pixel
// od_i = sum of e over kernel i's ones (row-major kernel order, zero outside
// the image), v = od - mean(od), d = v / max(|v|, 1e-12), float32 throughout
// with the norm's square root in float64.
#include "bh_cuda.h"

#define BH_MAX_T 64

// bh_orient writes out[(y*w+x)*T + i]. The ones of kernel i are
// (dy[j], dx[j]) for j in [start[i], start[i+1]).
BH_KERNEL bh_orient(const float *e, float *out, int w, int h, int T, const int *dy, const int *dx,
                    const int *start) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h || T < 1 || T > BH_MAX_T) {
		return;
	}
	float d[BH_MAX_T];
	float mean = 0.0f;
	for (int i = 0; i < T; i++) {
		float s = 0.0f;
		for (int j = start[i]; j < start[i + 1]; j++) {
			int yy = y + dy[j], xx = x + dx[j];
			if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
				s += e[yy * w + xx];
			}
		}
		d[i] = s;
		mean += s;
	}
	mean /= (float)T;
	float n2 = 0.0f;
	for (int i = 0; i < T; i++) {
		d[i] -= mean;
		n2 += d[i] * d[i];
	}
	float n = (float)bh_sqrt((double)n2);
	if (n < 1e-12f) {
		n = 1e-12f;
	}
	float *od = out + ((long long)y * w + x) * T;
	for (int i = 0; i < T; i++) {
		od[i] = d[i] / n;
	}
}
