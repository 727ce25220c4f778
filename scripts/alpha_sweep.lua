-- alpha_sweep.lua: the thesis experiment. Tune the AirLine detector's parameters x for
-- CVaR at several risk levels alpha over environments w (images), one crash-proof run per
-- (alpha, seed), then draw the report.
--
--   bin/bohost scripts/alpha_sweep.lua                          -- the embedded synthetic data set
--   bin/bohost scripts/alpha_sweep.lua --data ../shared/data/lines/yorkurban --seeds 1,2,3
--   bin/bohost scripts/alpha_sweep.lua --help                   -- every option with its default
--
-- Kill it at any moment and run the same command again: finished runs are skipped, the
-- unfinished one resumes exactly where it stopped. Copy this file and edit it freely.
local bo = require "bo"
local mem = require "bohost.mem"
local gpu = require "bohost.gpu"
local risk = require "bohost.risk"
local report = require "bohost.report"
local airline = require "bohost.airline"
local sys = require "bohost.sys"
local cells = require "bohost.cells"

---------------------------------------------------------------------------------------------
-- Options: everything a sweep varies, with defaults. bohost's alpha is the fraction of the
-- worst environments averaged (0.1 = the worst 10 %, the most risk-averse).
---------------------------------------------------------------------------------------------
local opt = bo.args{
  {"alphas", {0.1, 0.2, 0.3, 0.4, 0.5}, "risk levels: the fraction of worst environments CVaR averages"},
  {"iterations", 15, "BO iterations per run after the initial design (all_w: each scores one x on all n_w images)"},
  {"n_initial", 5, "initial (x, w) evaluations per run"},
  {"n_w", 0, "environments (images) in each run's W set (0: every image of the tuning split, so CVaR is measured on all of them: docs/sweeps.md)"},
  {"acquisition", "qlognei", "qlognei (all_w: each x scored on the whole W set) | rho_kg (pair: one (x, image) per iteration) | qnei | ucb | ei | ts | random | sobol"},
  {"seeds", {1, 2}, "one run per seed and alpha"},
  {"data", "", "image directory (York Urban layout); empty for the embedded synthetic set"},
  {"split", "train", "which split of the data set to tune on"},
  {"synth_n", 96, "synthetic images (half train, half test)"},
  {"scene", "weld", "synthetic scenes: weld (welded steel, textured and faint images: docs/data-weld.md) | v1 (facades, corridors, boxes)"},
  {"metric", "f", "the score: f (F-score at r px, AirLine's) | soft_lp (the welding study's soft LP_r: docs/airline.md)"},
  {"r", 0, "the metric's tolerance in pixels of the stored image (0: the default, scaled with the image size)"},
  {"downscale", 1, "with --data: reduce every image by this integer factor (2: 3264x2448 -> 1632x1224) for tuning and held-out scoring; --r stays in pixels of the stored images"},
  {"device", "cpu", "cpu | cuda (falls back to the CPU with a warning without a GPU)"},
  {"out", "runs/alpha_sweep", "the sweep directory: one run directory per (alpha, seed), and report/"},
  {"workers", 1, "evaluation worker processes per run (with --executor slurm: job steps per cell)"},
  {"in_flight", 0, "BO iterations in flight at once, each proposed while the others evaluate (0: enough to keep every worker busy)"},
  {"timeout_s", 120, "seconds an evaluation may take before its worker is killed"},
  {"max_rss", "2GiB", "memory cap per worker process"},
  {"cleanup_every", 5, "run the cleanup schedule every k iterations (0: never)"},
  {"convention", "bohost", "bohost (alpha: the fraction of worst environments) | botorch (alpha: the confidence level, 1 - a)"},
  {"start_from_defaults", true, "the initial design starts with the detector's default parameters, so every run knows them (--no-start-from-defaults: Sobol points only)"},
  {"recommend_from", "evaluated", "evaluated (the best x tried) | continuous (the posterior optimum over the box)"},
  {"reference", true, "also run the risk-neutral reference (the mean over environments, alpha 1) with the same seeds: the baseline the report compares every alpha with"},
  {"holdout", "test", "held-out split every recommendation is scored on (holdout.json in its run directory; empty: none)"},
  {"report", true, "draw the report at the end (--no-report or --report false: skip it)"},
  {"executor", "local", "local (cells one after another in this process, or --parallel N at once) | slurm (one job array element per cell, its workers as job steps: docs/slurm.md)"},
  {"parallel", 0, "with --executor local: cells (runs) at once, each in its own process (0: 2, which keeps both cores of make run's machine busy through every run's model fits; 1 with --smoke)"},
  {"detach", false, "with --executor slurm: submit and return at once; the same command again waits for the jobs and draws the report"},
  {"partition", "", "--executor slurm: the partition (empty: the cluster's default)"},
  {"time", "", "--executor slurm: time limit per cell, e.g. 4:00:00 (a cell stopped by it resumes when the sweep is run again)"},
  {"mem", "", "--executor slurm: memory per cell (its script and workers), e.g. 16G"},
  {"cpus_per_task", 0, "--executor slurm: CPUs per worker step (0: Slurm's default)"},
  {"gpus_per_task", 0, "--executor slurm: GPUs per worker step"},
  {"max_running", 0, "--executor slurm: cells running at once (the array's %N; 0: as many as the cluster gives)"},
  {"sbatch_args", {}, "--executor slurm: more sbatch arguments, e.g. --sbatch-args=--account=lab,--qos=long", type = "strings"},
  {"cell", 0, "run only cell K of the sweep (what --parallel and --executor slurm start; 0: every cell)"},
  {"smoke", false, "a tiny sweep that checks everything works in seconds"},
}
if opt.parallel == 0 then opt.parallel = opt.smoke and 1 or 2 end
if opt.executor ~= "local" and opt.executor ~= "slurm" then
  sys.raise("bad_arg", "alpha_sweep", "--executor must be local or slurm, got " .. opt.executor, "--executor slurm submits the cells as a Slurm job array")
