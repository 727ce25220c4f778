-- step.lua: one risk-averse optimiser, one step at a time. Written for the REPL:
--
--   $ bin/bohost
--   > S = dofile "scripts/step.lua"          -- sets up; prints what it built
--   > x, w, i = S.opt:ask()                   -- the next (x, w): parameters and an environment (image)
--   > S.opt:named(x)                          -- x by parameter name
--   > r = S.ev:eval(x, S.ds[i])               -- run the detector on image i, score it against ground truth
--   > S.opt:tell(x, w, r.f)                   -- tell the optimiser
--   > S.step()                                -- ask + evaluate + tell in one go, with a one-line record
--   > S.opt:recommend()                       -- the x with the best posterior CVaR over the W set
--   > S.model()                               -- the GP, and its hyper-parameters
--   > S.cvar(x)                               -- evaluate x on every image of the W set: its observed CVaR
--
-- Or as a script: bin/bohost scripts/step.lua --steps 8   (--smoke for a tiny, fast run)
local bo = require "bo"
local airline = require "bohost.airline"
local risk = require "bohost.risk"

local opt = bo.args{
  {"steps", 0, "steps to run when used as a script (0: just set up)"},
  {"alpha", 0.3, "risk level: the fraction of worst environments averaged"},
  {"n_w", 4, "environments (images) in the W set"},
  {"acquisition", "ucb", "rho_kg | qlognei | qnei | ucb | ei | ts | random | sobol"},
  {"seed", 1, "seeds the data set, the evaluator and the optimiser"},
  {"images", 8, "synthetic images to draw the W set from"},
  {"smoke", false, "tiny images and few steps: a quick check that everything works"},
}
if opt.smoke then
  opt.images, opt.n_w, opt.steps = 4, 2, math.max(opt.steps, 3)
end

local S = {}
local size = opt.smoke and {width = 160, height = 120} or {width = 640, height = 480}
S.ds = airline.dataset{synthetic = {n = opt.images, width = size.width, height = size.height, seed = opt.seed}}
S.ev = airline.evaluator{seed = opt.seed}
bo.on_shutdown(function() S.ev:free() end) -- native handles are freed explicitly
S.W = airline.env(S.ds)                      -- one environment vector per image
S.opt = bo.optimizer{
  space = airline.space(),                   -- the user's 8-D AirLine space, by name
  env = {list = S.W},                        -- w is an image: its feature vector
  alpha = opt.alpha, n_w = opt.n_w, acquisition = opt.acquisition,
  n_initial = opt.smoke and 2 or 4, seed = opt.seed,
}
print(S.ds)
print(S.ev)
print(S.opt)

-- step(): ask, evaluate in this process, tell; returns the score record.
function S.step()
  local x, w, i = S.opt:ask()
  local r = S.ev:eval(x, S.ds[i])
  S.opt:tell(x, w, r.f)
  print(string.format("iteration %d  image %-10s  F=%.3f  P=%.3f  R=%.3f  lines=%d  %.0f ms",
    S.opt:iteration(), S.ds[i].id, r.f, r.precision, r.recall, r.n_lines, r.ms))
  return r
end

-- model(): the GP behind the last proposal and its hyper-parameters.
function S.model()
  local m = S.opt:model()
  if m then print(m); return m, m:hyper() end
  print("no model yet: the initial design is still being evaluated")
end

-- cvar(x): the observed CVaR of x over the W set (evaluates every image of it).
function S.cvar(x)
  local _, idx = S.opt:w_set()
  local scores = {}
  for k, i in ipairs(idx) do scores[k] = S.ev:eval(x, S.ds[i]).f end
  return risk.cvar(scores, opt.alpha), scores
end

for _ = 1, opt.steps do S.step() end
if opt.steps > 0 then
  local rec = S.opt:recommend()
  local c = S.cvar(rec.x)
  print(string.format("recommended x: posterior CVaR %.3f, observed CVaR over the W set %.3f", rec.cvar, c))
  print("done")
end
return S
