package memctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCgroupTree lays out a cgroup2 mount at DIR/mnt (showing the
// hierarchy from /ctr) with this process in /ctr/job, as mountinfo and
// /proc/self/cgroup would describe it.
func fakeCgroupTree(t *testing.T, controllers, subtree, procs string) (cgroupFS, string) {
	t.Helper()
	dir := t.TempDir()
	job := filepath.Join(dir, "mnt", "job")
	if err := os.MkdirAll(job, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{"cgroup.controllers": controllers, "cgroup.subtree_control": subtree, "cgroup.procs": procs} {
		os.WriteFile(filepath.Join(job, f), []byte(v), 0o644)
	}
	os.MkdirAll(filepath.Join(job, "bohost-999999999-w0-1"), 0o755) // left by a bohost that is gone
	mi := filepath.Join(dir, "mountinfo")
	os.WriteFile(mi, []byte("22 1 0:5 / /proc rw - proc proc rw\n"+
		"35 24 0:30 /ctr "+filepath.Join(dir, "mnt")+" rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"), 0o644)
	self := filepath.Join(dir, "cgroup")
	os.WriteFile(self, []byte("0::/ctr/job\n"), 0o644)
	return cgroupFS{mountinfo: mi, self: self, pid: 4242}, job
}

func TestCgroupsFakeTree(t *testing.T) {
	fs, job := fakeCgroupTree(t, "cpu memory pids\n", "memory pids\n", "4242\n")
	c, err := openCgroups(fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != job || c.Leaf != "" {
		t.Fatalf("dir %q leaf %q, want %q", c.Dir, c.Leaf, job)
	}
	if _, err := os.Stat(filepath.Join(job, "bohost-999999999-w0-1")); !os.IsNotExist(err) {
		t.Errorf("a stale cgroup of another bohost was not removed: %v", err)
	}
	g, err := c.New("w0", 200<<20)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(g.Dir, "memory.max")); string(b) != "209715200" {
		t.Errorf("memory.max %q", b)
	}
	if err := g.Add(777); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(g.Dir, "cgroup.procs")); string(b) != "777" {
		t.Errorf("cgroup.procs %q", b)
	}
	os.WriteFile(filepath.Join(g.Dir, "memory.events"), []byte("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"), 0o644)
	if n, err := g.OOMKills(); err != nil || n != 1 {
		t.Errorf("OOMKills = %d, %v", n, err)
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.Dir); !os.IsNotExist(err) {
		t.Errorf("child not removed: %v", err)
	}
}

func TestCgroupsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name, controllers, subtree, procs, want string
	}{
		{"no memory controller", "cpu pids\n", "", "4242\n", "memory controller is not available"},
		{"shared cgroup", "cpu memory\n", "", "1\n4242\n", "holds 1 other process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := fakeCgroupTree(t, tc.controllers, tc.subtree, tc.procs)
			_, err := openCgroups(fs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cgroup v2") {
				t.Fatalf("err %v, want one with %q", err, tc.want)
			}
		})
	}
	if _, err := openCgroups(cgroupFS{mountinfo: "/nonexistent", self: "/nonexistent"}); err == nil {
		t.Error("no mountinfo: no error")
	}
}

// TestOpenCgroupsHere says what this machine offers (the worker tests fall
// back to RLIMIT_DATA where it is unavailable).
func TestOpenCgroupsHere(t *testing.T) {
	c, err := OpenCgroups()
	if err != nil {
		t.Logf("cgroup v2 memory caps unavailable here: %v", err)
		return
	}
	t.Logf("cgroup v2 memory caps in %s (leaf %q)", c.Dir, c.Leaf)
}

// TestCgroupMaxAncestors: the memory limit is the lowest memory.max on the
// way up, so a leaf without one (where bohost may move itself) keeps its
// parent's.
func TestCgroupMaxAncestors(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b", "leaf"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "memory.max"), []byte("4000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b", "memory.max"), []byte("max\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b", "leaf", "memory.max"), []byte("max\n"), 0o644)
	self := filepath.Join(dir, "cgroup")
	os.WriteFile(self, []byte("0::/a/b/leaf\n"), 0o644)
	if n, ok := cgroupMaxFrom(self, dir); !ok || n != 4000 {
		t.Errorf("cgroupMaxFrom = %d, %v; want 4000", n, ok)
	}
	os.WriteFile(self, []byte("0::/\n"), 0o644)
	if _, ok := cgroupMaxFrom(self, dir); ok {
		t.Error("no limit on the way up, but one was found")
	}
}
