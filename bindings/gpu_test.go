package bindings_test

import (
	"testing"

	"bohost/host/gpu"
)

// On machines without a driver (the binding is in every build),
// bohost.gpu loads and says so.
func TestGPUWithoutDevice(t *testing.T) {
	if gpu.Available() {
		t.Skip("a GPU is available: the no-GPU behaviour is not observable here")
	}
	var freed int
	luatest_run(t, `
		local gpu = require "bohost.gpu"
		assert_eq(gpu.available(), false)
		local m, err = gpu.memory()
		assert(m == nil and err.kind == "unavailable", tostring(err))
		assert(err.hint and #err.hint > 0, "a hint says what to do")
		for _, f in ipairs{"empty_cache", "synchronize", "reset_peak", "devices"} do
			local e = expect_error("unavailable", gpu[f])
			assert(e.op == "gpu." .. f, e.op)
		end
		expect_error("unavailable", gpu.set_memory_fraction, 0.8)
		expect_error("bad_arg", gpu.set_memory_fraction, 1.5)
		expect_error("unavailable", gpu.set_memory_cap, "2GiB")
		expect_error("bad_arg", gpu.set_memory_cap, "lots")
	`, &freed)
}
