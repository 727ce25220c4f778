package monitor

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"time"

	"bohost/host/errs"
)

// Header is the first line of monitor.csv (docs/rundir.md).
var Header = []string{"time", "elapsed_s", "iteration", "cpu_pct", "host_rss_bytes",
	"workers_rss_bytes", "go_heap_bytes", "gpu_used_bytes", "gpu_total_bytes", "gpu_pool_bytes",
	"workers_gpu_bytes"}

// LegacyHeader is the header of monitor.csv files written before
// workers_gpu_bytes: Header without its last column. A reopened file with
// it (a resumed older run) keeps getting rows of its own width.
var LegacyHeader = slices.Clip(Header[:len(Header)-1])

// TimeFormat is the layout of the time column: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Row is one sample. Missing values (empty cells) are -1 for the integer
// fields and NaN for CPUPct.
type Row struct {
	Time       time.Time
	ElapsedS   float64
	Iteration  int     // last iteration passed to Sample; -1 before the first
	CPUPct     float64 // CPU use of this process and its live workers since the previous row, in % of one core
	HostRSS    int64   // this process's resident set, bytes
	WorkersRSS int64   // sum over the registered worker pids, bytes (0 with none)
	GoHeap     int64   // live Go heap objects (runtime/metrics /memory/classes/heap/objects:bytes)
	GPUUsed    int64
	GPUTotal   int64
	GPUPool    int64
	WorkersGPU int64 // device memory of the workers' processes (NVML), bytes
}

// GPUInfo is what an injected GPU probe reports, in bytes; -1 for a figure
// it does not know.
type GPUInfo struct{ Used, Total, Pool int64 }

// Options configures a Sampler.
type Options struct {
	// Path of the CSV file (normally RUNDIR/monitor.csv). Required. An existing
	// file with the right header is appended to (a torn last line is cut
	// off first); one with another header is an error.
	Path string
	// Interval between periodic rows. Default 5 s; negative: rows only on
	// Sample.
	Interval time.Duration
	// Start is the run's start, for elapsed_s. Default: when Start is called.
	Start time.Time
	// WorkerPIDs returns the live worker pids (e.g. worker.Pool.PIDs). Nil:
	// none.
	WorkerPIDs func() []int
	// GPU returns the GPU figures, or ok=false when there is no GPU. Nil: the
	// GPU cells stay empty.
	GPU func() (info GPUInfo, ok bool)
	// WorkersGPU returns the device memory held by the processes of the
	// given worker pids (the workers and their process trees), in bytes, or
	// ok=false when it is not known (no driver). Nil: workers_gpu_bytes
	// stays empty. Not called for a file with the LegacyHeader.
	WorkersGPU func(pids []int) (bytes int64, ok bool)
}

// Sampler writes monitor.csv. Its methods are safe for concurrent use.
type Sampler struct {
	opts Options
	mu   sync.Mutex
	f    *os.File
	cols int // columns written: len(Header), or len(LegacyHeader) for an older file
	last Row
	peak int64 // peak host RSS seen (max of VmHWM readings)

	prevWall time.Time
	prevCPU  map[int]float64 // pid (0 = self) → cumulative CPU seconds

	stop chan struct{}
	done chan struct{}
}

// Start opens the CSV file and, unless Interval is negative, starts the
// periodic sampler goroutine. Close stops it.
func Start(opts Options) (*Sampler, error) {
	const op = "monitor.start"
	if opts.Path == "" {
		return nil, errs.New(errs.BadArg, op, "Path must name the CSV file, got an empty string")
	}
	if opts.Interval == 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now()
	}
	f, cols, err := openCSV(opts.Path)
	if err != nil {
		return nil, err
	}
	s := &Sampler{opts: opts, f: f, cols: cols, last: Row{Iteration: -1}, prevCPU: map[int]float64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	s.prevWall = time.Now()
	s.cpuDelta() // baseline
	if opts.Interval > 0 {
		go s.loop()
	} else {
		close(s.done)
	}
	return s, nil
}

