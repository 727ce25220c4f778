-- tune_airline.lua: tune the AirLine parameters x for the mean F3 over a
-- training split, then score the tuned x, the defaults and OpenCV's LSD on
-- both splits and print a Markdown table. Everything goes through the Lua API
-- (bohost.airline, bohost.bo); nothing here is specific to York Urban.
--
--   bin/bohost scripts/tune_airline.lua --smoke                      # seconds, tiny synthetic set
--   bin/bohost scripts/tune_airline.lua                              # the synthetic set (24 images, 640x480)
--   bin/bohost scripts/tune_airline.lua --data ../shared/data/lines/yorkurban --budget 160 --subset 17
--
-- Search (--method):
--   random  a scrambled Halton design over the space (log-scaled where the
--           space says so), the defaults first, then --refine steps of a
--           (1+1) random local search around the incumbent with a shrinking
--           step (a fixed share of the budget; 0 turns it off).
--   bo      bohost.bo with one environment (alpha = 1: the plain mean) and
--           expected improvement: plain Bayesian optimisation of the mean F3.
-- With --subset N each candidate is scored on N train images (evenly spread
-- over the split) to save time; the best --finalists of them are re-scored on
-- the full train split, and the winner on the full train split is the tuned x.
-- Every number in the final table is over the full splits.
local bo = require "bo"
local airline = require "bohost.airline"
local sys = require "bohost.sys"

local opt = bo.args{
  {"data", "", "a directory in York Urban's layout (image + JSON per image, split.json); empty: the built-in synthetic set"},
  {"split_train", "train", "the split x is tuned on"},
  {"split_test", "test", "the split the tuned x is scored on"},
  {"budget", 60, "candidate x evaluated during the search (the defaults count as one)"},
  {"method", "random", "random | bo"},
  {"space", "airline8", "airline8 (the original 8-D two-preset space) | classical (10-D, one run on a Canny map)"},
  {"seed", 1, "seeds the design, the local search, bo and the evaluator's RANSAC"},
  {"smoke", false, "tiny synthetic images and a budget of 6: a quick check that everything works"},
  {"subset", 0, "train images per candidate during the search (0: all)"},
  {"finalists", 5, "best candidates re-scored on the full train split"},
  {"refine", 0.5, "random: share of the budget spent on local search around the incumbent (0..1)"},
  {"workers", 0, "goroutines per ev:eval_many (0: all cores)"},
  {"n_initial", 10, "bo: initial design points (the defaults are one of them)"},
  {"quiet", false, "print only the table"},
}

if opt.method ~= "random" and opt.method ~= "bo" then
  error(string.format("--method must be random or bo, got %q", opt.method))
end
if opt.refine < 0 or opt.refine > 1 then
  error(string.format("--refine must be in [0, 1], got %g", opt.refine))
end
if opt.smoke then
  opt.budget, opt.finalists = math.min(opt.budget, 6), 2
end
local function say(...)
  if not opt.quiet then print(string.format(...)) end
end

-- Data: both splits, all images kept decoded (York Urban: 51 x 300 KB each).
local function open(split)
  if opt.data ~= "" then
    return airline.dataset{dir = opt.data, split = split, cache = 128}
  end
  local syn = opt.smoke and {n = 8, width = 160, height = 120, seed = opt.seed}
    or {n = 24, width = 640, height = 480, seed = opt.seed}
  return airline.dataset{synthetic = syn, split = split, cache = 128}
end
local train, test = open(opt.split_train), open(opt.split_test)
local ev = airline.evaluator{space = opt.space, seed = opt.seed} -- freed at the end (or by the runtime at exit)
local space = ev:space()
say("data: %s | %s", tostring(train), tostring(test))
say("evaluator: %s, method %s, budget %d, seed %d", tostring(ev), opt.method, opt.budget, opt.seed)

local function items_of(ds, n)
  local items, N = {}, #ds
  if n <= 0 or n >= N then
    for i = 1, N do items[i] = ds[i] end
    return items
  end
  for k = 1, n do items[k] = ds[math.floor((k - 0.5) * N / n) + 1] end -- evenly spread
  return items
end
local search_items = items_of(train, opt.subset)
local train_items, test_items = items_of(train, 0), items_of(test, 0)