end

if opt.smoke then -- tiny images, few iterations: for CI and a first look
  opt.alphas = {0.1, 0.5}; opt.iterations = 2; opt.n_initial = 3; opt.n_w = 3
  opt.synth_n = 6; opt.workers = 1; opt.cleanup_every = 1
  if opt.out == "runs/alpha_sweep" then opt.out = "runs/alpha_sweep_smoke" end
end

---------------------------------------------------------------------------------------------
-- The cleanup schedule: what the original Python loop needed to survive, written in Lua.
-- It runs between iterations of every run; evaluations already run in separate worker
-- processes with a memory cap, so this only keeps the host lean.
---------------------------------------------------------------------------------------------
local function cleanup(run)
  mem.collect()
  if gpu.available() then gpu.empty_cache() end
end

local objective = {airline = {split = opt.split,
  evaluator = {seed = 1, device = opt.device, metric = opt.metric, r = opt.r > 0 and opt.r or nil}}}
if opt.data == "" then
  objective.airline.data = "synthetic"
  objective.airline.synth = opt.smoke and {n = opt.synth_n, width = 160, height = 120, seed = 1, scene = opt.scene}
    or {n = opt.synth_n, seed = 1, scene = opt.scene}
else
  objective.airline.data = opt.data
  if opt.downscale > 1 then objective.airline.downscale = opt.downscale end
end
if opt.device == "cuda" and not gpu.available() then
  print("warning: --device cuda: no GPU here (" .. select(2, gpu.memory()).msg .. "); using the CPU path")
end

-- open_split(split): the objective's images of one split, as a data set
local function open_split(split)
  local a = objective.airline
  return opt.data == "" and airline.dataset{synthetic = a.synth, split = split}
    or airline.dataset{dir = opt.data, split = split, downscale = a.downscale}
end

