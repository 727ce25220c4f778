package memctl

import "syscall"

const cgroup2Magic = 0x63677270 // CGROUP2_SUPER_MAGIC

func isCgroupFS(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == cgroup2Magic
}
