// The classical edge map, as airline.ClassicalEdges after blur and Sobel:
// Canny non-maximum suppression, optional hysteresis, then the logit map.
#include "bh_cuda.h"

// tan(22.5 deg) and tan(67.5 deg), Canny's direction sectors (as airline).
#define BH_TAN22 0.41421356237309503
#define BH_TAN67 2.414213562373095

static __device__ inline float bh_abs32(float v) { return v < 0 ? -v : v; }

// bh_nms writes keep: 0 (dropped), 1 (kept), or 2 (kept and a hysteresis
// seed, mag > high, when hyst != 0). The one-pixel frame is never a maximum;
// nonms keeps every pixel with mag > 0, frame included.
BH_KERNEL bh_nms(const float *mag, const float *gx, const float *gy, bh_u8 *keep, int w, int h,
                 int nonms, int hyst, float high) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	long long o = (long long)y * w + x;
	float m = mag[o];
	bh_u8 k = 0;
	if (nonms) {
		k = m > 0;
	} else if (x >= 1 && x < w - 1 && y >= 1 && y < h - 1 && m > 0) {
		double ax = (double)bh_abs32(gx[o]), ay = (double)bh_abs32(gy[o]);
		float na, nb;
		if (ay <= ax * BH_TAN22) {
			na = mag[o - 1];
			nb = mag[o + 1];
		} else if (ay >= ax * BH_TAN67) {
			na = mag[o - w];
			nb = mag[o + w];
		} else if ((gx[o] > 0) == (gy[o] > 0)) {
			na = mag[o - w - 1];
			nb = mag[o + w + 1];
		} else {
			na = mag[o - w + 1];
			nb = mag[o + w - 1];
		}
		k = m > na && m >= nb;
	}
	if (k && hyst && m > high) {
		k = 2;
	}
	keep[o] = k;
}

#define BH_HYST_STACK 64

// bh_hyst is one round of hysteresis. keep: 1 = candidate, 2 = accepted and
// not yet expanded, 3 = accepted and expanded. Each thread on a 2 pixel
// expands it depth-first through 8-neighbours that are candidates with
// mag > low, marking them 3 as it pushes them; a neighbour that does not fit
// the stack is left at 2 and *changed set, for the next round. The rounds
// end when *changed stays 0: keep >= 2 is then exactly the set CPU's flood
// fill accepts (the candidates connected to a seed). Concurrent updates only
// raise values (1 -> 2/3, 2 -> 3), so races cost at most repeated work.
BH_KERNEL bh_hyst(bh_u8 *keep, const float *mag, int w, int h, float low, int *changed) {
	int x = bh_x(), y = bh_y();
	if (x >= w || y >= h) {
		return;
	}
	int o = y * w + x;
	if (keep[o] != 2) {
		return;
	}
	keep[o] = 3;
	int stack[BH_HYST_STACK];
	int sp = 0;
	stack[sp++] = o;
	int left = 0;
	while (sp > 0) {
		int q = stack[--sp];
		int qy = q / w, qx = q % w;
		for (int dy = -1; dy <= 1; dy++) {
			int yy = qy + dy;
			if (yy < 0 || yy >= h) {
				continue;
			}
			for (int dx = -1; dx <= 1; dx++) {
				int xx = qx + dx;
				if (xx < 0 || xx >= w) {
					continue;
				}
				int r = yy * w + xx;
				if (keep[r] == 1 && mag[r] > low) {
					if (sp < BH_HYST_STACK) {
						keep[r] = 3;
						stack[sp++] = r;
					} else {
						keep[r] = 2;
						left = 1;
					}
				}
			}
		}
	}
	if (left) {
		*changed = 1;
	}
}

// bh_logit writes the edge map: floor where not kept, else
// float32(gain*(log(float64(mag)) - lref)) clamped to [floor, -floor].
// Kept means keep == 1 without hysteresis, keep >= 2 with it.
BH_KERNEL bh_logit(const float *mag, const bh_u8 *keep, float *dst, int n, int hyst, float floor,
                   double gain, double lref) {
	int i = bh_x();
	if (i >= n) {
		return;
	}
	int kept = hyst ? keep[i] >= 2 : keep[i] == 1;
	if (!kept) {
		dst[i] = floor;
		return;
	}
	float v = (float)(gain * (bh_log((double)mag[i]) - lref));
	if (v < floor) {
		v = floor;
	} else if (v > -floor) {
		v = -floor;
	}
	dst[i] = v;
}
