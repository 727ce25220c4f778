package run

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"bohost/host/worker"
)

// TestSumWorkersGPU: the workers' GPU memory is NVML's figures summed over
// the worker pids and their process trees, each process once; a process
// NVML has no figure for makes it unknown; other processes do not count.
func TestSumWorkersGPU(t *testing.T) {
	trees := map[int][]int{10: {10, 11, 12}, 20: {20}, 11: {11, 12}}
	tree := func(p int) []int {
		if tr, ok := trees[p]; ok {
			return tr
		}
		return []int{p}
	}
	mem := map[int]int64{10: 100, 12: 5, 20: 1000, 99: 1 << 40}
	for _, c := range []struct {
		pids []int
		want int64
		ok   bool
	}{
		{nil, 0, true},
		{[]int{10}, 105, true},
		{[]int{10, 11, 20}, 1105, true}, // 11's tree is inside 10's: counted once
		{[]int{30}, 0, true},            // a worker on the CPU
	} {
		if got, ok := sumWorkersGPU(mem, c.pids, tree); got != c.want || ok != c.ok {
			t.Errorf("pids %v: %d, %v; want %d, %v", c.pids, got, ok, c.want, c.ok)
		}
	}
	mem[12] = -1
	if _, ok := sumWorkersGPU(mem, []int{10}, tree); ok {
		t.Error("a process without a figure: known, want unknown")
	}
	if got, ok := sumWorkersGPU(map[int]int64{}, []int{10}, func(int) []int { t.Fatal("tree walked with nothing on the GPU"); return nil }); got != 0 || !ok {
		t.Errorf("nothing on the GPU: %d, %v", got, ok)
	}
	// The real tree: a child of this process is counted with it.
	child := exec.Command("sleep", "10")
	if err := child.Start(); err != nil {
		t.Skipf("cannot start sleep(1): %v", err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	if tr := worker.TreePIDs(os.Getpid()); !slices.Contains(tr, child.Process.Pid) {
		t.Skipf("TreePIDs(%d) = %v lacks the child (no /proc children files?)", os.Getpid(), tr)
	}
	got, ok := sumWorkersGPU(map[int]int64{child.Process.Pid: 42}, []int{os.Getpid()}, worker.TreePIDs)
	if got != 42 || !ok {
		t.Errorf("child of a worker: %d, %v; want 42", got, ok)
	}
}

// TestWorkersGPUWiring: a script's run gets the NVML probe, which on a
// machine without NVML says unknown (an empty cell), and a caller's own
// probe is kept.
func TestWorkersGPUWiring(t *testing.T) {
	var o Options
	if err := o.FromProcess(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if o.WorkersGPU == nil {
		t.Fatal("FromProcess left WorkersGPU nil")
	}
	if _, err := os.Stat("/dev/nvidiactl"); err != nil {
		if b, ok := o.WorkersGPU([]int{os.Getpid()}); ok {
			t.Errorf("no NVIDIA driver here, yet the probe says %d bytes", b)
		}
	}
	mine := func([]int) (int64, bool) { return 1, true }
	o = Options{WorkerCommand: []string{"w"}, WorkersGPU: mine}
	if err := o.FromProcess(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if b, ok := o.WorkersGPU(nil); b != 1 || !ok {
		t.Error("FromProcess replaced the caller's WorkersGPU")
	}
}
