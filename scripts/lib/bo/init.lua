-- bo: bohost's friendly Lua layer over the raw modules (require "bohost.*").
-- Scripts start with `local bo = require "bo"`. Functions here only validate,
-- fill in defaults and call the raw modules; they never hold algorithms.
local sys = require "bohost.sys"

local bo = {}

--- bo.args(defaults [, help]) -> options
-- Parses the script's command-line options (--name value, --name=value,
-- --flag, --no-flag; dashes and underscores are the same) against a table of
-- defaults, whose types fix each option's type. Lists are comma-separated:
--   local opt = bo.args{ alpha = 0.1, iterations = 30, alphas = {0.1, 0.2} }
-- An unknown option stops the script with exit code 2 and a did-you-mean.
function bo.args(defaults, help)
  return sys.parse_args(defaults, arg or {}, help)
end

--- bo.version() -> string
function bo.version()
  return sys.version().bohost
end

--- bo.optimizer{space=, env=, alpha=, n_w=, acquisition=, n_initial=, seed=} -> optimizer
-- The ask/tell optimiser of CVaR over environments (require "bohost.bo").new.
function bo.optimizer(opts)
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
    error("bo.run: options table expected, got " .. type(opts), 2)
  end
  return require("bohost.run").run(opts)
end

--- bo.on_shutdown(fn): run fn when the script ends or is interrupted.
bo.on_shutdown = sys.on_shutdown

-- Lazy access to the raw modules: bo.mem, bo.gp, ... require "bohost.<name>"
-- on first use.
setmetatable(bo, {
  __index = function(t, k)
    local ok, mod = pcall(require, "bohost." .. k)
    if ok then
      rawset(t, k, mod)
      return mod
    end
    return nil
  end,
})

return bo
