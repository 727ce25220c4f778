// Package memctl is bohost's host-memory control: process statistics (Go
// heap, RSS, peak RSS, GC count), a full collection that returns memory to
// the OS, and a soft memory limit given in bytes, as a size string ("6GiB",
// "512MB") or as a share of physical memory ("80%"), honouring a cgroup
// memory limit when it is lower than the machine's memory.
package memctl

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"bohost/host/errs"
)

// Stats is a snapshot of the process's memory.
type Stats struct {
	HeapBytes    uint64 // live Go heap (HeapAlloc)
	HeapSysBytes uint64 // heap memory obtained from the OS
	RSSBytes     uint64 // resident set size (VmRSS); 0 where unavailable
	PeakRSSBytes uint64 // peak resident set size (VmHWM)
	GCCount      uint32 // completed GC cycles
	LimitBytes   int64  // the current soft memory limit (math.MaxInt64 = none)
}

// Read returns current statistics.
func Read() Stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := ProcRSS("self")
	return Stats{
		HeapBytes: ms.HeapAlloc, HeapSysBytes: ms.HeapSys, RSSBytes: rss, PeakRSSBytes: peak,
		GCCount: ms.NumGC, LimitBytes: debug.SetMemoryLimit(-1),
	}
}

// ProcRSS reads VmRSS and VmHWM in bytes from /proc/PID/status ("self" for
// this process); zeros when unreadable.
func ProcRSS(pid string) (rss, peak uint64) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			rss = kb(line)
		case strings.HasPrefix(line, "VmHWM:"):
			peak = kb(line)
		}
	}
	return rss, peak
}

func kb(line string) uint64 {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	v, _ := strconv.ParseUint(f[1], 10, 64)
	return v * 1024
}

// Collect runs a full GC and returns freed memory to the OS.
func Collect() { runtime.GC(); debug.FreeOSMemory() }

// PhysicalBytes returns the memory available to this process: the machine's
// MemTotal, or the cgroup v2 memory.max when lower.
func PhysicalBytes() (uint64, error) {
	total, err := memTotal()
	if err != nil {
		return 0, err
	}
	if lim, ok := cgroupMax(); ok && lim < total {
		return lim, nil
	}
	return total, nil
}

func memTotal() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, errs.New(errs.Unavailable, "memctl", "cannot read /proc/meminfo: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "MemTotal:") {
			return kb(sc.Text()), nil
		}
	}
	return 0, errs.New(errs.Unavailable, "memctl", "MemTotal not found in /proc/meminfo")
}

func cgroupMax() (uint64, bool) {
	mount := "/sys/fs/cgroup"
	if m, root, err := cgroup2Mount("/proc/self/mountinfo"); err == nil && root == "/" {
		mount = m
	}
	return cgroupMaxFrom("/proc/self/cgroup", mount)
}

// cgroupMaxFrom returns the lowest memory.max of this process's cgroup v2
// and its ancestors (each one limits it; bohost may have moved itself into a
// leaf without a limit of its own, see Cgroups).
func cgroupMaxFrom(self, mount string) (uint64, bool) {
	b, err := os.ReadFile(self)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		rel, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		var low uint64
		found := false
		for p := filepath.Clean("/" + rel); ; p = filepath.Dir(p) {
			if v, err := os.ReadFile(filepath.Join(mount, p, "memory.max")); err == nil {
				if n, err := strconv.ParseUint(strings.TrimSpace(string(v)), 10, 64); err == nil && (!found || n < low) {
					low, found = n, true
				}
			}
			if p == "/" {
				break
			}
		}
		return low, found
	}
	return 0, false
}

var units = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseSize parses "6GiB", "512MB", "1.5g", "1048576" or "80%" (of
// PhysicalBytes) into bytes. what names the value in errors.
func ParseSize(s, what string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if strings.HasSuffix(t, "%") {
		p, err := strconv.ParseFloat(strings.TrimSpace(t[:len(t)-1]), 64)
		if err != nil || p <= 0 || p > 100 {
			return 0, errs.New(errs.BadArg, "", "%s: percentage must be in (0, 100], got %q", what, s)
		}
		phys, err := PhysicalBytes()
		if err != nil {
			return 0, err
		}
		return int64(float64(phys) * p / 100), nil
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i:])
	mult, ok := units[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || math.IsInf(f, 0) {
		return 0, errs.New(errs.BadArg, "", "%s: expected bytes, a size like \"6GiB\" or \"512MB\", or a share like \"80%%\", got %q", what, s)
	}
	return int64(f * mult), nil
}

// FormatBytes renders n as "1.50 GiB".
func FormatBytes(n uint64) string {
	const u = 1024
	if n < u {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(u), 0
	for m := n / u; m >= u && exp < 4; m /= u {
		div *= u
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// SetLimit sets the Go runtime's soft memory limit (debug.SetMemoryLimit)
// and returns the previous one. bytes <= 0 removes the limit.
func SetLimit(bytes int64) int64 {
	if bytes <= 0 {
		bytes = math.MaxInt64
	}
	return debug.SetMemoryLimit(bytes)
}
