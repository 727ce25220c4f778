-- bo: bohost's friendly Lua layer over the raw modules (require "bohost.*").
-- Scripts start with `local bo = require "bo"`. Functions here only validate,
-- fill in defaults and call the raw modules; they never hold algorithms.
local sys = require "bohost.sys"

local bo = {}

--- bo.args{ {name, default, help}, ... } -> options
-- declares the script's command-line options, each once with its default (which fixes its type) and help, and parses arg
--   local opt = bo.args{
--     {"alpha", 0.1, "risk level: the fraction of worst environments averaged"},
--     {"alphas", {0.1, 0.3}, "a list: --alphas 0.1,0.3"},
--     {"seeds", {}, "an empty list of numbers", type = "numbers"},
--     {"report", true, "a boolean: --report, --no-report, --report false"},
--   }
-- The older form bo.args({alpha = 0.1, ...} [, {alpha = "help", ...}]) still works,
-- and both mix: --help lists declared options in order, then the others.
-- Accepted: --name value, --name=value (dashes and underscores are the
-- same), and for booleans --flag, --no-flag, --flag=false or --flag false.
-- Anything else stops the script with exit code 2 and a message naming the
-- argument: an unknown option (with a did-you-mean), alpha=0.5 or -alpha,
-- a positional argument (bo.args takes none: read arg for those), an option
-- whose value is missing or is another option (--dir --alpha 1; write
-- --dir=--odd for such a value), and an option given twice with different
-- values. --help prints the options with their defaults and help texts.
-- The returned table is strict: reading or setting a key that is not an
-- option raises with the nearest option (opt.iteratons is an error, not nil).
function bo.args(spec, help)
  if type(spec) ~= "table" then
    sys.raise("bad_arg", "bo.args", "options table expected, got " .. type(spec),
      'bo.args{ {"alpha", 0.1, "risk level"}, {"iterations", 30, "BO iterations"} }: name, default, help')
  end
  if help ~= nil and type(help) ~= "table" then
    sys.raise("bad_arg", "bo.args", "help must be a table of option = text, got " .. type(help),
      'declare the help with each option instead: bo.args{ {"alpha", 0.1, "risk level"} }')
  end
  return sys.parse_args(spec, arg or {}, help)
end

--- bo.version() -> string
-- the version of bohost, as bohost version prints it
function bo.version()
  return sys.version().bohost
end

--- bo.optimizer{space=, env=, alpha=0.1, n_w=16, acquisition="rho_kg", n_initial=, seed=0, ...} -> optimizer
-- the ask/tell optimiser of CVaR over environments: opt:ask(), opt:tell(x, w, y), opt:recommend()
-- Every option and method: bohost help bohost.bo.
function bo.optimizer(opts)
  if type(opts) ~= "table" then
    sys.raise("bad_arg", "bo.optimizer", "options table expected, got " .. type(opts),
      "bo.optimizer{space = {{lo, hi}, ...}, env = {{lo, hi}, ...}, alpha = 0.1, n_w = 16, ...}")
  end
  return require("bohost.bo").new(opts)
end

--- bo.restore(state) -> optimizer
-- rebuilds an optimiser from opt:state() (e.g. after ckpt.load): the next ask is identical
function bo.restore(state)
  if type(state) ~= "table" then
    sys.raise("bad_arg", "bo.restore", "state table expected (from opt:state()), got " .. type(state),
      "local opt = bo.restore(ckpt.load(path)) for a state saved with ckpt.save(path, opt:state())")
  end
  return require("bohost.bo").restore(state)
end

--- bo.run{dir=, optimizer=, objective=, iterations=30, workers=, timeout_s=120, max_rss=, on_failure="worst", every=, on_iteration=} -> summary
-- runs a crash-proof optimisation in the run directory dir, each evaluation in a worker process; the same call again resumes it
-- Calling it again with the same dir resumes exactly where it stopped.
-- objective is {file = "objective.lua", fn = "evaluate"} (the function gets
-- x and w as arrays and returns a number or {f = ...}) or {airline = {...}};
-- optimizer takes the options of bo.optimizer. Every option: docs/runs.md
-- and bohost help run.run.
function bo.run(opts)
  if type(opts) ~= "table" then
    sys.raise("bad_arg", "bo.run", "options table expected, got " .. type(opts),
      "bo.run{dir = ..., optimizer = {...}, objective = {file = ..., fn = ...}, ...} (docs/runs.md)")
  end
  return require("bohost.run").run(opts)
end

--- bo.on_shutdown(fn)
-- runs fn when the script ends, is interrupted (Ctrl-C) or terminated (SIGTERM); hooks run newest first
function bo.on_shutdown(fn)
  if type(fn) ~= "function" then
    sys.raise("bad_arg", "bo.on_shutdown", "function expected, got " .. type(fn),
      "bo.on_shutdown(function() ev:free() end)")
  end
  return sys.on_shutdown(fn)
end

--- bo.MODULE -> module
-- the raw module bohost.MODULE, loaded on first use: the same table as require "bohost.MODULE"
-- A name that is no module raises with a did-you-mean (bo.gpp: did you mean bo.gp?).

-- Lazy access to the raw modules: bo.mem, bo.gp, ... require "bohost.<name>"
-- on first use. A name that is no module raises (bo.gpp: did you mean bo.gp?).
local function raw_modules()
  local names = {}
  for name in pairs(package.preload) do
    local short = type(name) == "string" and name:match("^bohost%.([%w_]+)$")
    -- bo.run is the function; the raw module is require "bohost.run"
    if short and type(rawget(bo, short)) ~= "function" then names[#names + 1] = short end
  end
  table.sort(names)
  return names
end

setmetatable(bo, {
  __index = function(t, k)
    if type(k) == "string" and package.preload["bohost." .. k] then
      local mod = require("bohost." .. k)
      rawset(t, k, mod)
      return mod
    end
    local names = raw_modules()
    local fns = {}
    for name, v in pairs(t) do
      if type(v) == "function" then fns[#fns + 1] = name end
    end
    table.sort(fns)
    local msg = "no module bo." .. tostring(k)
    if type(k) == "string" then
      local all = {}
      for _, n in ipairs(fns) do all[#all + 1] = n end
      for _, n in ipairs(names) do all[#all + 1] = n end
      local near = sys.suggest(k, all)
      if near and type(rawget(t, near)) == "function" then
        msg = "no function bo." .. k .. " (did you mean bo." .. near .. "?)"
      elseif near then
        msg = msg .. " (did you mean bo." .. near .. "?)"
      else
        msg = "no function or module bo." .. k
      end
    end
    local listed = {}
    for i, n in ipairs(names) do listed[i] = "bo." .. n end
    for i, n in ipairs(fns) do fns[i] = "bo." .. n end
    sys.raise("bad_arg", "bo", msg, "bo has " .. table.concat(fns, ", ")
      .. " and the raw modules " .. table.concat(listed, ", ") .. " (bohost help bo)")
  end,
})

return bo
