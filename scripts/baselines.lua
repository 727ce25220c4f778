-- baselines.lua: what the risk-averse sweep is judged against, on the same seeds, budget, data
-- and held-out split as scripts/alpha_sweep.lua, written into the same sweep directory so that
-- `bohost report` puts them in one table with the reference and every alpha:
--
--   defaults  AirLine's default parameters, no tuning: scored once on the tuning split and the
--             held-out split (recorded under each seed, so the report pairs them with every seed)
--   random    random search: the same budget of evaluations, x drawn at random, the recommendation
--             chosen as the sweep's are (recommend_from), on the mean over environments
--   ei        plain expected improvement on the mean over environments (alpha 1)
--
-- The random and ei runs differ from the risk-neutral reference (mean/seed_N) in the acquisition
-- only; every baseline records sweep = {role = "baseline", name = ..., varies = ...} in its
-- config.json, and the report's confounding guard checks that nothing else differs.
--
--   bin/bohost scripts/alpha_sweep.lua --out runs/alpha_sweep
--   bin/bohost scripts/baselines.lua --out runs/alpha_sweep      -- the same options as the sweep
--   bin/bohost scripts/baselines.lua --help
--
-- Kill it and run it again: finished runs are skipped, an unfinished one resumes.
local bo = require "bo"
local mem = require "bohost.mem"
local risk = require "bohost.risk"
local report = require "bohost.report"
local airline = require "bohost.airline"
local sys = require "bohost.sys"

-- The options alpha_sweep.lua has, with its defaults: pass the sweep's own values.
local opt = bo.args{
  {"baselines", {"defaults", "random", "ei"}, "which baselines: defaults (no tuning) | random (random search) | ei (expected improvement on the mean)"},
  {"iterations", 15, "BO iterations per run after the initial design (as alpha_sweep.lua)"},
  {"n_initial", 5, "initial design size (as alpha_sweep.lua)"},
  {"n_w", 0, "environments (images) in each run's W set (0: every image of the tuning split; as alpha_sweep.lua)"},
  {"seeds", {1, 2}, "one run per seed and baseline (as alpha_sweep.lua)"},
  {"data", "", "image directory (York Urban layout) or a welding label file (ground_truth.json); empty for the embedded synthetic set"},
  {"split", "train", "which split of the data set to tune on"},
  {"synth_n", 96, "synthetic images (half train, half test)"},
  {"scene", "weld", "synthetic scenes: weld | v1"},
  {"metric", "f", "the score: f | soft_lp (as alpha_sweep.lua)"},
  {"r", 0, "the metric's tolerance in pixels of the stored image (0: the default; as alpha_sweep.lua)"},
  {"downscale", 1, "with --data: reduce every image by this integer factor (as alpha_sweep.lua)"},
  {"device", "cpu", "cpu | cuda"},
  {"out", "runs/alpha_sweep", "the sweep directory: baseline_<name>/seed_N beside mean/ and alpha_*/"},
  {"workers", 2, "evaluation worker processes"},
  {"in_flight", 0, "BO iterations in flight at once (0: enough to keep every worker busy)"},
  {"timeout_s", 120, "seconds an evaluation may take before its worker is killed"},
  {"max_rss", "2GiB", "memory cap per worker process"},
  {"start_from_defaults", true, "the initial design starts with the detector's default parameters (as alpha_sweep.lua)"},
  {"recommend_from", "evaluated", "evaluated | continuous (as alpha_sweep.lua)"},
  {"holdout", "test", "held-out split every recommendation is scored on (holdout.json; empty: none)"},
  {"report", true, "draw the report of the whole sweep directory at the end"},
  {"smoke", false, "a tiny run that checks everything works in seconds"},
}

if opt.smoke then -- the same tiny settings as alpha_sweep.lua --smoke
  opt.iterations = 2; opt.n_initial = 3; opt.n_w = 3; opt.synth_n = 6; opt.workers = 1
  if opt.out == "runs/alpha_sweep" then opt.out = "runs/alpha_sweep_smoke" end
end

