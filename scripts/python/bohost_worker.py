"""bohost_worker: run a Python evaluator under bohost (standard library only).

bohost starts your script once per worker process and sends it one evaluation
at a time; this module speaks bohost's evaluator protocol (version 1,
docs/evaluators.md) for you:

    import bohost_worker

    def setup():                      # optional: load models once per process
        global model
        model = load_model()

    def evaluate(x, w, env):          # x: {name: value}; w: list of floats
        score = run_pipeline(model, x, env["id"])
        return {"f": score, "n_lines": 12}   # or just a number

    bohost_worker.serve(evaluate, setup=setup)

env holds "index" and "id" (the environment w stands for: its index in the
run's environment list, -1 for a continuous w, and its id or None), "trial",
"iteration", "candidate", "attempt", "worker" (the worker slot) and "x_vec"
(x as a list, in the optimiser's order).

Importing this module moves the protocol off file descriptors 0 and 1: stdout
(fd 1) then goes to stderr, so print() and C libraries writing to stdout
cannot corrupt the protocol, and stdin reads nothing. bohost keeps what the
evaluator writes on stderr in RUN/workers/worker_N.log. An exception in
evaluate becomes an error reply with its traceback (the trial is "failed",
the process lives on); an exception in setup ends the process with an error
line bohost reports. A crash (a segfault in an extension), os._exit or the
memory cap cost one trial: bohost records it and starts the process again.

Run `bohost command` to see where bohost keeps this file (it puts that
directory first on the evaluator's PYTHONPATH).
"""

import json
import math
import os
import sys
import traceback

PROTOCOL = 1

__all__ = ["serve", "phase", "PROTOCOL"]


def _claim_stdio():
    """Returns (protocol_in, protocol_out) and points fd 1 at stderr, fd 0 at /dev/null."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    in_fd = os.dup(0)
    out_fd = os.dup(1)
    os.set_inheritable(in_fd, False)
    os.set_inheritable(out_fd, False)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    proto_in = os.fdopen(in_fd, "r", encoding="utf-8", newline="\n")
    proto_out = os.fdopen(out_fd, "w", encoding="utf-8", newline="\n")
    # sys.stdout still writes to fd 1, which is now stderr: line by line.
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except Exception:
        pass
    return proto_in, proto_out


_in, _out = _claim_stdio()


def _send(msg):
    _out.write(json.dumps(msg, allow_nan=False, default=_plain) + "\n")
    _out.flush()


def _plain(v):
    """JSON for values json does not know: numpy scalars and arrays, sets, ..."""
    if hasattr(v, "item") and callable(v.item):
        try:
            return _clean(v.item())
        except Exception:
            pass
    if hasattr(v, "tolist") and callable(v.tolist):
        return _clean(v.tolist())
    if isinstance(v, (set, frozenset, tuple)):
        return _clean(list(v))
    return repr(v)


def _clean(v):
    """Non-finite floats as the strings bohost reads as such; containers recursively."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def phase(name):
    """Tells bohost what the evaluation is doing now ("detect", "score"): a death
    certificate names the last phase. Call it only from inside evaluate."""
    _send({"type": "phase", "phase": str(name)})


def _reply(req_id, value):
    if isinstance(value, bool) or value is None:
        raise TypeError("evaluate must return a number or a dict with 'f', got %r" % (value,))
    if isinstance(value, dict):
        return {"type": "result", "id": req_id, "score": _clean(value)}
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        value = value.item()
    if isinstance(value, (int, float)):
        return {"type": "result", "id": req_id, "y": _clean(float(value))}
    raise TypeError("evaluate must return a number or a dict with 'f', got %s" % type(value).__name__)


def serve(evaluate, setup=None):
    """Runs setup() once, tells bohost it is ready, then answers evaluations
    with evaluate(x, w, env) until bohost closes the protocol (then returns)."""
    if setup is not None:
        try:
            setup()
        except BaseException as e:  # noqa: B902 - report everything, then exit
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            sys.stderr.flush()
            try:
                _send({"bohost": PROTOCOL, "type": "error", "error": "setup failed: %s: %s" % (type(e).__name__, e), "traceback": tb})
            finally:
                os._exit(1)
    _send({"bohost": PROTOCOL, "type": "ready", "pid": os.getpid()})
    for line in _in:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("type") != "eval":
            continue  # a newer bohost's message this version does not know
        env = dict(req.get("env") or {})
        for k in ("trial", "iteration", "candidate", "attempt", "worker"):
            env[k] = req.get(k)
        env["x_vec"] = req.get("x")
        try:
            msg = _reply(req["id"], evaluate(req.get("x_named") or {}, req.get("w") or [], env))
            line = json.dumps(msg, allow_nan=False, default=_plain)
        except Exception as e:
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            sys.stderr.flush()
            line = json.dumps({"type": "error", "id": req["id"], "error": "%s: %s" % (type(e).__name__, e), "traceback": tb})
        _out.write(line + "\n")
        _out.flush()
