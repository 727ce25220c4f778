//go:build !cuda

package gpu

// Built without -tags cuda: there is no driver binding, and every entry
// point that needs the device returns kind unavailable wrapping ErrNoCUDA.

// CUDABuild reports whether this binary was built with -tags cuda.
const CUDABuild = false

func loadDriver() (driver, error) {
	return nil, unavailable("gpu.driver", ErrNoCUDA, "this bohost was built without CUDA support")
}
