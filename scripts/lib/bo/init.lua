-- bo: bohost's friendly Lua layer over the raw modules (require "bohost.*").
-- Scripts start with `local bo = require "bo"`. Functions here only validate,
-- fill in defaults and call the raw modules; they never hold algorithms.
local sys = require "bohost.sys"

local bo = {}

--- bo.args(defaults [, help]) -> options
-- Parses the script's command-line options against a table of defaults,
-- whose types fix each option's type. Lists are comma-separated:
--   local opt = bo.args{ alpha = 0.1, iterations = 30, alphas = {0.1, 0.2} }
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
function bo.args(defaults, help)
  if type(defaults) ~= "table" then
    sys.raise("bad_arg", "bo.args", "defaults table expected, got " .. type(defaults),
      "bo.args{alpha = 0.1, iterations = 30}: each key is an option, its value the default")
  end
  if help ~= nil and type(help) ~= "table" then
    sys.raise("bad_arg", "bo.args", "help must be a table of option = text, got " .. type(help))
  end
  return sys.parse_args(defaults, arg or {}, help)
end

--- bo.version() -> string
function bo.version()
  return sys.version().bohost
end

--- bo.optimizer{space=, env=, alpha=, n_w=, acquisition=, n_initial=, seed=} -> optimizer
-- The ask/tell optimiser of CVaR over environments (require "bohost.bo").new.
function bo.optimizer(opts)
  if type(opts) ~= "table" then
    sys.raise("bad_arg", "bo.optimizer", "options table expected, got " .. type(opts),
      "bo.optimizer{space = {{lo, hi}, ...}, env = {{lo, hi}, ...}, alpha = 0.1, n_w = 16, ...}")
  end
  return require("bohost.bo").new(opts)
end

--- bo.restore(state) -> optimizer: rebuilds an optimiser from opt:state().
function bo.restore(state)
  return require("bohost.bo").restore(state)
end

--- bo.run{dir=, optimizer=, objective=, iterations=30, workers=, timeout_s=120, max_rss=, on_failure="worst", every=, on_iteration=} -> summary
-- Runs a crash-proof optimisation in the run directory dir, each evaluation in
-- a worker process; calling it again with the same dir resumes exactly where
-- it stopped. objective is {file = "objective.lua", fn = "evaluate"} (the
-- function gets x and w as arrays and returns a number or {f = ...}) or
-- {airline = {...}}; optimizer takes the options of bo.optimizer. See
-- docs/runs.md and (require "bohost.run").run for every option.
function bo.run(opts)
  if type(opts) ~= "table" then
    sys.raise("bad_arg", "bo.run", "options table expected, got " .. type(opts),
      "bo.run{dir = ..., optimizer = {...}, objective = {file = ..., fn = ...}, ...} (docs/runs.md)")
  end
  return require("bohost.run").run(opts)
end

--- bo.on_shutdown(fn): run fn when the script ends or is interrupted.
bo.on_shutdown = sys.on_shutdown

-- Lazy access to the raw modules: bo.mem, bo.gp, ... require "bohost.<name>"
-- on first use. A name that is no module raises (bo.gpp: did you mean bo.gp?).
local function raw_modules()
  local names = {}
  for name in pairs(package.preload) do
    local short = type(name) == "string" and name:match("^bohost%.([%w_]+)$")
    if short then names[#names + 1] = short end
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
    local msg = "no module bo." .. tostring(k)
    local near = type(k) == "string" and sys.suggest(k, names)
    if near then msg = msg .. " (did you mean bo." .. near .. "?)" end
    local listed = {}
    for i, n in ipairs(names) do listed[i] = "bo." .. n end
    sys.raise("bad_arg", "bo", msg, "bo has " .. table.concat({"args", "optimizer", "restore", "run", "on_shutdown", "version"}, ", ")
      .. " and the raw modules " .. table.concat(listed, ", "))
  end,
})

return bo
