package memctl

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Cgroups creates child cgroups (cgroup v2) with a memory.max, one per
// worker process, so that the kernel enforces a worker's memory cap and
// memory.events tells an OOM kill from any other SIGKILL.
//
// It works where this process's cgroup v2 directory is writable and offers
// the memory controller: a systemd unit or scope with Delegate=yes, a
// container with a writable cgroup namespace, or the root cgroup. The
// children can carry memory.max only when the directory's
// cgroup.subtree_control enables memory, which cgroup v2 allows only in a
// directory without processes of its own (its root aside): when this
// process is alone in its cgroup, it moves itself into a leaf child
// (bohost-PID-host) first; when other processes share it, bohost leaves
// them alone and OpenCgroups says why it cannot.
type Cgroups struct {
	Dir  string // where the children are made
	Leaf string // the leaf this process moved itself into ("" if it did not move)

	mu  sync.Mutex
	seq int
}

// Cgroup is one child cgroup.
type Cgroup struct {
	Dir      string
	MaxBytes int64
}

// cgroupFS names the files OpenCgroups reads; tests point them at a fake tree.
type cgroupFS struct {
	mountinfo, self string // /proc/self/mountinfo, /proc/self/cgroup
	pid             int
}

// OpenCgroups prepares this process's cgroup v2 directory for memory-capped
// children, or returns an error (kind unavailable) saying why it cannot;
// callers then fall back to rlimits.
// The answer is computed once per process (a process that moved itself
// into a leaf must not look again from there).
func OpenCgroups() (*Cgroups, error) {
	openOnce.Do(func() {
		opened, openErr = openCgroups(cgroupFS{mountinfo: "/proc/self/mountinfo", self: "/proc/self/cgroup", pid: os.Getpid()})
	})
	return opened, openErr
}

var (
	openOnce sync.Once
	opened   *Cgroups
	openErr  error
)

func unavailable(format string, args ...any) error {
	return &cgroupError{msg: fmt.Sprintf(format, args...)}
}

type cgroupError struct{ msg string }

func (e *cgroupError) Error() string { return "cgroup v2 memory cap unavailable: " + e.msg }

func openCgroups(fs cgroupFS) (*Cgroups, error) {
	mount, root, err := cgroup2Mount(fs.mountinfo)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(fs.self)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	rel := ""
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel, found = p, true
			break
		}
	}
	if !found {
		return nil, unavailable("this process is in no cgroup v2 (%s has no 0:: line)", fs.self)
	}
	if root != "/" {
		r, ok := strings.CutPrefix(rel, root)
		if !ok {
			return nil, unavailable("this process's cgroup %s is outside the cgroup2 mount's root %s", rel, root)
		}
		rel = r
	}
	dir := filepath.Join(mount, rel)
	ctrls, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, unavailable("%v", err)
	}
	if !hasWord(string(ctrls), "memory") {
		return nil, unavailable("the memory controller is not available in %s (cgroup.controllers: %q)", dir, strings.TrimSpace(string(ctrls)))
	}
	c := &Cgroups{Dir: dir}
	c.removeStale(fs.pid)
	if err := c.enableMemory(fs.pid); err != nil {
		return nil, err
	}
	// A probe child proves that children get a memory.max we can write.
	probe, err := c.New("probe", 1<<40)
	if err != nil {
		c.undo(fs.pid)
		return nil, err
	}
	probe.Remove()
	return c, nil
}

// cgroup2Mount finds the first cgroup2 mount in mountinfo: its mount point
// and the root of the hierarchy it shows.
func cgroup2Mount(mountinfo string) (mount, root string, err error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", "", unavailable("%v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) >= 5 && len(qf) >= 1 && qf[0] == "cgroup2" {
			return unescapeMount(pf[4]), unescapeMount(pf[3]), nil
		}
	}
	return "", "", unavailable("no cgroup2 file system is mounted")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// enableMemory makes sure children of c.Dir get the memory controller.