local known = {defaults = "defaults", random = "random search", ei = "EI on the mean"}
for _, b in ipairs(opt.baselines) do
  if not known[b] then
    sys.raise("bad_arg", "baselines.lua", string.format("unknown baseline %q in --baselines", b), "valid are defaults, random, ei")
  end
end

-- The data and evaluator, built exactly as alpha_sweep.lua builds them.
local label_file = opt.data:match("%.[jJ][sS][oO][nN]$") ~= nil
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
-- An evaluator scoring as the workers do: an explicit r (stored pixels) is r / downscale on
-- the reduced images.
local function new_evaluator()
  local a, e = objective.airline, {}
  for k, v in pairs(objective.airline.evaluator) do e[k] = v end
  if e.r and a.downscale then e.r = e.r / a.downscale end
  return airline.evaluator(e)
end
local defaults, named = {}, {}
for i, p in ipairs(airline.space()) do defaults[i], named[p.name] = p.default, p.default end

local function open_split(split)
  local a = objective.airline
  if opt.data == "" then return airline.dataset{synthetic = a.synth, split = split} end
  if label_file then return airline.dataset{labels = opt.data, split = split, downscale = a.downscale} end
  return airline.dataset{dir = opt.data, split = split, downscale = a.downscale}
end

if opt.n_w == 0 then opt.n_w = #open_split(opt.split) end -- every tuning image, as alpha_sweep.lua

-- The same budget as the sweep: a reference run of this sweep directory must agree.
for _, seed in ipairs(opt.seeds) do
  local ok, cfg = pcall(sys.read_json, string.format("%s/mean/seed_%d/config.json", opt.out, seed))
  if ok then
    for _, k in ipairs{"iterations", "n_initial", "n_w"} do
      if cfg[k] ~= nil and cfg[k] ~= opt[k] then
        sys.raise("bad_arg", "baselines.lua", string.format("the sweep's reference (%s/mean/seed_%d) ran with --%s %s, this --%s %s: the baselines would have another budget",
          opt.out, seed, (k:gsub("_", "-")), tostring(cfg[k]), (k:gsub("_", "-")), tostring(opt[k])), "pass the options the sweep was run with")
      end
    end
  end
end

