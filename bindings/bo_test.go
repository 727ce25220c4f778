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

// TestAsyncAskFromLua is the asynchronous loop from Lua: keep four
// evaluations in flight with opt:ask{q = 1}, tell a random pending one back
// at each step; no (x, w) is ever pending twice, and the recommendation's
// true CVaR regret is comparable to the sequential loop's with the same
// number of evaluations.
func TestAsyncAskFromLua(t *testing.T) {
	luatest_run(t, `
		local bo = require "bo"
		local function f(x, w) return -(x[1] - 0.3)^2 - (x[2] - 0.6)^2 - 0.8 * (w[1] - 0.5)^2 * x[1] end
		local function cvar(x) -- true CVaR 0.3 (worst 30 %) over a fine w grid
			local ys = {}
			for i = 1, 200 do ys[i] = f(x, {(i - 0.5) / 200}) end
			table.sort(ys)
			local s = 0
			for i = 1, 60 do s = s + ys[i] end
			return s / 60
		end
		local best = -math.huge
		for i = 0, 100 do for j = 0, 100 do best = math.max(best, cvar({i / 100, j / 100})) end end
		local function cfg(seed)
			return {space = {{0, 1}, {0, 1}}, env = {{0, 1}}, alpha = 0.3, n_w = 4, acquisition = "ucb", mode = "pair",
				n_initial = 4, seed = seed, restarts = 3, raw_samples = 64}
		end
		local budget, ra, rs = 28, 0, 0
		for seed = 1, 3 do
			local seq = bo.optimizer(cfg(seed))
			for i = 1, budget do local x, w = seq:ask(); seq:tell(x, w, f(x, w)) end
			rs = rs + (best - cvar(seq:recommend().x)) / 3

			local opt = bo.optimizer(cfg(seed))
			math.randomseed(seed)
			for _, c in ipairs(opt:ask{q = 1}) do opt:tell(c.x, c.w, f(c.x, c.w)) end -- the initial design
			local told = 4
			opt:ask{q = 4}
			while told < budget do
				local p = opt:pending()
				local seen = {}
				for _, c in ipairs(p) do
					local k = table.concat(c.x, ",") .. "|" .. table.concat(c.w, ",")
					assert(not seen[k], "pending twice: " .. k)
					seen[k] = true
				end
				local c = p[math.random(#p)]
				opt:tell(c.x, c.w, f(c.x, c.w))
				told = told + 1
				if told + #opt:pending() < budget then opt:ask{q = 1} end
			end
			assert(#opt:pending() == 0, #opt:pending() .. " left pending")
			ra = ra + (best - cvar(opt:recommend().x)) / 3
		end
		print(string.format("mean regret: asynchronous %.4g, sequential %.4g", ra, rs))
		assert(ra <= math.max(2 * rs, rs + 0.01), string.format("asynchronous regret %.4g vs sequential %.4g", ra, rs))
		local e = expect_error("bad_arg", bo.optimizer(cfg(1)).ask, bo.optimizer(cfg(1)), {q = 0})
	`, nil)
}