local function mean_of(recs)
  local m = {f = 0, precision = 0, recall = 0, n_lines = 0, ms = 0}
  for _, r in ipairs(recs) do
    for k in pairs(m) do m[k] = m[k] + r[k] end
  end
  for k in pairs(m) do m[k] = m[k] / #recs end
  return m
end
local function score(x, items)
  local recs = ev:eval_many(x, items, {workers = opt.workers})
  local m = mean_of(recs)
  m.recs = recs
  return m
end

-- Unit cube <-> parameters (log scale where the space says so).
local function from_unit(u)
  local x = {}
  for j, p in ipairs(space) do
    local v
    if p.scale == "log" then
      v = math.exp(math.log(p.lo) + u[j] * (math.log(p.hi) - math.log(p.lo)))
    else
      v = p.lo + u[j] * (p.hi - p.lo)
    end
    x[j] = math.min(math.max(v, p.lo), p.hi)
  end
  return x
end
local function to_unit(x)
  local u = {}
  for j, p in ipairs(space) do
    if p.scale == "log" then
      u[j] = (math.log(x[j]) - math.log(p.lo)) / (math.log(p.hi) - math.log(p.lo))
    else
      u[j] = (x[j] - p.lo) / (p.hi - p.lo)
    end
  end
  return u
end
local defaults = {}
for j, p in ipairs(space) do defaults[j] = p.default end

-- A seeded generator (xorshift-style, 2^53-safe arithmetic) so results do not
-- depend on Lua's math.random implementation.
local state = (opt.seed * 2654435761 + 12345) % 2147483647
if state == 0 then state = 1 end
local function rand()
  state = (state * 48271) % 2147483647 -- MINSTD
  return state / 2147483647
end
local function randn()
  local u1, u2 = math.max(rand(), 1e-12), rand()
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
end

-- Scrambled Halton points: radical inverse in the first d primes with a
-- random digit permutation per dimension (Sobol-like coverage, in plain Lua).
local primes = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}
local perms = {}
for j = 1, #space do
  local b, p = primes[j], {}
  for k = 0, b - 1 do p[k] = k end
  for k = b - 1, 2, -1 do -- keep 0 -> 0 so the sequence stays well spread
    local r = 1 + math.floor(rand() * k)
    p[k], p[r] = p[r], p[k]
  end
  perms[j] = p
end
local function halton(i)
  local u = {}
  for j = 1, #space do
    local b, f, v, n = primes[j], 1, 0, i
    while n > 0 do
      f = f / b
      v = v + f * perms[j][n % b]
      n = math.floor(n / b)
    end
    u[j] = v
  end
  return u
end

