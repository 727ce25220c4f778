package monitor

import (
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"bohost/host/errs"
)

func TestSamplerCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "monitor.csv")
	// A real child process stands in for a worker.
	child := exec.Command("sleep", "10")
	if err := child.Start(); err != nil {
		t.Skipf("cannot start sleep(1): %v", err)
	}
	defer child.Process.Kill()
	gpuCalls := 0
	s, err := Start(Options{
		Path: path, Interval: 20 * time.Millisecond,
		WorkerPIDs: func() []int { return []int{child.Process.Pid} },
		GPU: func() (GPUInfo, bool) {
			gpuCalls++
			return GPUInfo{Used: 1 << 30, Total: 80 << 30, Pool: -1}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.Sample(1)
	if err != nil {
		t.Fatal(err)
	}
	busy := time.Now()
	for time.Since(busy) < 60*time.Millisecond { // burn CPU so cpu_pct > 0
	}
	time.Sleep(50 * time.Millisecond)
	r2, err := s.Sample(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sample(3); !errs.Is(err, errs.BadState) {
		t.Errorf("Sample after Close: %v", err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "time,elapsed_s,iteration,cpu_pct,host_rss_bytes,workers_rss_bytes,go_heap_bytes,gpu_used_bytes,gpu_total_bytes,gpu_pool_bytes,workers_gpu_bytes" {
		t.Fatalf("header %q", lines[0])
	}
	rows, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || len(rows) != len(lines)-1 {
		t.Fatalf("%d rows (file has %d lines), want >= 3 (2 on demand + periodic)", len(rows), len(lines))
	}
	for i, r := range rows {
		if r.HostRSS <= 0 || r.GoHeap <= 0 || r.WorkersRSS <= 0 || r.GPUUsed != 1<<30 || r.GPUTotal != 80<<30 || r.GPUPool != -1 {
			t.Errorf("row %d: %+v", i, r)
		}
		if i > 0 && (r.ElapsedS < rows[i-1].ElapsedS || r.Time.Before(rows[i-1].Time)) {
			t.Errorf("row %d goes back in time", i)
		}
	}
	if !math.IsNaN(rows[0].CPUPct) && rows[0].CPUPct < 0 {
		t.Errorf("cpu_pct row 0 = %v", rows[0].CPUPct)
	}
	maxCPU := 0.0
	for _, r := range rows {
		if !math.IsNaN(r.CPUPct) {
			maxCPU = max(maxCPU, r.CPUPct)
		}
	}
	if !(maxCPU > 5) || r1.Iteration != 1 || r2.Iteration != 2 {
		t.Errorf("max cpu_pct %.1f after 60 ms of busy loop, want > 5", maxCPU)
		t.Errorf("r1 %+v r2 %+v", r1, r2)
	}
	if rows[len(rows)-1].Iteration < 1 {
		t.Errorf("periodic rows must carry the last iteration: %+v", rows)
	}
	if s.Peak() < r2.HostRSS || PeakRSS() < r2.HostRSS {
		t.Errorf("Peak %d, PeakRSS %d < RSS %d", s.Peak(), PeakRSS(), r2.HostRSS)
	}
	if p := PeakOf(rows); p < r2.HostRSS {
		t.Errorf("PeakOf = %d", p)
	}

	// Reopen after a torn row: the torn bytes are cut, rows are appended.
	os.WriteFile(path, append(b, []byte("2026-01-01T00:00:00.000Z,1.2")...), 0o644)
	if _, err := ReadCSV(path); err != nil {
		t.Fatalf("ReadCSV with torn row: %v", err)
	}
	s, err = Start(Options{Path: path, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Sample(4)
	s.Close()
	if err != nil || r.GPUUsed != -1 || r.WorkersRSS != 0 {
		t.Fatalf("no-GPU row %+v %v", r, err)
	}
	rows2, err := ReadCSV(path)
	if err != nil || len(rows2) != len(rows)+1 || rows2[len(rows2)-1].Iteration != 4 || rows2[len(rows2)-1].GPUUsed != -1 {
		t.Fatalf("after reopen: %d rows, err %v", len(rows2), err)
	}
	if gpuCalls == 0 {
		t.Error("GPU probe never called")
	}
}

func TestCSVErrors(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte("a,b\n1,2\n"), 0o644)
	if _, err := Start(Options{Path: other}); !errs.Is(err, errs.BadState) {
		t.Errorf("foreign header: %v", err)
	}
	if _, err := Start(Options{}); !errs.Is(err, errs.BadArg) {
		t.Errorf("no path: %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(Header, ",")+"\n2026-01-01T00:00:00Z,1,x,,,,,,,\n"), 0o644)
	if _, err := ReadCSV(bad); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), bad+":2") {
		t.Errorf("bad cell: %v", err)
	}
	// Extra and reordered columns are fine.
	ok := filepath.Join(dir, "ok.csv")
	os.WriteFile(ok, []byte("iteration,time,extra\n3,2026-01-01T00:00:00Z,zz\n"), 0o644)
	rows, err := ReadCSV(ok)
	if err != nil || len(rows) != 1 || rows[0].Iteration != 3 || rows[0].HostRSS != -1 {
		t.Errorf("forward-compatible read: %+v %v", rows, err)
	}
}

func TestProc(t *testing.T) {
	m, err := ReadProcMem(0)
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if m.RSS <= 0 || m.HWM < m.RSS || m.Size < m.RSS || m.Data <= 0 {
		t.Errorf("ReadProcMem = %+v", m)
	}
	if _, err := ProcRSS(1 << 30); !errs.Is(err, errs.Unavailable) {
		t.Errorf("missing pid: %v", err)
	}
	if err := ResetPeak(); err != nil {
		t.Logf("ResetPeak unavailable here: %v", err)
	}
	c, err := procCPU(0)
	if err != nil || c < 0 {
		t.Errorf("procCPU = %v, %v", c, err)
	}
	n, src, err := OOMKills()
	t.Logf("OOMKills = %d from %q (err %v)", n, src, err)
	if err == nil && (n < 0 || src == "") {
		t.Errorf("OOMKills = %d, %q", n, src)
	}
}

func TestOOMKillsFiles(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	// cgroup v2
	write(filepath.Join(root, "v2", "cg"), "0::/user/job\n")
	write(filepath.Join(root, "fs2", "user", "job", "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
	// cgroup v1
	write(filepath.Join(root, "v1", "cg"), "5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n")
	write(filepath.Join(root, "fs1", "memory", "docker", "abc", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n")
	for _, tc := range []struct {
		cg, fs string
		want   int64
		ok     bool
	}{
		{"v2", "fs2", 2, true},
		{"v1", "fs1", 7, true},
		{"v1", "fs2", 0, false},
	} {
		n, _, err := oomKills(filepath.Join(root, tc.cg, "cg"), filepath.Join(root, tc.fs))
		if (err == nil) != tc.ok || n != tc.want {
			t.Errorf("%s on %s: %d, %v; want %d ok=%v", tc.cg, tc.fs, n, err, tc.want, tc.ok)
		}
		if err != nil && !errs.Is(err, errs.Unavailable) {
			t.Errorf("error kind %v", err)
		}
	}
}

// TestWorkersGPU: workers_gpu_bytes is what the WorkersGPU probe returns for
// the worker pids of the row, empty when the probe does not know (no
// driver) or there is none.
func TestWorkersGPU(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.csv")
	known := true
	var got [][]int
	s, err := Start(Options{Path: path, Interval: -1,
		WorkerPIDs: func() []int { return []int{os.Getpid(), 999999999} },
		WorkersGPU: func(pids []int) (int64, bool) {
			got = append(got, append([]int(nil), pids...))
			return 3 << 30, known
		}})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.Sample(1)
	if err != nil || r1.WorkersGPU != 3<<30 {
		t.Fatalf("row %+v, %v; want workers_gpu_bytes 3 GiB", r1, err)
	}
	known = false
	if r2, _ := s.Sample(2); r2.WorkersGPU != -1 {
		t.Errorf("unknown figure: %d, want -1 (empty cell)", r2.WorkersGPU)
	}
	s.Close()
	if len(got) != 2 || len(got[0]) != 2 || got[0][0] != os.Getpid() || got[0][1] != 999999999 {
		t.Errorf("probe called with %v, want the worker pids once per row", got)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[1], ","+strconv.FormatInt(3<<30, 10)) || !strings.HasSuffix(lines[2], ",") {
		t.Errorf("file:\n%s", b)
	}
	rows, err := ReadCSV(path)
	if err != nil || len(rows) != 2 || rows[0].WorkersGPU != 3<<30 || rows[1].WorkersGPU != -1 {
		t.Errorf("read back: %+v, %v", rows, err)
	}
	// Without a probe the cell is empty.
	s, err = Start(Options{Path: filepath.Join(t.TempDir(), "monitor.csv"), Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Sample(1); r.WorkersGPU != -1 {
		t.Errorf("no probe: %d, want -1", r.WorkersGPU)
	}
	s.Close()
}

// TestLegacyFile: a monitor.csv written before workers_gpu_bytes (a resumed
// older run) is appended to with rows of its own width, its torn last row
// cut off first, and every row still reads back; the probe is not called.
func TestLegacyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.csv")
	old := "time,elapsed_s,iteration,cpu_pct,host_rss_bytes,workers_rss_bytes,go_heap_bytes,gpu_used_bytes,gpu_total_bytes,gpu_pool_bytes\n" +
		"2024-01-01T00:00:00.000Z,0.500,,,1000,0,200,,,\n" +
		"2024-01-01T00:00:05.000Z,5.500,3,12.5,2000,300,250,1,2,3\n" +
		"2024-01-01T00:00:10.000Z,10.5"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	s, err := Start(Options{Path: path, Interval: -1, WorkerPIDs: func() []int { return nil },
		WorkersGPU: func([]int) (int64, bool) { calls++; return 1, true }})
	if err != nil {
		t.Fatalf("reopening a file with the older header: %v", err)
	}
	for it := 4; it <= 5; it++ {
		if r, err := s.Sample(it); err != nil || r.WorkersGPU != -1 {
			t.Fatalf("row %+v, %v", r, err)
		}
	}
	s.Close()
	if calls != 0 {
		t.Errorf("WorkersGPU called %d times for a file without the column", calls)
	}
	b, _ := os.ReadFile(path)
	cr := csv.NewReader(strings.NewReader(string(b))) // FieldsPerRecord 0: every row as wide as the header
	recs, err := cr.ReadAll()
	if err != nil || len(recs) != 5 || len(recs[0]) != len(LegacyHeader) || strings.Join(recs[0], ",") != strings.Join(LegacyHeader, ",") {
		t.Fatalf("file after resume (%v):\n%s", err, b)
	}
	rows, err := ReadCSV(path)
	if err != nil || len(rows) != 4 || rows[1].GPUPool != 3 || rows[3].Iteration != 5 {
		t.Fatalf("read back: %+v, %v", rows, err)
	}
	for i, r := range rows {
		if r.WorkersGPU != -1 {
			t.Errorf("row %d: workers_gpu_bytes %d in a file without the column", i, r.WorkersGPU)
		}
	}
	// A new file gets the full header; reopening it keeps it.
	path2 := filepath.Join(t.TempDir(), "monitor.csv")
	for i := 0; i < 2; i++ {
		s, err := Start(Options{Path: path2, Interval: -1, WorkersGPU: func([]int) (int64, bool) { return 7, true }})
		if err != nil {
			t.Fatal(err)
		}
		s.Sample(i)
		s.Close()
	}
	recs, err = csv.NewReader(mustOpen(t, path2)).ReadAll()
	if err != nil || len(recs) != 3 || len(recs[0]) != len(Header) || recs[2][len(Header)-1] != "7" {
		t.Errorf("new file: %v %v", recs, err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
