//go:build !linux

package gpu

func threadID() int { return -1 } // not checked off Linux