---------------------------------------------------------------------------------------------
-- The W set. --n-w 0 (the default) puts every tuning image in it: CVaR 0.1 of 16 images is
-- the worst one or two, and which hard images a run happened to draw decided what it
-- recommended; measured on all 48, the tail is the same for every run (docs/sweeps.md).
-- Can this n_w tell the alphas apart? With n_w = 3, alphas 0.1 to 0.3 all average only the
-- single worst image: the "different" runs would optimise the same objective.
---------------------------------------------------------------------------------------------
if opt.n_w == 0 then opt.n_w = #open_split(opt.split) end
local warnings, suggest = risk.check_alphas(opt.alphas, opt.n_w, {convention = opt.convention})
for _, w in ipairs(warnings) do print("warning: " .. w) end
if #warnings > 0 and suggest > opt.n_w then
  print(string.format("warning: with --n-w %d or more every alpha gives a different objective", suggest))
end

-- The detector's default parameters: the first point of every run's initial design.
local defaults = {}
for i, p in ipairs(airline.space()) do defaults[i] = p.default end

---------------------------------------------------------------------------------------------
-- Held-out scores: each recommendation scored on the same held-out images (split
-- opt.holdout), so the report can pair them image by image. Written to holdout.json in the
-- run directory; a rerun skips a run already scored at the same x.
---------------------------------------------------------------------------------------------
local holdout, scorer = nil, {} -- scorer: the held-out data set and evaluator, opened on first use
if opt.holdout ~= "" and (opt.split == "all" or opt.split == "") then
  print("warning: --split " .. opt.split .. " tunes on every image: the held-out images were seen in tuning")
end
-- scored_before(dir, s): the run's holdout.json when it scored this recommendation on this split
local function scored_before(dir, s)
  local ok, h = pcall(sys.read_json, dir .. "/holdout.json")
  if ok and h.split == opt.holdout and table.concat(h.x_vec or {}, ",") == table.concat(s.recommended_x_vec, ",") then return h end
end
if opt.holdout ~= "" and opt.holdout ~= opt.split then
  holdout = function(dir, s)
    local path = dir .. "/holdout.json"
    local old = scored_before(dir, s)
    if old then return old end
    if not scorer.ev then -- the objective's data and evaluator, on the held-out split
      local a = objective.airline
      scorer.ds = open_split(opt.holdout)
      -- the objective scores an explicit r (stored pixels) as r / downscale on the reduced
      -- images; the held-out evaluator must do the same
      local e = {}
      for k, v in pairs(a.evaluator) do e[k] = v end
      if e.r and a.downscale then e.r = e.r / a.downscale end
      scorer.ev = airline.evaluator(e)
    end
    local ev, ds = scorer.ev, scorer.ds
    local ids, scores = {}, {}
    for i, r in ipairs(ev:eval_many(s.recommended_x_vec, ds)) do ids[i], scores[i] = ds[i].id, r.f end
    local h = {format = 1, split = opt.holdout, score = "f", x_vec = s.recommended_x_vec,
      data_sha256 = ds:manifest().sha256, env_ids = ids, scores = scores, mean = risk.mean(scores)}
    sys.write_json(path .. ".tmp", h)
    assert(os.rename(path .. ".tmp", path))
    return h
  end
end

