package bindings_test

import "testing"

func TestOptimizerFromLua(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		local function f(x, w) return -(x[1] - 0.3)^2 - (x[2] - 0.6)^2 - 0.5 * (w[1] - 0.5)^2 * x[1] end
		local opt = bo.optimizer{
			space = {{name = "a", lo = 0, hi = 1}, {name = "b", lo = 0, hi = 1}},
			env = {{0, 1}}, alpha = 0.3, n_w = 3, acquisition = "ucb", n_initial = 3, seed = 5,
		}
		assert(tostring(opt):find("ucb, alpha=0.3 bohost, n_w=3, d=2"), tostring(opt))
		for i = 1, 15 do
			local x, w = opt:ask()
			assert_eq(#x, 2); assert_eq(#w, 1)
			opt:tell(x, w, f(x, w))
		end
		local batch = opt:ask_batch()
		assert(#batch >= 1 and #batch[1].x == 2)
		-- restoring the state gives the same next ask, bit for bit
		local twin = bo.restore(opt:state())
		local x1, w1 = opt:ask()
		local x2, w2 = twin:ask()
		assert(x1[1] == x2[1] and x1[2] == x2[2] and w1[1] == w2[1], "restore changed the next ask")
		opt:tell_failed(x1, w1, "worst")
		local r = opt:recommend()
		assert(r.named.a == r.x[1] and r.named.b == r.x[2])
		assert(type(r.cvar) == "number")
		assert_eq(#opt:observations(), 16)
		assert(tostring(opt:model()):find("bohost.gp.Model"))

		-- Thompson sampling steps the same way
		local ts = bo.optimizer{space = {{0, 1}, {0, 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 3, acquisition = "ts", n_initial = 3, seed = 5}
		for i = 1, 15 do
			local x, w = ts:ask()
			ts:tell(x, w, f(x, w))
		end
		assert(tostring(ts):find("ts, alpha=0.3"), tostring(ts))
		assert(ts:diagnostics().iteration >= 1, "no Thompson-sampling iteration ran")

		-- the acquisition averaged over posterior draws of the GP hyper-parameters
		local fb = bo.optimizer{space = {{0, 1}, {0, 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 3, acquisition = "ucb", n_initial = 3, seed = 5, hyper_samples = 3}
		for i = 1, 5 do
			local x, w = fb:ask()
			fb:tell(x, w, f(x, w))
		end
		local fx = fb:ask()
		local gx = bo.restore(fb:state()):ask()
		assert(fx[1] == gx[1] and fx[2] == gx[2], "restore changed the next ask with hyper_samples")
		local e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, hyper_samples = 4})
		assert(e.msg:find("hyper_samples works with the ucb, ei, qnei and qlognei"), e.msg)

		-- design = "torch": BoTorch's draw_sobol_samples(n, q=1, seed=seed) initial x's
		local tb = bo.optimizer{space = {{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}, env = {{0, 1}, {0, 1}}, alpha = 0.5,
			n_w = 3, acquisition = "ucb", n_initial = 5, seed = 0, design = "torch"}
		local tx = tb:ask()
		-- torch.quasirandom.SobolEngine(6, scramble=True, seed=0).draw(5, dtype=torch.double)[0][0] (float32-rounded)
		assert(tx[1] == 0.47510719299316406, "torch design x[1] = " .. tx[1])
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, design = "scipy"})
		assert(e.msg:find("design"), e.msg)

		-- errors name the bad option
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, alpah = 0.1})
		assert(e.msg:find("did you mean 'alpha'"), e.msg)
		e = expect_error("bad_arg", bo.optimizer, {space = {{1, 0}}, env = {{0, 1}}})
		assert(e.msg:find("space%[1%]") and e.msg:find("lo < hi"), e.msg)
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, alpha = 1.5})
		assert(e.msg:find("alpha"), e.msg)
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, acquisition = "rhokg"})
		assert(e.msg:find("did you mean 'rho_kg'"), e.msg)
		e = expect_error("bad_arg", bo.optimizer, {env = {{0, 1}}})
		assert(e.msg:find("space is required"), e.msg) -- bo.Config.Validate: bo.run's airline objective may leave it out
		e = expect_error("bad_arg", opt.tell, opt, {0.1, 0.2}, {0.5}, 0/0)
		assert(e.msg:find("finite"), e.msg)
		e = expect_error("bad_arg", opt.tell, opt, {0.1, "x"}, {0.5}, 1)
		assert(e.msg:find("x%[2%] must be a number"), e.msg)

		-- finite environments: one w per image, chosen by snapping
		local envs = {}
		for i = 1, 12 do envs[i] = {(i % 4) / 4, (i % 3) / 3} end
		local o2 = bo.optimizer{space = {{0, 1}}, env = {list = envs}, n_w = 4, acquisition = "random", seed = 1}
		local W, idx = o2:w_set()
		assert_eq(#W, 4); assert_eq(#idx, 4)
		local x, w, ei = o2:ask()
		assert(ei >= 1 and ei <= 12 and envs[ei][1] == w[1] and envs[ei][2] == w[2])
	`, &freed)
}

// TestTellRefusesWhatBreaksTheModel: from Lua, opt:tell refuses a value the
// model cannot use (-math.huge is finite in gopher-lua) and a w outside the
// environments, with structured errors; outlier_factor = -1 turns the
// relative check off, and 0 is refused.
func TestTellRefusesWhatBreaksTheModel(t *testing.T) {
	luatest_run(t, `
		local bo = require "bo"
		local opt = bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 3, acquisition = "ucb", n_initial = 3, seed = 1}
		local e = expect_error("bad_value", opt.tell, opt, {0.5}, {0.5}, -math.huge)
		assert(e.msg:find("overflows"), e.msg)
		for i = 1, 6 do opt:tell({i / 7}, {i / 7}, -0.1 * i) end
		e = expect_error("bad_value", opt.tell, opt, {0.5}, {0.5}, -1e6)
		assert(e.msg:find("outlier_factor") and e.hint:find("transform"), e.msg)
		e = expect_error("bad_arg", opt.tell, opt, {0.5}, {1.5}, 0.1)
		assert(e.msg:find("outside the environment bounds"), e.msg)
		assert_eq(#opt:observations(), 6)
		local off = bo.optimizer{space = {{0, 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 3, acquisition = "ucb", n_initial = 3, seed = 1, outlier_factor = -1}
		for i = 1, 6 do off:tell({i / 7}, {i / 7}, -0.1 * i) end
		off:tell({0.5}, {0.5}, -1e6)
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, outlier_factor = 0})
		assert(e.msg:find("outlier_factor"), e.msg)
		e = expect_error("bad_arg", bo.optimizer, {space = {{0, 1}}, env = {{0, 1}}, outlier_factor = 0.5})
		assert(e.msg:find("outlier_factor must be >= 1"), e.msg)
	`, nil)
}
