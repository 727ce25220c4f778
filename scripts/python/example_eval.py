"""A small external evaluator for bohost (standard library only).

It stands for a real pipeline kept in Python: a 1-D step-edge detector
(moving-average smoothing, then gradient peaks above a threshold) scored by
its F1 against the true edges of a synthetic signal. The environment w is
the noise level; each environment index is its own signal. setup() builds
the "model" once per process (here: the clean signals and the smoothing
kernels), as a real evaluator would load its networks.

scripts/byo_evaluator.lua tunes it with bo.run; run it alone to try one x:

    python3 scripts/python/example_eval.py --try 0.3 5 0.1

Setting EXAMPLE_SETUP_LOG=FILE makes each setup append a line to FILE.
"""

import math
import os
import random
import sys
import time

LENGTH = 400
EDGES = 6
TOLERANCE = 3

signals = {}   # env index -> (clean signal, true edge positions)
kernels = {}   # window -> smoothing kernel


def setup():
    """Loads the model once per worker process."""
    for w in range(1, 16, 2):
        kernels[w] = [1.0 / w] * w
    if os.environ.get("EXAMPLE_SETUP_LOG"):
        with open(os.environ["EXAMPLE_SETUP_LOG"], "a") as f:
            f.write("setup pid %d\n" % os.getpid())
    print("example evaluator: model loaded (pid %d)" % os.getpid())  # goes to stderr: the log


def scene(index):
    """The clean signal of environment index and its true edges (cached)."""
    if index not in signals:
        rng = random.Random(1000 + index)
        edges = sorted(rng.sample(range(20, LENGTH - 20), EDGES))
        level, sig, k = 0.0, [], 0
        for i in range(LENGTH):
            if k < len(edges) and i == edges[k]:
                level += rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
                k += 1
            sig.append(level)
        signals[index] = (sig, edges)
    return signals[index]


def detect(noisy, threshold, window):
    """Edges of noisy: smoothed gradient peaks above threshold * the largest."""
    kernel = kernels[window]
    half = window // 2
    smooth = []
    for i in range(len(noisy)):
        acc = 0.0
        for j, k in enumerate(kernel):
            p = min(max(i + j - half, 0), len(noisy) - 1)
            acc += k * noisy[p]
        smooth.append(acc)
    grad = [abs(smooth[i + 1] - smooth[i]) for i in range(len(smooth) - 1)]
    top = max(grad) or 1.0
    found = []
    for i in range(1, len(grad) - 1):
        if grad[i] >= threshold * top and grad[i] >= grad[i - 1] and grad[i] > grad[i + 1]:
            if not found or i - found[-1] > half:
                found.append(i)
    return found


def f1(found, truth):
    hit = sum(1 for t in truth if any(abs(t - d) <= TOLERANCE for d in found))
    used = sum(1 for d in found if any(abs(t - d) <= TOLERANCE for t in truth))
    precision = used / len(found) if found else 0.0
    recall = hit / len(truth)
    if precision + recall == 0:
        return 0.0, precision, recall
    return 2 * precision * recall / (precision + recall), precision, recall


def evaluate(x, w, env):
    start = time.perf_counter()
    clean, truth = scene(env["index"])
    rng = random.Random(env["index"] * 7919 + 17)
    noisy = [v + rng.gauss(0, w[0]) for v in clean]
    window = int(round(x["window"])) // 2 * 2 + 1     # odd, 1 ... 15
    window = min(max(window, 1), 15)
    found = detect(noisy, x["threshold"], window)
    score, precision, recall = f1(found, truth)
    return {"f": score, "precision": precision, "recall": recall, "n_edges": len(found),
            "window": window, "ms": (time.perf_counter() - start) * 1000}


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--try":
        setup()
        x = {"threshold": float(sys.argv[2]), "window": float(sys.argv[3])}
        for i in range(3):
            print(i, evaluate(x, [float(sys.argv[4])], {"index": i}), file=sys.stderr)
        sys.exit(0)
    import bohost_worker   # put on PYTHONPATH by bohost (bohost command prints where it lives)
    bohost_worker.serve(evaluate, setup=setup)
