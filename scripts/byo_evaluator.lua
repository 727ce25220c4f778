-- Bring your own evaluator: tune a Python evaluator (scripts/python/example_eval.py,
-- standard library only) with bo.run. Each worker process starts the evaluator once
-- (its setup runs once), then sends it one (x, w) at a time over bohost's JSON-lines
-- protocol (docs/evaluators.md); a crash, a hang or a memory blow-up of the evaluator
-- costs one trial, never the run, and running the script again resumes it.
--
--   bin/bohost scripts/byo_evaluator.lua                 # runs/byo_evaluator
--   bin/bohost scripts/byo_evaluator.lua --smoke         # a tiny run in seconds
local bo = require "bo"
local sys = require "bohost.sys"

local opt = bo.args{
  {"dir", "runs/byo_evaluator", "the run directory (an existing one is resumed)"},
  {"iterations", 15, "BO iterations after the initial design"},
  {"workers", 2, "worker processes, each with its own long-lived evaluator"},
  {"python", "python3", "the Python interpreter that runs the evaluator"},
  {"alpha", 0.3, "risk level: the fraction of worst environments (noise levels) averaged"},
  {"smoke", false, "a tiny run in seconds (what the tests run)"},
}

-- The evaluator lives beside this script, wherever it is run from.
local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local evaluator = here .. "/python/example_eval.py"

-- python3 on PATH? (a bare name is looked up there, as the worker will)
local function found(prog)
  if prog:find("/") then return #sys.glob(prog) > 0 end
  for d in (sys.getenv("PATH") or ""):gmatch("[^:]+") do
    if #sys.glob(d .. "/" .. prog) > 0 then return true end
  end
  return false
end
if not found(opt.python) then
  if opt.smoke then
    print("byo_evaluator: " .. opt.python .. " not found on PATH: skipped")
    return
  end
  sys.raise("unavailable", "byo_evaluator", opt.python .. " not found on PATH", "give --python /path/to/python3")
end

local dir, iterations, workers, acquisition = opt.dir, opt.iterations, opt.workers, "qlognei"
if opt.smoke then
  dir, iterations, workers, acquisition = opt.dir .. "_smoke", 2, 1, "ucb"
end

local s = bo.run{
  dir = dir,
  optimizer = {
    space = {{name = "threshold", lo = 0.05, hi = 0.9}, {name = "window", lo = 1, hi = 15}},
    env = {list = {{0.02}, {0.05}, {0.1}, {0.2}, {0.3}, {0.4}}},   -- w: the noise level
    alpha = opt.alpha, n_w = 6, acquisition = acquisition, mode = "all_w", n_initial = 3, seed = 1,
    restarts = 2, raw_samples = 64,
  },
  objective = {command = {opt.python, evaluator}},
  iterations = iterations, workers = workers, timeout_s = 60, max_rss = "1GiB", progress = not opt.smoke,
}
print(string.format("byo_evaluator: %s after %d trials; recommended threshold %.3f, window %.1f; posterior CVaR %s",
  s.status, s.trials, s.recommended_x.threshold, s.recommended_x.window, tostring(s.posterior_cvar)))
print("the evaluator's stderr: " .. dir .. "/workers/worker_0.log")
