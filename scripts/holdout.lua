-- holdout.lua: score every run's recommended x of a sweep on held-out images, and show
-- what each alpha bought in the lower tail. Prints a Markdown table (mean ± std over seeds),
-- writes holdout.json beside the sweep and one in each run directory (the per-image scores
-- `bohost report` pairs against the risk-neutral reference, mean/seed_*: older sweeps too).
--
--   bin/bohost scripts/holdout.lua --sweep runs/alpha_sweep                 -- synthetic test split
--   bin/bohost scripts/holdout.lua --sweep runs/yu --data ../shared/data/lines/yorkurban --split test
local bo = require "bo"
local sys = require "bohost.sys"
local risk = require "bohost.risk"
local airline = require "bohost.airline"

local opt = bo.args{
  {"sweep", "runs/alpha_sweep", "the sweep directory (alpha_*/seed_*/summary.json)"},
  {"data", "", "image directory; empty: the synthetic set the sweep used (same n and seed)"},
  {"split", "test", "held-out split to score on"},
  {"synth_n", 24, "synthetic images the sweep generated (its --synth-n)"},
  {"tail", 0.1, "the lower-tail fraction reported as CVaR (0.1: the worst 10 % of images)"},
  {"smoke", false, "score the smoke sweep (runs/alpha_sweep_smoke) on its tiny images"},
}
if opt.smoke then opt.sweep = opt.sweep ~= "runs/alpha_sweep" and opt.sweep or "runs/alpha_sweep_smoke" end

local ds
if opt.data == "" then
  local size = opt.smoke and {width = 160, height = 120} or {width = 640, height = 480}
  ds = airline.dataset{synthetic = {n = opt.smoke and 6 or opt.synth_n, width = size.width, height = size.height, seed = 1}, split = opt.split}
else
  ds = airline.dataset{dir = opt.data, split = opt.split}
end
local ev = airline.evaluator{seed = 1}

local function quantile(xs, q) -- linear interpolation, as numpy
  local s = {}
  for i, v in ipairs(xs) do s[i] = v end
  table.sort(s)
  local h = (#s - 1) * q + 1
  local lo = math.floor(h)
  return s[lo] + (h - lo) * ((s[lo + 1] or s[lo]) - s[lo])
end
local function mean(xs) local t = 0 for _, v in ipairs(xs) do t = t + v end return t / #xs end
local function std(xs)
  if #xs < 2 then return 0 end
  local m, t = mean(xs), 0
  for _, v in ipairs(xs) do t = t + (v - m)^2 end
  return math.sqrt(t / (#xs - 1))
end

local rows, by_alpha, alphas = {}, {}, {}
local paths = sys.glob(opt.sweep .. "/mean/seed_*/summary.json") -- the risk-neutral reference first
for _, p in ipairs(sys.glob(opt.sweep .. "/alpha_*/seed_*/summary.json")) do paths[#paths + 1] = p end
for _, p in ipairs(paths) do
  local s = sys.read_json(p)
  if s.recommended_x_vec then
    local recs = ev:eval_many(s.recommended_x_vec, ds)
    local f, ids = {}, {}
    for i, r in ipairs(recs) do f[i], ids[i] = r.f, ds[i].id end
    sys.write_json(p:gsub("summary%.json$", "holdout.json"), {format = 1, split = opt.split, score = "f",
      x_vec = s.recommended_x_vec, data_sha256 = ds:manifest().sha256, env_ids = ids, scores = f, mean = mean(f)})
    local row = {run = p:match("([^/]+/seed_[^/]+)/summary%.json$"), alpha = s.alpha, seed = s.seed, mean = mean(f),
      cvar = risk.cvar(f, opt.tail), q10 = quantile(f, 0.1), worst = risk.worst(f), n = #f}
    rows[#rows + 1] = row
    if not by_alpha[s.alpha] then by_alpha[s.alpha] = {}; alphas[#alphas + 1] = s.alpha end
    table.insert(by_alpha[s.alpha], row)
  end
end
ev:free()
if #rows == 0 then error({kind = "bad_arg", msg = "no summary.json under " .. opt.sweep .. "/alpha_*/seed_* or mean/seed_*"}) end
table.sort(alphas)

print(string.format("Held-out scores (%s, %d images) at each run's recommended x; mean ± std over seeds.\n", opt.split, rows[1].n))
print(string.format("| alpha | seeds | mean F3 | CVaR %g (worst %g%% of images) | 10%% quantile | worst image |", opt.tail, opt.tail * 100))
print("|---|---|---|---|---|---|")
local out = {}
for _, a in ipairs(alphas) do
  local g = by_alpha[a]
  local col = function(k) local xs = {} for i, r in ipairs(g) do xs[i] = r[k] end return xs end
  print(string.format("| %s | %d | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f |",
    a == 1 and "mean (risk-neutral)" or string.format("%g", a), #g, mean(col("mean")), std(col("mean")), mean(col("cvar")), std(col("cvar")),
    mean(col("q10")), std(col("q10")), mean(col("worst")), std(col("worst"))))
  out[#out + 1] = {alpha = a, seeds = #g, mean = mean(col("mean")), cvar = mean(col("cvar")), q10 = mean(col("q10")), worst = mean(col("worst"))}
end
sys.write_json(opt.sweep .. "/holdout.json", {split = opt.split, tail = opt.tail, by_alpha = out, runs = rows})
print("\nwritten: " .. opt.sweep .. "/holdout.json")
