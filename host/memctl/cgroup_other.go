//go:build !linux

package memctl

func isCgroupFS(string) bool { return false }