// openCSV opens path for appending, writing the header to a new or empty file
// and cutting a torn last line off an existing one. It returns the number of
// columns the file's rows have: len(Header), or len(LegacyHeader) for a file
// written before workers_gpu_bytes, which keeps its width.
func openCSV(path string) (*os.File, int, error) {
	const op = "monitor.start"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, &errs.Error{Kind: errs.IO, Op: op, Msg: err.Error(), Err: err}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, 0, &errs.Error{Kind: errs.IO, Op: op, Msg: fmt.Sprintf("%s: %v", path, err), Err: err}
	}
	size := int64(len(b))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		size = int64(bytes.LastIndexByte(b, '\n') + 1)
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, 0, &errs.Error{Kind: errs.IO, Op: op, Msg: fmt.Sprintf("%s: cutting torn row: %v", path, err), Err: err}
		}
	}
	hdr, cols := joinCSV(Header), len(Header)
	if legacy := joinCSV(LegacyHeader); size > 0 && bytes.HasPrefix(b, []byte(legacy)) {
		hdr, cols = legacy, len(LegacyHeader)
	}
	if size == 0 {
		if _, err := f.WriteAt([]byte(hdr), 0); err != nil {
			f.Close()
			return nil, 0, &errs.Error{Kind: errs.IO, Op: op, Msg: fmt.Sprintf("%s: %v", path, err), Err: err}
		}
		size = int64(len(hdr))
	} else if !bytes.HasPrefix(b, []byte(hdr)) {
		f.Close()
		first, _, _ := bytes.Cut(b, []byte("\n"))
		return nil, 0, errs.New(errs.BadState, op, "%s exists with header %q, want %q", path, first, hdr[:len(hdr)-1]).
			WithHint("use a fresh run directory or remove the file")
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, &errs.Error{Kind: errs.IO, Op: op, Msg: err.Error(), Err: err}
	}
	return f, cols, nil
}

func joinCSV(rec []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(rec)
	w.Flush()
	return b.String()
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.sampleLocked(s.last.Iteration)
			s.mu.Unlock()
		}
	}
}

// Sample writes a row now, marked with iteration (the periodic rows that
// follow carry it too), and returns it.
func (s *Sampler) Sample(iteration int) (Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sampleLocked(iteration)
}

func (s *Sampler) sampleLocked(iteration int) (Row, error) {
	if s.f == nil {
		return s.last, errs.New(errs.BadState, "monitor.sample", "%s: sampler is closed", s.opts.Path)
	}
	r := s.measure(iteration)
	s.last = r
	if _, err := s.f.WriteString(formatRow(r, s.cols)); err != nil {
		return r, &errs.Error{Kind: errs.IO, Op: "monitor.sample", Msg: fmt.Sprintf("%s: %v", s.opts.Path, err), Err: err}
	}
	return r, nil
}

var heapMetric = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

func (s *Sampler) measure(iteration int) Row {
	now := time.Now()
	r := Row{Time: now.UTC(), ElapsedS: now.Sub(s.opts.Start).Seconds(), Iteration: iteration,
		CPUPct: math.NaN(), HostRSS: -1, WorkersRSS: 0, GoHeap: -1, GPUUsed: -1, GPUTotal: -1, GPUPool: -1, WorkersGPU: -1}
	if m, err := ReadProcMem(0); err == nil {
		r.HostRSS = m.RSS
		s.peak = max(s.peak, m.HWM, m.RSS)
	}
	var pids []int
	if s.opts.WorkerPIDs != nil {
		pids = s.opts.WorkerPIDs()
		for _, pid := range pids {
			if rss, err := ProcRSS(pid); err == nil {
				r.WorkersRSS += rss
			}
		}
	}
	r.CPUPct = s.cpuDelta()
	metrics.Read(heapMetric)
	if heapMetric[0].Value.Kind() == metrics.KindUint64 {
		r.GoHeap = int64(heapMetric[0].Value.Uint64())
	}
	if s.opts.GPU != nil {
		if g, ok := s.opts.GPU(); ok {
			r.GPUUsed, r.GPUTotal, r.GPUPool = g.Used, g.Total, g.Pool
		}
	}
	if s.opts.WorkersGPU != nil && s.cols > len(LegacyHeader) {
		if b, ok := s.opts.WorkersGPU(pids); ok && b >= 0 {
			r.WorkersGPU = b
		}
	}
	return r
}

// cpuDelta returns the CPU % of this process and its workers since the last
// call. A worker first seen now contributes from the next row on.
func (s *Sampler) cpuDelta() float64 {
	now := time.Now()
	wall := now.Sub(s.prevWall).Seconds()
	s.prevWall = now
	pids := []int{0}
	if s.opts.WorkerPIDs != nil {
		pids = append(pids, s.opts.WorkerPIDs()...)
	}
	next := make(map[int]float64, len(pids))
	used, ok := 0.0, false
	for _, pid := range pids {
		c, err := procCPU(pid)
		if err != nil {
			continue
		}
		next[pid] = c
		if p, seen := s.prevCPU[pid]; seen && c >= p {
			used += c - p
			ok = true
		}
	}
	s.prevCPU = next
	if !ok || wall <= 0 {
		return math.NaN()
	}
	return 100 * used / wall
}

