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