---------------------------------------------------------------------------------------------
-- The sweep: one run directory per (alpha, seed), and per seed the risk-neutral reference
-- (alpha 1 under bohost's convention: CVaR over all environments is their mean) in mean/.
-- bo.run resumes an unfinished directory and returns at once for a finished one.
---------------------------------------------------------------------------------------------
local levels = {}
if opt.reference then levels[1] = {alpha = 1, convention = "bohost", name = "mean", label = "mean (risk-neutral)"} end
for _, a in ipairs(opt.alphas) do
  levels[#levels + 1] = {alpha = a, convention = opt.convention, name = string.format("alpha_%g", a), label = string.format("alpha %g", a)}
end
local list = {} -- the sweep's cells, numbered as --cell numbers them
for _, seed in ipairs(opt.seeds) do
  for _, lv in ipairs(levels) do
    list[#list + 1] = {seed = seed, lv = lv, dir = string.format("%s/%s/seed_%d", opt.out, lv.name, seed)}
  end
end
local cells_dir = opt.out .. "/cells" -- the cells' logs and the sweep's Slurm jobs (jobs.jsonl)

local function print_cell(c, s)
  local fe = s.final_eval
  print(string.format("    %s: posterior CVaR %.3f%s", s.status, s.posterior_cvar or 0/0,
    fe and string.format(", scored on %d images: CVaR %.3f, mean %.3f", #fe.scores, fe.cvar, fe.mean) or ""))
end
local function print_holdout(h)
  print(string.format("    held out (%s, %d images): mean %.3f, CVaR 0.1 %.3f", h.split, #h.scores, h.mean, risk.cvar(h.scores, 0.1)))
end

-- One cell: its bo.run (resumed, or returned at once when finished), then its held-out score.
local function run_cell(k)
  local c = list[k]
  print(string.format("[%d/%d] %s, seed %d -> %s", k, #list, c.lv.label, c.seed, c.dir))
  local lv = c.lv
  -- inside a Slurm job (an array element of --executor slurm) the workers are job steps
  local steps = opt.executor == "slurm" and cells.slurm_ids() ~= nil
  local s = bo.run{
    dir = c.dir,
    optimizer = {
      alpha = lv.alpha, convention = lv.convention, n_w = opt.n_w,
      acquisition = opt.acquisition, n_initial = opt.n_initial, seed = c.seed,
      -- recommend the best x already evaluated (by posterior CVaR over the W set) rather
      -- than a point of the box no evaluation has visited: with a few dozen evaluations
      -- in 14 dimensions the GP's optimum often sits on an untried corner
      recommend_from = opt.recommend_from,
      initial_x = opt.start_from_defaults and {defaults} or nil,
    },
    objective = objective,
    iterations = opt.iterations,
    workers = opt.workers, timeout_s = opt.timeout_s, max_rss = opt.max_rss,
    in_flight = opt.in_flight > 0 and opt.in_flight or nil,
    on_failure = "worst",
    every = opt.cleanup_every > 0 and {[opt.cleanup_every] = cleanup} or nil,
    executor = steps and "slurm" or nil,
    slurm = steps and {gpus_per_task = opt.gpus_per_task > 0 and opt.gpus_per_task or nil,
      cpus_per_task = opt.cpus_per_task > 0 and opt.cpus_per_task or nil} or nil,
    sweep = {alphas = opt.alphas, seeds = opt.seeds, reference = opt.reference, role = lv.name == "mean" and "reference" or "alpha"},
  }
  print_cell(c, s)
  if holdout and s.status == "finished" and s.recommended_x_vec then print_holdout(holdout(c.dir, s)) end
  return s
end

-- A cell is done when its run finished and, with --holdout, its recommendation was scored.
local function cell_done(c)
  local ok, s = pcall(sys.read_json, c.dir .. "/summary.json")
  if not ok or s.status ~= "finished" then return false, ok and s or nil end
  if not holdout or not s.recommended_x_vec then return true, s end
  local h = scored_before(c.dir, s)
  return h ~= nil, s, h
end

local started = os.time()
if opt.cell > 0 then -- one cell, started by --parallel or a Slurm array element
  if opt.cell > #list then
    sys.raise("bad_arg", "alpha_sweep", string.format("--cell %d: this sweep has %d cells", opt.cell, #list), "cells are numbered from 1 over seeds, then levels")
  end
  local ids = cells.slurm_ids()
  if ids then
    print(string.format("cell %d in Slurm job %s%s", opt.cell, ids.job_id,
      ids.array_job_id and string.format(" (array %s, task %s)", ids.array_job_id, ids.array_task_id) or ""))
  end
  local s = run_cell(opt.cell)
  if scorer.ev then scorer.ev:free() end
  if s.status ~= "finished" then
    sys.raise("failed", "alpha_sweep", string.format("cell %d (%s) ended %s: %s", opt.cell, list[opt.cell].dir, s.status, s.reason or ""),
      "run the sweep again: the cell resumes from its run directory")
  end
  return
elseif opt.executor == "slurm" or opt.parallel > 1 then
  local todo = {}
  for k, c in ipairs(list) do
    if not cell_done(c) then todo[#todo + 1] = k end
  end
  print(string.format("%d of %d cells to run (%s)", #todo, #list, opt.executor == "slurm" and "Slurm job array" or string.format("%d at a time", opt.parallel)))
  if #todo > 0 and opt.executor == "slurm" then
    local ok, err = cells.slurm_available()
    if not ok then error(err, 0) end
    -- cells still queued or running from an earlier submission are waited for, not submitted twice
    local last, submit, jobs, seen = cells.last(cells_dir), {}, {}, {}
    for _, k in ipairs(todo) do
      local t = last[k]
      if t and t.active then
        if not seen[t.job_id] then seen[t.job_id] = true; jobs[#jobs + 1] = t.job_id end
        print(string.format("cell %d: already %s in job %s", k, t.state, t.task_job))
      else
        if t then print(string.format("cell %d: job %s ended %s%s, unfinished: resubmitting", k, t.task_job, t.state,
          (t.exit_code ~= "" and t.exit_code ~= "0:0") and " (exit " .. t.exit_code .. ")" or "")) end
        submit[#submit + 1] = k
      end
    end
    if #submit > 0 then
      local j = cells.submit{cells = submit, dir = cells_dir, slurm = {
        partition = opt.partition ~= "" and opt.partition or nil, time = opt.time ~= "" and opt.time or nil,
        mem = opt.mem ~= "" and opt.mem or nil, tasks = opt.workers,
        cpus_per_task = opt.cpus_per_task > 0 and opt.cpus_per_task or nil,
        gpus_per_task = opt.gpus_per_task > 0 and opt.gpus_per_task or nil,
        max_running = opt.max_running > 0 and opt.max_running or nil,
        sbatch_args = #opt.sbatch_args > 0 and opt.sbatch_args or nil}}
      print(string.format("submitted job array %s: cells %s (logs: %s/cell_K.log)", j.job_id, table.concat(submit, ","), cells_dir))
      jobs[#jobs + 1] = j.job_id
    end
    if opt.detach then
      print("detached: run the same command again to wait for the jobs and draw the report (squeue -j " .. table.concat(jobs, ",") .. ")")
      return
    end
    cells.wait{jobs = jobs, cells = todo, dir = cells_dir}
  elseif #todo > 0 then
    cells.run{cells = todo, dir = cells_dir, parallel = opt.parallel}
  end
  local missing = {}
  for k, c in ipairs(list) do
    local done, s, h = cell_done(c)
    print(string.format("[%d/%d] %s, seed %d -> %s", k, #list, c.lv.label, c.seed, c.dir))
    if s then print_cell(c, s) end
    if h then print_holdout(h) end
    if not done then missing[#missing + 1] = k end
  end
  if #missing > 0 then
    sys.raise("failed", "alpha_sweep", string.format("%d of %d cells did not finish: %s (their logs: %s/cell_K.log)",
      #missing, #list, table.concat(missing, ","), cells_dir),
      "run the same command again: it runs only the unfinished cells, each resuming from its run directory")
  end
else
  for k = 1, #list do run_cell(k) end
end
if scorer.ev then scorer.ev:free() end
print(string.format("sweep done in %d s: %s", os.time() - started, opt.out))

if opt.report then
  local r = report.generate(opt.out, {out = opt.out .. "/report"})
  local notes = 0
  for _, w in ipairs(r.warnings) do
    if w:find(": note: ") then notes = notes + 1 else print("report warning: " .. w) end
  end
  if notes > 0 then print(string.format("(%d notes, e.g. no GPU figures, are listed in summary.md)", notes)) end
  if r.headline then print(r.headline) end
  print("figures and tables: " .. r.out .. " (start with " .. r.out .. "/summary.md)")
end
