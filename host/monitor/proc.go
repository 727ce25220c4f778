package monitor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"bohost/host/errs"
)

// ProcMem is the memory of one process from /proc/PID/status, in bytes.
type ProcMem struct {
	RSS  int64 // VmRSS: resident now
	HWM  int64 // VmHWM: peak resident (since start or the last ResetPeak)
	Data int64 // VmData: private writable mappings (what RLIMIT_DATA limits)
	Size int64 // VmSize: address space (what RLIMIT_AS limits)
}

// ReadProcMem reads /proc/PID/status (pid 0: this process).
func ReadProcMem(pid int) (ProcMem, error) {
	p := "/proc/self/status"
	if pid > 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ProcMem{}, &errs.Error{Kind: errs.Unavailable, Op: "monitor.proc", Msg: err.Error(), Err: err}
	}
	var m ProcMem
	found := false
	for line := range bytes.Lines(b) {
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst, found = &m.RSS, true
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.HWM
		case bytes.HasPrefix(line, []byte("VmData:")):
			dst = &m.Data
		case bytes.HasPrefix(line, []byte("VmSize:")):
			dst = &m.Size
		default:
			continue
		}
		f := strings.Fields(string(line))
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			*dst = kb * 1024
		}
	}
	if !found {
		// Zombies and kernel threads have no VmRSS line.
		return m, errs.New(errs.Unavailable, "monitor.proc", "%s has no VmRSS (process exited?)", p)
	}
	return m, nil
}

// ProcRSS returns the resident set size of pid in bytes (pid 0: this process).
func ProcRSS(pid int) (int64, error) {
	m, err := ReadProcMem(pid)
	return m.RSS, err
}

// PeakRSS returns this process's peak resident set size (VmHWM) in bytes, or
// 0 when /proc is unavailable.
func PeakRSS() int64 {
	m, _ := ReadProcMem(0)
	return m.HWM
}

// ResetPeak resets this process's VmHWM to its current RSS (writing "5" to
// /proc/self/clear_refs, Linux 4.0+), so a later PeakRSS measures one phase.
func ResetPeak() error {
	err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	if err != nil {
		return &errs.Error{Kind: errs.Unavailable, Op: "monitor.reset_peak", Msg: err.Error(), Err: err}
	}
	return nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux architecture bohost runs on.
const clockTicks = 100

// procCPU returns utime+stime of pid in seconds (pid 0: this process).
func procCPU(pid int) (float64, error) {
	if pid == 0 {
		var ru syscall.Rusage // microsecond resolution for this process
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0, err
		}
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, nil
	}
	p := "/proc/" + strconv.Itoa(pid) + "/stat"
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: fields
	// after the last ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", p)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: too few fields", p)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: bad utime/stime", p)
	}
	return (ut + st) / clockTicks, nil
}

// OOMKills returns the oom_kill counter of this process's memory cgroup and
// the file it came from: memory.events (cgroup v2) or memory.oom_control
// (cgroup v1, Linux 4.13+). The cgroup is found through /proc/self/cgroup. An
// error of kind unavailable means neither could be read; record
// "unavailable" then, not zero.
func OOMKills() (int64, string, error) {
	return oomKills("/proc/self/cgroup", "/sys/fs/cgroup")
}

func oomKills(procCgroup, root string) (int64, string, error) {
	b, err := os.ReadFile(procCgroup)
	if err != nil {
		return 0, "", &errs.Error{Kind: errs.Unavailable, Op: "monitor.oom_kills", Msg: err.Error(), Err: err}
	}
	var cands []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		switch {
		case parts[0] == "0" && ctrls == "":
			cands = append(cands,
				filepath.Join(root, path, "memory.events"),
				filepath.Join(root, "unified", path, "memory.events"))
		case containsWord(ctrls, "memory"):
			cands = append(cands, filepath.Join(root, "memory", path, "memory.oom_control"))
		}
	}
	for _, c := range cands {
		if n, ok := readCounter(c, "oom_kill"); ok {
			return n, c, nil
		}
	}
	return 0, "", errs.New(errs.Unavailable, "monitor.oom_kills", "no readable memory.events or memory.oom_control for this cgroup (tried %s)", strings.Join(cands, ", "))
}

func containsWord(list, w string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == w {
			return true
		}
	}
	return false
}

// readCounter reads "key N" from a flat-keyed cgroup file.
func readCounter(path, key string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
