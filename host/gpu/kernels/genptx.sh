#!/bin/sh
# genptx.sh [OUT_DIR]: compile every kernels/*.cu to OUT_DIR/NAME.ptx
# (default: host/gpu/ptx, the PTX that host/gpu embeds).
#
# Compiler: nvcc when present, else clang (no CUDA SDK needed); force one
# with BOHOST_PTX_CC=nvcc|clang. The target is a low virtual architecture so
# the driver JIT-compiles the PTX for any newer card: compute_52 (clang:
# sm_52). nvcc 13 dropped everything below Turing, so nvcc tries
# $BOHOST_PTX_ARCHS in order (default "compute_52 compute_75 compute_90")
# and keeps the first it accepts. Flags keep IEEE float semantics (no FMA
# contraction, IEEE division and sqrt, no flush-to-zero): see bh_cuda.h.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../ptx}
mkdir -p "$out"
cc=${BOHOST_PTX_CC:-}
if [ -z "$cc" ]; then
	if command -v nvcc >/dev/null 2>&1; then cc=nvcc; elif command -v clang >/dev/null 2>&1; then cc=clang; else
		echo "genptx: neither nvcc nor clang found (apt-get install --no-install-recommends clang)" >&2
		exit 1
	fi
fi
for cu in "$here"/*.cu; do
	name=$(basename "$cu" .cu)
	case $cc in
	nvcc)
		ok=
		for arch in ${BOHOST_PTX_ARCHS:-compute_52 compute_75 compute_90}; do
			if nvcc -ptx -arch="$arch" -O3 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false \
				-I"$here" "$cu" -o "$out/$name.ptx" 2>"$out/$name.nvcc.log"; then
				ok=$arch
				break
			fi
		done
		if [ -z "$ok" ]; then
			cat "$out/$name.nvcc.log" >&2
			exit 1
		fi
		rm -f "$out/$name.nvcc.log"
		echo "genptx: $name.ptx (nvcc $ok)"
		;;
	clang)
		clang -x cuda --cuda-device-only --cuda-gpu-arch=sm_52 -nocudainc -nocudalib -O3 \
			-ffp-contract=off -I"$here" -S "$cu" -o "$out/$name.ptx"
		echo "genptx: $name.ptx (clang sm_52)"
		;;
	*)
		echo "genptx: BOHOST_PTX_CC must be nvcc or clang, got $cc" >&2
		exit 1
		;;
	esac
done
