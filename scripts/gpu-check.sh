#!/usr/bin/env bash
# gpu-check.sh OUT_DIR: the on-device checks of host/gpu, for a GPU machine
# with an NVIDIA driver but no Go toolchain, no OpenCV and no network.
#
# Needs the test binary built on a CPU machine (make gpu-check-binary, i.e.
# CGO_ENABLED=0 go test -c -tags cuda -o bin/gpu.test ./host/gpu/: the
# driver binding is in every build, the tag adds the device tests) at
# bin/gpu.test, or at $BOHOST_GPU_TEST. Run it from the
# repository root. It
#   1. records the device, driver, memory and CUDA version (env.txt);
#   2. runs the device tests and the CPU-vs-GPU benchmark on the embedded PTX
#      (tests-embedded.txt, bench.md);
#   3. if nvcc is present, regenerates the PTX with it into OUT_DIR/ptx and
#      reruns the device tests on that PTX through BOHOST_PTX_DIR
#      (tests-nvcc.txt), so clang's PTX and nvcc's can be compared;
#   4. writes summary.txt (one line per step, PASS/FAIL/SKIP).
# Everything stays well under 5 minutes (step timeouts: 150 s + 90 s).
# The exit status is 0 only if every step that ran passed.
set -u
out=${1:?usage: scripts/gpu-check.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BOHOST_GPU_TEST:-$root/bin/gpu.test}
summary=$out/summary.txt
: >"$summary"
status=0
note() { echo "$*" | tee -a "$summary"; }

# 1. The machine.
{
	echo "# gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
	echo "## nvidia-smi"
	nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total,memory.used,memory.free --format=csv 2>&1 || echo "nvidia-smi failed"
	nvidia-smi 2>&1 | head -n 4 | tail -n 2
	echo "## CUDA"
	for h in /usr/local/cuda/include/cuda.h /usr/include/cuda.h; do
		[ -f "$h" ] && grep -m1 'define CUDA_VERSION' "$h"
	done
	command -v nvcc >/dev/null 2>&1 && nvcc --version | tail -n 2
	echo "## tools"
	for c in go gcc g++ clang nvcc; do printf '%s: %s\n' "$c" "$(command -v $c || echo absent)"; done
	echo "## libcuda"
	ldconfig -p 2>/dev/null | grep -m3 libcuda.so || echo "libcuda.so not in the ldconfig cache"
	echo "## test binary"
	ls -l "$bin" 2>&1
	ldd "$bin" 2>&1
} >"$out/env.txt" 2>&1
cat "$out/env.txt"

if [ ! -x "$bin" ]; then
	note "FAIL binary: $bin missing; build it on a CPU machine: make gpu-check-binary"
	exit 1
fi
if ldd "$bin" 2>/dev/null | grep -qi opencv; then
	note "FAIL binary: $bin links OpenCV, which this machine does not have"
	exit 1
fi
note "PASS binary: $bin has no OpenCV dependency"

# The tests resolve nothing relative to the working directory; run them from
# host/gpu anyway so a stray relative path would behave as under go test.
cd "$root/host/gpu" 2>/dev/null || cd "$root"

run() { # name timeout_s args...
	local name=$1 limit=$2
	shift 2
	local log=$out/tests-$name.txt
	local t0=$SECONDS
	timeout "$limit" "$bin" -test.v -test.timeout "$((limit - 10))s" "$@" >"$log" 2>&1
	local rc=$?
	local dt=$((SECONDS - t0))
	if [ $rc -eq 0 ] && grep -q -- '--- PASS: TestCUDADevice' "$log"; then
		note "PASS tests-$name ($dt s): $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- SKIP' "$log") skipped"
	elif [ $rc -eq 0 ]; then
		note "SKIP tests-$name ($dt s): the device tests skipped (no driver or device?): $(grep -m1 'no CUDA device' "$log")"
		status=1
	else
		note "FAIL tests-$name ($dt s, rc $rc): $(grep -m3 -E -- '--- FAIL|panic|Error' "$log" | tr '\n' ' ')"
		status=1
	fi
	grep -E '(cuda_device|nodriver)_test.go:[0-9]+: ' "$log" | sed 's/^ *//' >>"$summary"
}

# 2. Embedded PTX (clang, sm_52): all device tests and the benchmark, and
# the verdict of the default build's probe (TestThisMachine logs "CUDA:
# device 0 ..."; TestNoDriver hides the driver from a child process).
run embedded 150 -test.run 'CUDA|ThisMachine|NoDriver' -test.bench . -test.benchtime 20x

# Benchmark table: per-image time CPU vs GPU (GPU time includes transfers).
awk '
	/^BenchmarkCUDAStages\// {
		split($1, p, "/"); stage = p[2]; dev = p[3]; sub(/-[0-9]+$/, "", dev)
		ms[stage, dev] = $3 / 1e6; if (!(stage in seen)) { seen[stage] = 1; order[++n] = stage }
	}
	END {
		print "| stage (640x480) | CPU ms/image | GPU ms/image | CPU/GPU |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			s = order[i]; c = ms[s, "cpu"]; g = ms[s, "gpu"]
			printf "| %s | %.3f | %s | %s |\n", s, c, (g ? sprintf("%.3f", g) : "-"), (g ? sprintf("%.1fx", c / g) : "-")
		}
	}' "$out/tests-embedded.txt" >"$out/bench.md"
cat "$out/bench.md" | tee -a "$summary"

# 3. nvcc's PTX (the lowest architecture this nvcc accepts), via BOHOST_PTX_DIR.
if command -v nvcc >/dev/null 2>&1 && [ -f "$root/host/gpu/kernels/genptx.sh" ]; then
	if BOHOST_PTX_CC=nvcc sh "$root/host/gpu/kernels/genptx.sh" "$out/ptx" >"$out/genptx.txt" 2>&1; then
		note "PASS genptx: $(tr '\n' ' ' <"$out/genptx.txt")"
		BOHOST_PTX_DIR=$out/ptx run nvcc 90 -test.run 'CUDADevice|CUDAStagesMatchCPU'
	else
		note "FAIL genptx: $(tail -n 3 "$out/genptx.txt" | tr '\n' ' ')"
		status=1
	fi
else
	note "SKIP nvcc: nvcc or the kernel sources are absent; only the embedded PTX was checked"
fi

echo "results in $out (summary.txt, env.txt, tests-*.txt, bench.md)"
exit $status
