// Package cv is bohost's only cgo package: OpenCV 4.6 through gocv v0.32.0 plus
// a small own C++ shim (cvshim.h/.cpp).
package cv