// formatRow is r as a CSV line of the first cols columns of Header.
func formatRow(r Row, cols int) string {
	cell := func(v int64) string {
		if v < 0 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	it := ""
	if r.Iteration >= 0 {
		it = strconv.Itoa(r.Iteration)
	}
	cpu := ""
	if !math.IsNaN(r.CPUPct) {
		cpu = strconv.FormatFloat(r.CPUPct, 'f', 1, 64)
	}
	rec := []string{r.Time.UTC().Format(TimeFormat), strconv.FormatFloat(r.ElapsedS, 'f', 3, 64), it, cpu,
		cell(r.HostRSS), cell(r.WorkersRSS), cell(r.GoHeap), cell(r.GPUUsed), cell(r.GPUTotal), cell(r.GPUPool),
		cell(r.WorkersGPU)}
	return joinCSV(rec[:min(max(cols, 1), len(rec))])
}

// Last returns the most recent row (Iteration -1 and zero Time before any).
func (s *Sampler) Last() Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Peak returns the peak resident set of this process seen by the sampler
// (VmHWM at the last row, or the largest RSS), in bytes.
func (s *Sampler) Peak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Close stops the periodic rows and closes the file. Closing twice is a no-op.
func (s *Sampler) Close() error {
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return nil
	}
	close(s.stop)
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return &errs.Error{Kind: errs.IO, Op: "monitor.close", Msg: err.Error(), Err: err}
	}
	return nil
}

// ReadCSV reads a monitor.csv. Columns are found by header name, so unknown
// extra columns are ignored and missing ones read as empty; empty cells become
// -1 (NaN for cpu_pct). A torn last line (no newline) is ignored; any other
// bad row is an error naming the file and line.
func ReadCSV(path string) ([]Row, error) {
	const op = "monitor.read"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &errs.Error{Kind: errs.IO, Op: op, Msg: err.Error(), Err: err}
	}
	if i := bytes.LastIndexByte(b, '\n'); i != len(b)-1 {
		b = b[:i+1] // torn last line
	}
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(b)))
	cr.FieldsPerRecord = -1
	hdr, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errs.New(errs.IO, op, "%s is empty (no header)", path)
		}
		return nil, errs.New(errs.IO, op, "%s: header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range hdr {
		col[h] = i
	}
	if _, ok := col["time"]; !ok {
		return nil, errs.New(errs.IO, op, "%s: header %q has no time column", path, hdr)
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, errs.New(errs.IO, op, "%s:%d: %v", path, line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		var perr error
		num := func(name string) int64 {
			s := get(name)
			if s == "" {
				return -1
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil && perr == nil {
				perr = fmt.Errorf("column %s: %q is not an integer", name, s)
			}
			return v
		}
		flt := func(name string) float64 {
			s := get(name)
			if s == "" {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && perr == nil {
				perr = fmt.Errorf("column %s: %q is not a number", name, s)
			}
			return v
		}
		t, terr := time.Parse(time.RFC3339Nano, get("time"))
		if terr != nil {
			return rows, errs.New(errs.IO, op, "%s:%d: column time: %v", path, line, terr)
		}
		r := Row{Time: t, ElapsedS: flt("elapsed_s"), Iteration: int(num("iteration")), CPUPct: flt("cpu_pct"),
			HostRSS: num("host_rss_bytes"), WorkersRSS: num("workers_rss_bytes"), GoHeap: num("go_heap_bytes"),
			GPUUsed: num("gpu_used_bytes"), GPUTotal: num("gpu_total_bytes"), GPUPool: num("gpu_pool_bytes"),
			WorkersGPU: num("workers_gpu_bytes")}
		if perr != nil {
			return rows, errs.New(errs.IO, op, "%s:%d: %v", path, line, perr)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// PeakOf returns the largest host_rss_bytes + workers_rss_bytes of rows, the
// peak memory of a run as monitor.csv saw it (-1 with no figures).
func PeakOf(rows []Row) int64 {
	p := int64(-1)
	for _, r := range rows {
		if r.HostRSS < 0 {
			continue
		}
		p = max(p, r.HostRSS+max(r.WorkersRSS, 0))
	}
	return p
}
