package worker

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"bohost/host/monitor"
)

// Tree is implemented by an objective that evaluates in child processes of
// the worker (host/extproc's bridge to an external evaluator). Serve then
// says so in Ready.Tree, and the pool measures the worker's whole process
// tree (worker, its children and theirs) wherever it would measure the
// worker alone: the RSS poll and its cap, the baseline, PIDs (monitor.csv).
// Built-in objectives do not implement it, and nothing changes for them.
type Tree interface {
	// ChildPeakRSS is the peak RSS of the worker's descendants during the
	// last evaluation, in bytes, added to the worker's own peak in
	// Result.PeakRSSBytes. perEval is false when the children's peaks
	// could not be reset at the evaluation's start (the result's peak
	// scope is then PeakProcess).
	ChildPeakRSS() (bytes int64, perEval bool)
}

// DeathNote starts a line a worker writes on its stderr to explain its own
// coming death (host/extproc: "the evaluator (pid 12, python3 eval.py) was
// killed by SIGSEGV during trial 7; the worker dies the same way"): the
// death certificate's reason ends with the last such line. Built-in
// workers write none.
const DeathNote = "bohost worker: cause: "

// TreePIDs returns pid and its descendants (children first listed by
// /proc/PID/task/TID/children, depth first), or just pid where /proc does
// not say.
func TreePIDs(pid int) []int {
	out := []int{pid}
	seen := map[int]bool{pid: true}
	for i := 0; i < len(out) && len(out) < 4096; i++ {
		for _, c := range childPIDs(out[i]) {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// childPIDs lists the children of pid from every thread's children file.
func childPIDs(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []int
	var buf [4096]byte
	for _, t := range tasks {
		b, err := ReadProc(dir+"/"+t.Name()+"/children", buf[:])
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil && n > 0 {
				out = append(out, n)
			}
		}
	}
	return out
}

// ReadProc reads a small /proc file into buf with plain system calls (no
// poller registration: TreePIDs runs at every evaluation of a Tree
// objective, and os.ReadFile's overhead would dominate it).
func ReadProc(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// TreeRSS is the summed VmRSS of pid and its descendants. The error is
// pid's own (a descendant that exits meanwhile is skipped).
func TreeRSS(pid int) (int64, error) {
	total, err := monitor.ProcRSS(pid)
	if err != nil {
		return 0, err
	}
	for _, c := range TreePIDs(pid)[1:] {
		if r, err := monitor.ProcRSS(c); err == nil {
			total += r
		}
	}
	return total, nil
}
