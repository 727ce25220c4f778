"""Writes torch_sobol.json: points of torch.quasirandom.SobolEngine(dim, scramble=True, seed=seed)
drawn as float64, the reference sobol.NewTorch must reproduce bit for bit.

Run with Debian's python3-torch (1.13.1, the version the BoTorch anchors used):
    /usr/bin/python3 torch_sobol.py > torch_sobol.json
"""
import json

import torch
from torch.quasirandom import SobolEngine

CASES = [(1, 0, 8), (2, 0, 16), (2, 3, 3), (6, 0, 5), (6, 1, 5), (6, 4, 40), (8, 7, 33),
         (53, 123, 10), (6, 2**32 + 5, 5)]
out = {"torch": torch.__version__, "maxbit": SobolEngine.MAXBIT, "cases": []}
for dim, seed, n in CASES:
    e = SobolEngine(dim, scramble=True, seed=seed)
    pts = e.draw(n, dtype=torch.double)
    # float64 values as torch returns them (JSON round-trips them exactly). Note torch's point 0
    # is quasi / 2**MAXBIT in float32 (the default dtype) even for dtype=torch.double.
    out["cases"].append({"dim": dim, "seed": seed, "n": n, "points": pts.tolist()})
print(json.dumps(out, separators=(",", ":")))
