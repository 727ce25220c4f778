package bindings_test

import "testing"

// A loop written by hand with the raw modules: fit a GP over (x, w), build
// each acquisition, optimise it, check values, gradients and errors.
func TestAcqFromLua(t *testing.T) {
	var freed int
	luatest_run(t, `
		local gp = require "bohost.gp"
		local acq = require "bohost.acq"
		local risk = require "bohost.risk"
		local function f(x, w) return -(x[1] - 0.3)^2 - 0.5 * (w[1] - 0.5)^2 * x[1] end
		local W = {{0.1}, {0.5}, {0.9}}
		local X, Y, base = {}, {}, {}
		for i = 1, 6 do
			local x = {(i - 0.5) / 6}
			base[i] = x
			for _, w in ipairs(W) do X[#X + 1] = {x[1], w[1]}; Y[#Y + 1] = f(x, w) end
		end
		local m = gp.new{seed = 1}:fit(X, Y)
		local bounds = {{0, 1}}
		for _, name in ipairs{"qnei", "qlognei"} do
			local a = acq[name]{model = m, w = W, baseline = base, alpha = 0.5, seed = 3}
			assert(tostring(a):find(name), tostring(a))
			local v, g = a:grad({0.4})
			near(v, a:value({0.4}), 1e-12, name .. " grad's value")
			local h = 1e-5
			local fd = (a:value({0.4 + h}) - a:value({0.4 - h})) / (2 * h)
			near(g[1], fd, 1e-3 * math.max(1, math.abs(fd)), name .. " gradient vs finite differences")
			local x, best = acq.optimize(a, bounds, {seed = 1})
			assert(x[1] >= 0 and x[1] <= 1 and best >= a:value({0.05}) - 1e-9, name .. " optimum")
		end
		local u = acq.ucb{model = m, w = W, alpha = 0.5, beta = 2}
		local x = acq.optimize(u, bounds)
		local p = acq.posterior_risk{model = m, w = W, alpha = 0.5}
		local xr = acq.optimize(p, bounds)
		near(xr[1], 0.3, 0.15, "the posterior risk peaks near the robust optimum")
		local e = acq.ei{model = m, w = W, alpha = 0.5, best = p:value(xr)}
		assert(e:value({0.9}) >= 0)
		local err
		local t1 = acq.ts{model = m, w = W, alpha = 0.5, seed = 4}
		local v1, g1 = t1:grad({0.4})
		local fdt = (t1:value({0.4 + 1e-5}) - t1:value({0.4 - 1e-5})) / 2e-5
		near(g1[1], fdt, 1e-3 * math.max(1, math.abs(fdt)), "ts gradient vs finite differences")
		near(v1, acq.ts{model = m, w = W, alpha = 0.5, seed = 4}:value({0.4}), 0, "ts: the same seed draws the same function")
		assert(v1 ~= acq.ts{model = m, w = W, alpha = 0.5, seed = 5}:value({0.4}), "ts: another seed draws another function")
		local xt = acq.optimize(t1, bounds, {seed = 1})
		assert(xt[1] >= 0 and xt[1] <= 1)
		err = expect_error("bad_arg", acq.ts, {model = m, w = W, features = 0})
		assert(err.msg:find("features"), err.msg)
		local kg = acq.rho_kg{model = m, w = W, x_bounds = bounds, alpha = 0.5, fantasies = 8, seed = 2}
		assert(kg:value({0.5}, {0.5}) >= -1e-12, "rho-KG is a value of information")
		local xk, vk, wk = acq.optimize(kg, bounds, {raw_samples = 32, restarts = 4})
		assert(#xk == 1 and #wk == 1 and vk >= 0)

		-- errors name the bad option
		err = expect_error("bad_arg", acq.qlognei, {model = m, w = W, alpha = 0.5})
		assert(err.msg:find("baseline"), err.msg)
		err = expect_error("bad_state", acq.ucb, {model = gp.new{}, w = W})
		err = expect_error("bad_arg", acq.ucb, {model = m, w = {{1, 2, 3}}})
		assert(err.msg:find("only 2 inputs"), err.msg)
		err = expect_error("bad_arg", acq.ucb, {model = m, w = W, alpah = 0.1})
		assert(err.msg:find("did you mean 'alpha'"), err.msg)
		err = expect_error("bad_arg", u.value, u, {0.1, 0.2})
		assert(err.msg:find("x has 2 values"), err.msg)
		err = expect_error("bad_arg", acq.optimize, u, {{0, 1}, {0, 1}})
		assert(err.msg:find("bounds has 2 dimensions"), err.msg)
	`, &freed)
}
