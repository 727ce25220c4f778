package bindings_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"bohost/host/lua"
	"bohost/host/lua/luatest"
	"bohost/host/memctl"
)

// The evaluator path as users run it, end to end through the Lua API: each
// cycle is one evaluation (ev:eval on a synthetic item, every 7th on a
// perturbed image), plus airline.baseline("lsd") + airline.score every 3rd,
// ev:detect on an image file every 10th, ev:eval_many every 50th and a
// scoped evaluator made and freed every 100th. host/cv checks its own Mats
// (host/cv/matprofile_test.go); this checks the whole path a script drives.
const leakSetup = `
	airline = require "bohost.airline"
	mem = require "bohost.mem"
	LIVE0 = mem.live()
	ds = airline.dataset{synthetic = {n = 6, width = 160, height = 120, seed = 5}, cache = 6}
	ds:write(DIR)
	files = airline.dataset{dir = DIR}
	ev = airline.evaluator{seed = 1}
	xs = {
		nil,
		{-4, 0.85, 0.02, -8, 0.7, 0.05, 6, 15},
		{-23, 0.5, 0.01, 7, 0.99, 0.15, 1, 20},
		{7, 0.99, 0.15, -23, 0.5, 0.01, 20, 1},
	}
	function cycle(k)
		local it = ds[k % #ds + 1]
		local x = xs[k % 4 + 1]
		local r
		if k % 7 == 0 then
			r = ev:eval(x, it, {gain = 0.8, contrast = 1.2, noise = 4, blur = 0.8, seed = k})
		else
			r = ev:eval(x, it)
		end
		assert(r.f >= 0 and r.f <= 1 and r.n_lines >= 0, "a score in [0, 1]")
		if k % 3 == 0 then
			local s = airline.score(airline.baseline("lsd", it), it)
			assert(s.f >= 0 and s.f <= 1)
		end
		if k % 10 == 0 then
			ev:detect(x, files[k % #files + 1].path)
		end
		if k % 50 == 0 then
			assert_eq(#ev:eval_many(x, {ds[1], ds[2], ds[3]}, {workers = 2}), 3)
		end
		if k % 100 == 0 then
			mem.scope(function()
				local e2 = airline.evaluator{seed = k}
				e2:eval(nil, it)
			end)
		end
	end
`

// leakRig is a runtime running leakSetup.
type leakRig struct {
	rt *lua.Runtime
	k  int
}

func newLeakRig(t testing.TB) *leakRig {
	t.Helper()
	var freed int
	rt := luatest.New(t, modules(&freed))
	dir := strings.ReplaceAll(t.TempDir(), `\`, `/`)
	if _, err := rt.DoString(context.Background(), fmt.Sprintf("DIR = %q\n", dir)+leakSetup, "leak_setup"); err != nil {
		t.Fatal(err)
	}
	return &leakRig{rt: rt}
}

// run does n more cycles.
func (r *leakRig) run(t testing.TB, n int) {
	t.Helper()
	src := fmt.Sprintf("for k = %d, %d do cycle(k) end", r.k+1, r.k+n)
	if _, err := r.rt.DoString(context.Background(), src, "leak_cycles"); err != nil {
		if se, ok := err.(*lua.ScriptError); ok {
			t.Fatalf("%v\n%s", se, se.Traceback)
		}
		t.Fatal(err)
	}
	r.k += n
}

// finish frees the evaluator and checks mem.live() is back to its start.
func (r *leakRig) finish(t testing.TB) {
	t.Helper()
	if _, err := r.rt.DoString(context.Background(), `
		ev:free()
		assert_eq(mem.live(), LIVE0, "mem.live() after 'ev:free()'")
	`, "leak_finish"); err != nil {
		t.Fatal(err)
	}
}

// settledRSS is VmRSS after two full collections and returning free memory
// to the OS (gopher-lua's tables are Go heap objects).
func settledRSS() int64 {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	rss, _ := memctl.ProcRSS("self")
	return int64(rss)
}

// rssGrowthLimit is the acceptance bound: RSS growth over the measured
// evaluations after warm-up.
const rssGrowthLimit = 5 << 20

// measure warms up, then returns the RSS growth over n cycles.
func (r *leakRig) measure(t testing.TB, warm, n int) int64 {
	r.run(t, warm)
	before := settledRSS()
	r.run(t, n)
	after := settledRSS()
	if before == 0 {
		t.Skip("VmRSS unavailable (no /proc/self/status): the RSS check needs Linux")
	}
	return after - before
}

// leakCycles is the acceptance's 1,000 evaluations (about 4 s on the 2-core
// development machine); BOHOST_LONG=1 runs 5,000.
func leakCycles() int {
	if os.Getenv("BOHOST_LONG") == "1" {
		return 5000
	}
	return 1000
}

func TestAirlineEvaluatorNoLeak(t *testing.T) {
	n := leakCycles()
	r := newLeakRig(t)
	growth := r.measure(t, 50, n)
	t.Logf("%d evaluations after 50 of warm-up: RSS growth %+.2f MB (limit %d MB)", n, float64(growth)/(1<<20), rssGrowthLimit>>20)
	if growth >= rssGrowthLimit {
		t.Errorf("RSS grew %.2f MB over %d evaluations, want < %d MB", float64(growth)/(1<<20), n, rssGrowthLimit>>20)
	}
	r.finish(t)
}

// The RSS check is not blind: the same loop holding on to 32 KiB per
// evaluation grows past the limit.
func TestAirlineLeakCheckSeesGrowth(t *testing.T) {
	r := newLeakRig(t)
	if _, err := r.rt.DoString(context.Background(), `
		kept = {}
		local plain = cycle
		cycle = function(k) plain(k); kept[#kept + 1] = string.rep(string.char(k % 251), 32768) end
	`, "leaky"); err != nil {
		t.Fatal(err)
	}
	growth := r.measure(t, 10, 200)
	t.Logf("200 leaky evaluations: RSS growth %+.2f MB", float64(growth)/(1<<20))
	if growth < rssGrowthLimit {
		t.Errorf("keeping 32 KiB per evaluation (6.25 MiB in all) grew RSS only %.2f MB: the check cannot see leaks", float64(growth)/(1<<20))
	}
	r.finish(t)
}
