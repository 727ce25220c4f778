package bindings_test

import "testing"

func TestGPAndRiskFromLua(t *testing.T) {
	var freed int
	luatest_run(t, `
		local gp = require "bohost.gp"
		local risk = require "bohost.risk"
		local m = gp.new{kernel = "matern52", seed = 3}
		assert(tostring(m):find("not fitted"))
		local e = expect_error("bad_state", m.predict, m, {{0.5}})
		assert(e.hint:find("fit"), e.hint)
		local X, Y = {}, {}
		for i = 1, 15 do local x = (i - 1) / 14; X[i] = {x, 1 - x}; Y[i] = math.cos(4 * x) end
		assert(rawequal(m:fit(X, Y), m))
		assert_eq(tostring(m), "bohost.gp.Model(n=15, d=2, matern52)")
		local mu, var = m:predict({X[4], {0.33, 0.67}})
		near(mu[1], Y[4], 0.02, "interpolates a training point")
		assert(var[1] >= 0 and var[2] >= 0)
		local h = m:hyper()
		assert_eq(#h.lengthscales, 2)
		local s1 = m:sample({{0.2, 0.8}, {0.21, 0.79}}, 4, 9)
		local s2 = m:sample({{0.2, 0.8}, {0.21, 0.79}}, 4, 9)
		assert_eq(#s1, 4); assert_eq(s1[3][2], s2[3][2], "deterministic for a seed")
		e = expect_error("bad_arg", m.fit, m, {{1, 2}, {3}}, {1, 2})
		assert(e.msg:find("X%[2%] has 1 values, expected 2"), e.msg)
		e = expect_error("bad_arg", m.fit, m, {{1, 2}}, {1, 2})
		assert(e.msg:find("1 rows but Y has 2"), e.msg)
		e = expect_error("bad_arg", gp.new, {kernal = "rbf"})
		assert(e.msg:find("did you mean 'kernel'"), e.msg)

		near(risk.cvar({5, 1, 4, 2, 3, 10, 9, 8, 7, 6}, 0.2), 1.5, 1e-12, "mean of the worst 2 of 10")
		near(risk.cvar({1, 2, 3, 4}, 0.3), (1 + 0.2 * 2) / 1.2, 1e-12, "fractional boundary weight")
		near(risk.mean({1, 2, 3}), 2, 1e-12); near(risk.worst({3, -1, 2}), -1, 0)
		local k, frac = risk.tail(25, 0.28)
		assert_eq(k, 7); near(frac, 0, 1e-12)
		local w, nw = risk.check_alphas({0.1, 0.2, 0.3, 0.4, 0.5}, 3)
		assert(#w >= 1 and nw > 3, "the user's plan alpha 0.1..0.5 with n_w = 3 must warn")
		e = expect_error("bad_arg", risk.cvar, {1, 2}, 1.5)
		assert(e.msg:find("alpha"), e.msg)
		expect_error("bad_arg", risk.cvar, {1, 2}, 0.5, {convention = "pytorch"})
	`, &freed)
}