local tried = {}
local best
local function record(x, m, how)
  tried[#tried + 1] = {x = x, m = m, how = how}
  if not best or m.f > best.m.f then
    best = tried[#tried]
  end
  say("%4d %-7s F=%.4f P=%.3f R=%.3f lines=%5.0f %5.0f ms/img | best %.4f", #tried, how, m.f, m.precision,
    m.recall, m.n_lines, m.ms, best.m.f)
end

local t0 = sys.clock()
if opt.method == "random" then
  local n_local = math.floor(opt.budget * opt.refine + 0.5)
  local n_global = math.max(opt.budget - n_local, 1)
  record(defaults, score(defaults, search_items), "default")
  for i = 1, n_global - 1 do
    local x = from_unit(halton(i))
    record(x, score(x, search_items), "design")
  end
  local step = 0.15 -- in unit-cube units
  for _ = 1, n_local do
    local u0, u = to_unit(best.x), {}
    for j = 1, #space do u[j] = math.min(math.max(u0[j] + step * randn(), 0), 1) end
    local before = best.m.f
    local x = from_unit(u)
    record(x, score(x, search_items), "local")
    if best.m.f > before then step = math.min(step * 1.5, 0.3) else step = math.max(step * 0.85, 0.02) end
  end
else
  local named = {}
  for j, p in ipairs(space) do named[j] = {name = p.name, lo = p.lo, hi = p.hi, scale = p.scale} end
  local o = bo.optimizer{
    space = named, env = {list = {{0}}}, alpha = 1, n_w = 1, acquisition = "ei",
    n_initial = math.max(2, math.min(opt.n_initial, opt.budget)), seed = opt.seed,
  }
  local x1, w1 = o:ask() -- the first design point is replaced by the defaults
  local m = score(defaults, search_items)
  o:tell(defaults, w1, m.f)
  record(defaults, m, "default")
  for _ = 2, opt.budget do
    local x, w = o:ask()
    m = score(x, search_items)
    o:tell(x, w, m.f)
    record(x, m, "bo")
  end
  local _ = x1
end
local search_s = sys.clock() - t0

-- Finalists on the full train split (the search score may be on a subset).
table.sort(tried, function(a, b) return a.m.f > b.m.f end)
local tuned, tuned_train
if #search_items == #train_items then
  tuned, tuned_train = tried[1].x, tried[1].m
else
  for k = 1, math.min(opt.finalists, #tried) do
    local m = score(tried[k].x, train_items)
    say("finalist %d (search F=%.4f): train F=%.4f", k, tried[k].m.f, m.f)
    if not tuned_train or m.f > tuned_train.f then tuned, tuned_train = tried[k].x, m end
  end
end

-- The table: tuned x, defaults and LSD on both splits.
local function lsd_score(items)
  local recs = {}
  for k, it in ipairs(items) do
    local t1 = sys.clock()
    local segs = airline.baseline("lsd", it)
    local s = airline.score(segs, it)
    recs[k] = {f = s.f, precision = s.precision, recall = s.recall, n_lines = #segs, ms = (sys.clock() - t1) * 1000}
  end
  local m = mean_of(recs)
  m.recs = recs
  return m
end
local rows = {
  {opt.split_train, #train_items, "AirLine tuned", tuned_train},
  {opt.split_train, #train_items, "AirLine defaults", score(defaults, train_items)},
  {opt.split_train, #train_items, "OpenCV LSD", lsd_score(train_items)},
  {opt.split_test, #test_items, "AirLine tuned", score(tuned, test_items)},
  {opt.split_test, #test_items, "AirLine defaults", score(defaults, test_items)},
  {opt.split_test, #test_items, "OpenCV LSD", lsd_score(test_items)},
}

local src = opt.data ~= "" and opt.data or (opt.smoke and "synthetic 160x120 (8 images)" or "synthetic 640x480 (24 images)")
print()
print(string.format("Tuned on %s split %q (%d images, %d per candidate), %s search, budget %d, space %s, seed %d, %.0f s",
  src, opt.split_train, #train_items, #search_items, opt.method, opt.budget, opt.space, opt.seed, search_s))
print()
print("| split | images | detector | F3 | P3 | R3 | lines/image | ms/image |")
print("|---|---|---|---|---|---|---|---|")
for _, r in ipairs(rows) do
  local m = r[4]
  print(string.format("| %s | %d | %s | %.3f | %.3f | %.3f | %.0f | %.1f |", r[1], r[2], r[3], m.f, m.precision, m.recall, m.n_lines, m.ms))
end
print()
local parts = {}
for j, p in ipairs(space) do parts[j] = string.format("%s = %.4g", p.name, tuned[j]) end
print("tuned x: {" .. table.concat(parts, ", ") .. "}")
local test_tuned, test_lsd = rows[4][4].f, rows[6][4].f
-- Paired per-image comparison on the test split: is the gap larger than its noise?
local a, b = rows[4][4].recs, rows[6][4].recs
local n, sum, sum2, wins = #a, 0, 0, 0
for k = 1, n do
  local d = a[k].f - b[k].f
  sum, sum2 = sum + d, sum2 + d * d
  if d > 0 then wins = wins + 1 end
end
local mean_d = sum / n
local se = n > 1 and math.sqrt(math.max(sum2 / n - mean_d * mean_d, 0) * n / (n - 1) / n) or 0
print(string.format("test split, tuned minus LSD per image: mean %+.4f (standard error %.4f), tuned better on %d of %d images",
  mean_d, se, wins, n))
ev:free()
print(string.format("tune_airline: done: test F3 tuned %.3f vs LSD %.3f (%s)", test_tuned, test_lsd,
  test_tuned > test_lsd and "tuned beats LSD" or "LSD is better"))
