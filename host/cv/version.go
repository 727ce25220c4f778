package cv

import "gocv.io/x/gocv"

// Version is the version of the OpenCV library bohost is linked against.
func Version() string { return gocv.OpenCVVersion() }
