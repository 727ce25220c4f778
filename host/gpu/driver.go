package gpu

import (
	"fmt"
	"math"
	"unsafe"
)

// driver is the device API a Context runs on. The CUDA implementation
// (cuda.go, in every build) binds libcuda.so.1 at run time with purego;
// where that fails, loadDriver returns ErrNoDriver with the reason.
//
// Every method except version and devices is called only from the owner
// goroutine of the Context, whose OS thread has the device's primary context
// current (bind).
type driver interface {
	allocator
	version() (int, error)
	devices() ([]Device, error)
	// bind retains the primary context of device ordinal and makes it
	// current on the calling (locked) thread; unbind releases it.
	bind(ordinal int) error
	unbind(ordinal int) error
	memInfo() (free, total uint64, err error)
	htod(dst uint64, src unsafe.Pointer, n uint64) error
	dtoh(dst unsafe.Pointer, src uint64, n uint64) error
	synchronize() error
	loadModule(name string, ptx []byte) (uintptr, error)
	unloadModule(mod uintptr) error
	function(mod uintptr, name string) (uintptr, error)
	// launch runs fn; params[i] points at the value of argument i.
	launch(fn uintptr, grid, block [3]uint32, params []unsafe.Pointer) error
}

// devPtr is a device address passed to a kernel as a CUdeviceptr (8 bytes).
type devPtr uint64

// kernelArgs holds kernel arguments for cuLaunchKernel: every argument has
// its own 8-byte, 8-aligned home holding the value in its own size (4 bytes
// for int32/uint32/float32, 8 for int64/uint64/float64/pointers), and ptrs[i]
// points at home i. The driver reads exactly the parameter's size from each
// pointer, so a 4-byte scalar is never read past its end.
type kernelArgs struct {
	homes []uint64
	ptrs  []unsafe.Pointer
}

func packArgs(args ...any) (*kernelArgs, error) {
	k := &kernelArgs{homes: make([]uint64, len(args)), ptrs: make([]unsafe.Pointer, len(args))}
	for i, a := range args {
		h := unsafe.Pointer(&k.homes[i])
		switch v := a.(type) {
		case int32:
			*(*int32)(h) = v
		case uint32:
			*(*uint32)(h) = v
		case float32:
			*(*float32)(h) = v
		case int64:
			*(*int64)(h) = v
		case uint64:
			*(*uint64)(h) = v
		case float64:
			*(*float64)(h) = v
		case devPtr:
			*(*uint64)(h) = uint64(v)
		case int:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("kernel argument %d: int %d does not fit the kernel's int (int32)", i, v)
			}
			*(*int32)(h) = int32(v)
		default:
			return nil, fmt.Errorf("kernel argument %d: unsupported type %T", i, a)
		}
		k.ptrs[i] = h
	}
	return k, nil
}