-- Held-out scores, as alpha_sweep.lua writes them (holdout.json beside the run's summary).
local scorer = {}
local function holdout(dir, x)
  if opt.holdout == "" or opt.holdout == opt.split then return nil end
  local path = dir .. "/holdout.json"
  local ok, old = pcall(sys.read_json, path)
  if ok and old.split == opt.holdout and table.concat(old.x_vec or {}, ",") == table.concat(x, ",") then
    return old
  end
  if not scorer.ev then
    scorer.ds = open_split(opt.holdout)
    scorer.ev = new_evaluator()
  end
  local ids, scores = {}, {}
  for i, r in ipairs(scorer.ev:eval_many(x, scorer.ds)) do ids[i], scores[i] = scorer.ds[i].id, r.f end
  local h = {format = 1, split = opt.holdout, score = "f", x_vec = x,
    data_sha256 = scorer.ds:manifest().sha256, env_ids = ids, scores = scores, mean = risk.mean(scores)}
  sys.write_json(path .. ".tmp", h)
  assert(os.rename(path .. ".tmp", path))
  return h
end

local function mkdir(d)
  local code = os.execute("mkdir -p '" .. d:gsub("'", "'\\''") .. "'")
  if code ~= 0 and code ~= true then
    sys.raise("io", "baselines.lua", "cannot create the directory " .. d)
  end
end

local function show(dir, s, h)
  local fe = s.final_eval
  print(string.format("    %s%s", s.status,
    fe and string.format(": scored on %d images: CVaR %.3f, mean %.3f", #fe.scores, fe.cvar, fe.mean) or ""))
  if h then
    print(string.format("    held out (%s, %d images): mean %.3f, CVaR 0.1 %.3f", h.split, #h.scores, h.mean, risk.cvar(h.scores, 0.1)))
  end
end

-- Random search and EI: bo.run as the sweep's reference, the acquisition changed.
local acq = {random = "random", ei = "ei"}
local started = os.time()
for _, b in ipairs(opt.baselines) do
  if acq[b] then
    for _, seed in ipairs(opt.seeds) do
      local dir = string.format("%s/baseline_%s/seed_%d", opt.out, b, seed)
      print(string.format("baseline %s, seed %d -> %s", known[b], seed, dir))
      local s = bo.run{
        dir = dir,
        optimizer = {
          alpha = 1, convention = "bohost", n_w = opt.n_w,
          acquisition = acq[b], n_initial = opt.n_initial, seed = seed,
          recommend_from = opt.recommend_from,
          initial_x = opt.start_from_defaults and {defaults} or nil,
        },
        objective = objective,
        iterations = opt.iterations,
        workers = opt.workers, timeout_s = opt.timeout_s, max_rss = opt.max_rss,
        in_flight = opt.in_flight > 0 and opt.in_flight or nil,
        on_failure = "worst",
        every = {[5] = function() mem.collect() end},
        sweep = {seeds = opt.seeds, role = "baseline", name = known[b], varies = {"acquisition"}},
      }
      local h = s.status == "finished" and s.recommended_x_vec and holdout(dir, s.recommended_x_vec) or nil
      show(dir, s, h)
    end
  end
end

-- The default parameters: no optimiser. Scored once on the tuning split (the final evaluation a
-- run makes) and on the held-out split, and recorded under every seed with sweep.tuned = false.
for _, b in ipairs(opt.baselines) do
  if b == "defaults" then
    local ds = open_split(opt.split)
    local ev = new_evaluator()
    local t0 = os.time()
    local ids, scores = {}, {}
    for i, r in ipairs(ev:eval_many(defaults, ds)) do ids[i], scores[i] = ds[i].id, r.f end
    ev:free()
    local mean = risk.mean(scores)
    for _, seed in ipairs(opt.seeds) do
      local dir = string.format("%s/baseline_defaults/seed_%d", opt.out, seed)
      print(string.format("baseline defaults, seed %d -> %s", seed, dir))
      mkdir(dir)
      -- The objective and data as config.json records them for a bo.run of this sweep (one of
      -- ours or the reference), so the report compares like with like.
      local cfg = {format = 1, bohost_version = sys.version().bohost, alpha = 1, convention = "bohost", n_w = opt.n_w,
        acquisition = "none", n_initial = 0, iterations = 0, seed = seed, objective = objective,
        space = airline.space(),
        sweep = {seeds = opt.seeds, role = "baseline", name = "defaults", tuned = false, varies = {"acquisition", "iterations", "n_initial"}}}
      for _, other in ipairs{"mean", "baseline_ei", "baseline_random"} do
        local ok, c = pcall(sys.read_json, string.format("%s/%s/seed_%d/config.json", opt.out, other, seed))
        if ok then cfg.objective, cfg.data = c.objective, c.data; break end
      end
      sys.write_json(dir .. "/config.json", cfg)
      local s = {status = "finished", reason = "scored the evaluator's default parameters (no tuning)", iterations = 0, trials = 0,
        alpha = 1, convention = "bohost", n_w = opt.n_w, seed = seed, acquisition = "none",
        recommended_x = named, recommended_x_vec = defaults,
        final_eval = {env_ids = ids, scores = scores, cvar = mean, mean = mean}, wall_s = os.time() - t0}
      sys.write_json(dir .. "/summary.json.tmp", s)
      assert(os.rename(dir .. "/summary.json.tmp", dir .. "/summary.json"))
      show(dir, s, holdout(dir, defaults))
    end
  end
end
if scorer.ev then scorer.ev:free() end
print(string.format("baselines done in %d s: %s", os.time() - started, opt.out))

if opt.report then
  local r = report.generate(opt.out, {out = opt.out .. "/report"})
  for _, w in ipairs(r.warnings) do
    if w:find(": guard: ") then print("report guard: " .. w) end
  end
  if r.headline then print(r.headline) end
  print("figures and tables: " .. r.out .. " (start with " .. r.out .. "/summary.md)")
end
