// bh_cuda.h: the few CUDA definitions bohost's kernels need, so that the
// same sources compile with nvcc (CUDA headers) and with clang without the
// CUDA SDK (clang -x cuda --cuda-device-only -nocudainc -nocudalib).
//
// Numerical contract (see ../doc.go): every kernel performs the float32 and
// float64 operations of its CPU reference in host/airline/stages.go in the
// same order, with IEEE round-to-nearest, no FMA contraction (nvcc
// -fmad=false, clang -ffp-contract=off), no flush-to-zero and IEEE division
// and square root, so results match the CPU bit for bit. The only
// transcendental, log, is bh_log below: a port of Go's math.Log (amd64), not
// the CUDA library's.
#ifndef BH_CUDA_H
#define BH_CUDA_H

#if defined(BH_HOST_EMU)
// Host emulation (the stub driver in the cuda-tagged tests compiles the
// kernels as C++ and runs every thread of a launch in turn).
#include <math.h>
#define __global__
#define __device__
#define __shared__ static
extern int bh_emu_tid[2], bh_emu_ntid[2], bh_emu_ctaid[2];
#define BH_TID_X bh_emu_tid[0]
#define BH_TID_Y bh_emu_tid[1]
#define BH_NTID_X bh_emu_ntid[0]
#define BH_NTID_Y bh_emu_ntid[1]
#define BH_CTAID_X bh_emu_ctaid[0]
#define BH_CTAID_Y bh_emu_ctaid[1]
#define bh_sqrt(x) sqrt(x)
#elif defined(__NVCC__)
#define BH_TID_X threadIdx.x
#define BH_TID_Y threadIdx.y
#define BH_NTID_X blockDim.x
#define BH_NTID_Y blockDim.y
#define BH_CTAID_X blockIdx.x
#define BH_CTAID_Y blockIdx.y
#define bh_sqrt(x) __dsqrt_rn(x)
#else
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define BH_TID_X ((int)__nvvm_read_ptx_sreg_tid_x())
#define BH_TID_Y ((int)__nvvm_read_ptx_sreg_tid_y())
#define BH_NTID_X ((int)__nvvm_read_ptx_sreg_ntid_x())
#define BH_NTID_Y ((int)__nvvm_read_ptx_sreg_ntid_y())
#define BH_CTAID_X ((int)__nvvm_read_ptx_sreg_ctaid_x())
#define BH_CTAID_Y ((int)__nvvm_read_ptx_sreg_ctaid_y())
#define bh_sqrt(x) __builtin_sqrt(x)
#endif

#define BH_KERNEL extern "C" __global__ void

typedef unsigned char bh_u8;

// Global x and y of the calling thread in a 2-D launch.
static __device__ inline int bh_x(void) { return (int)(BH_CTAID_X * BH_NTID_X + BH_TID_X); }
static __device__ inline int bh_y(void) { return (int)(BH_CTAID_Y * BH_NTID_Y + BH_TID_Y); }

// bh_reflect101 is BORDER_REFLECT_101 (...cb|abcd|cb...), as airline.reflect101.
static __device__ inline int bh_reflect101(int i, int n) {
	if (n == 1) {
		return 0;
	}
	while (i < 0 || i >= n) {
		if (i < 0) {
			i = -i;
		}
		if (i >= n) {
			i = 2 * n - 2 - i;
		}
	}
	return i;
}

union bh_bits {
	double d;
	unsigned long long u;
};

// bh_log is Go's math.Log (math/log_amd64.s, the FreeBSD algorithm) for
// positive, finite, normal x, operation for operation.
static __device__ inline double bh_log(double x) {
	const double HSqrt2 = 7.07106781186547524401e-01;
	const double Ln2Hi = 6.93147180369123816490e-01;
	const double Ln2Lo = 1.90821492927058770002e-10;
	const double L1 = 6.666666666666735130e-01;
	const double L2 = 3.999999999940941908e-01;
	const double L3 = 2.857142874366239149e-01;
	const double L4 = 2.222219843214978396e-01;
	const double L5 = 1.818357216161805012e-01;
	const double L6 = 1.531383769920937332e-01;
	const double L7 = 1.479819860511658591e-01;
	union bh_bits b;
	b.d = x;
	double k = (double)((int)((b.u >> 52) & 0x7ff) - 0x3fe);
	b.u = (b.u & 0x000FFFFFFFFFFFFFull) | 0x3FE0000000000000ull;
	double f1 = b.d;
	if (f1 < HSqrt2) {
		f1 *= 2;
		k -= 1;
	}
	double f = f1 - 1;
	double s = f / (2 + f);
	double s2 = s * s;
	double s4 = s2 * s2;
	double t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
	double t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
	double R = t1 + t2;
	double hfsq = 0.5 * f * f;
	return k * Ln2Hi - ((hfsq - (s * (hfsq + R) + k * Ln2Lo)) - f);
}

#endif
