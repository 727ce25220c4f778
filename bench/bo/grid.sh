#!/bin/sh
# The engine grid of docs/engine.md: hart6 (BoTorch's and bohost's alpha
# conventions) and the tutorial, one process per cell (so that each cell's
# peak RSS is its own), one at a time, one core. Results: CSV rows in $OUT;
# tables: go run ./bench/bo -table $OUT/hart6_botorch.csv,$OUT/tutorial.csv,...
# Usage: sh bench/bo/grid.sh [OUT]   (default /tmp/bohost-engine-grid; about 40 CPU minutes)
#        DESIGN=torch sh bench/bo/grid.sh OUT   (hart6 from BoTorch's seeded initial designs:
#        seed s starts from the anchors' seed-s x's; files hart6_botorch_torch.csv, ...)
#        ACQS="qlognei qnei" CONVS=botorch sh bench/bo/grid.sh OUT   (a subset of the cells;
#        the tutorial runs only when ACQS holds rho_kg); BIN=path uses that bench binary
#        instead of building ./bench/bo (e.g. one built from an older commit, for a before/after)
set -e
OUT=${1:-/tmp/bohost-engine-grid}
DESIGN=${DESIGN:-bohost}
SUF=""
[ "$DESIGN" = bohost ] || SUF="_$DESIGN"
mkdir -p "$OUT"
ACQS=${ACQS:-qlognei sobol qnei ucb ei rho_kg}
CONVS=${CONVS:-botorch bohost}
if [ -n "$BIN" ]; then cp "$BIN" "$OUT/bo"; else go build -o "$OUT/bo" ./bench/bo; fi
cd "$OUT"
export GOMAXPROCS=1
H="-problem hart6 -kernel rbf -prior gamma -seeds 5 -iters 30 -perseed=false -design $DESIGN"
for conv in $CONVS; do
  for acq in $ACQS; do
    for nw in 16 3; do
      for a in 0.1 0.3 0.5; do
        ./bo $H -acq $acq -nw $nw -alpha $a -conv $conv -csv hart6_$conv$SUF.csv >> hart6_$conv$SUF.log 2>&1
      done
    done
  done
  if [ $conv = botorch ] && [ "$DESIGN" = bohost ] && echo " $ACQS " | grep -q " rho_kg "; then
    ./bo -problem tutorial -kernel matern52 -prior gamma -acq rho_kg -nw 16 -alpha 0.7 -seeds 5 -iters 40 \
      -perseed=false -csv tutorial.csv >> tutorial.log 2>&1
  fi
done
echo finished > done.txt