func (c *Cgroups) enableMemory(pid int) error {
	sub := filepath.Join(c.Dir, "cgroup.subtree_control")
	b, err := os.ReadFile(sub)
	if err != nil {
		return unavailable("%v", err)
	}
	if hasWord(string(b), "memory") {
		return nil
	}
	if os.WriteFile(sub, []byte("+memory"), 0) == nil && c.memoryEnabled() {
		return nil
	}
	// cgroup v2 refuses controllers for the children of a cgroup that holds
	// processes itself: move this process into a leaf when it is alone.
	procs, err := os.ReadFile(filepath.Join(c.Dir, "cgroup.procs"))
	if err != nil {
		return unavailable("%v", err)
	}
	others := 0
	for _, f := range strings.Fields(string(procs)) {
		if f != strconv.Itoa(pid) {
			others++
		}
	}
	if others > 0 {
		return unavailable("%s holds %d other process(es) and cannot enable the memory controller for children; bohost moves only itself (run it in its own delegated cgroup, e.g. systemd-run --scope -p Delegate=yes)", c.Dir, others)
	}
	leaf := filepath.Join(c.Dir, fmt.Sprintf("bohost-%d-host", pid))
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return unavailable("%v", err)
	}
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		os.Remove(leaf)
		return unavailable("moving this process into %s: %v", leaf, err)
	}
	c.Leaf = leaf
	if err := os.WriteFile(sub, []byte("+memory"), 0); err != nil || !c.memoryEnabled() {
		c.undo(pid)
		if err == nil {
			err = errors.New("memory is still not in cgroup.subtree_control")
		}
		return unavailable("enabling memory in %s: %v", sub, err)
	}
	return nil
}

func (c *Cgroups) memoryEnabled() bool {
	b, err := os.ReadFile(filepath.Join(c.Dir, "cgroup.subtree_control"))
	return err == nil && hasWord(string(b), "memory")
}

// undo moves this process back out of its leaf, if it moved.
func (c *Cgroups) undo(pid int) {
	if c.Leaf == "" {
		return
	}
	os.WriteFile(filepath.Join(c.Dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
	os.Remove(c.Leaf)
	c.Leaf = ""
}

// removeStale removes the cgroups left by bohost processes that are gone
// (an rmdir fails on a cgroup that still holds processes, which is kept).
func (c *Cgroups) removeStale(pid int) {
	ents, _ := os.ReadDir(c.Dir)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "bohost-")
		if !e.IsDir() || !ok {
			continue
		}
		owner, _, _ := strings.Cut(rest, "-")
		n, err := strconv.Atoi(owner)
		if err != nil || n == pid {
			continue
		}
		if _, err := os.Stat("/proc/" + owner); err == nil {
			continue // its bohost still runs
		}
		syscallRmdir(filepath.Join(c.Dir, e.Name()))
	}
}

// New creates a child cgroup named bohost-PID-NAME-N with memory.max set
// to maxBytes (and memory.swap.max to 0, so the cap cannot be escaped by
// swapping, and memory.oom.group to 1, so an OOM kill takes the worker's
// own children too, where those files exist).
func (c *Cgroups) New(name string, maxBytes int64) (*Cgroup, error) {
	c.mu.Lock()
	c.seq++
	n := c.seq
	c.mu.Unlock()
	dir := filepath.Join(c.Dir, fmt.Sprintf("bohost-%d-%s-%d", os.Getpid(), name, n))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, unavailable("%v", err)
	}
	g := &Cgroup{Dir: dir, MaxBytes: maxBytes}
	if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(strconv.FormatInt(maxBytes, 10)), 0); err != nil {
		g.Remove()
		return nil, unavailable("setting memory.max in %s: %v", dir, err)
	}
	for file, v := range map[string]string{"memory.swap.max": "0", "memory.oom.group": "1"} {
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err == nil {
			os.WriteFile(p, []byte(v), 0)
		}
	}
	return g, nil
}

// Add moves a process into the cgroup.
func (g *Cgroup) Add(pid int) error {
	if err := os.WriteFile(filepath.Join(g.Dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return unavailable("moving pid %d into %s: %v", pid, g.Dir, err)
	}
	return nil
}

// OOMKills returns the oom_kill count of memory.events: how many processes
// of the cgroup the kernel's OOM killer killed at its memory.max.
func (g *Cgroup) OOMKills() (int64, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, "memory.events"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no oom_kill line in %s", filepath.Join(g.Dir, "memory.events"))
}

// PeakBytes returns memory.peak (Linux 5.19+), 0 where unavailable.
func (g *Cgroup) PeakBytes() int64 {
	b, err := os.ReadFile(filepath.Join(g.Dir, "memory.peak"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// Remove removes the (empty) cgroup; a cgroup still holding processes stays.
func (g *Cgroup) Remove() error { return syscallRmdir(g.Dir) }

// syscallRmdir removes a cgroup directory: cgroupfs directories hold
// control files that only rmdir (not unlink) removes; a plain directory
// (the tests' fake tree) is removed with its files.
func syscallRmdir(dir string) error {
	if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if isCgroupFS(dir) {
		return os.Remove(dir)
	}
	return os.RemoveAll(dir)
}
