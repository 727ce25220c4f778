// Package cv is bohost's only cgo package: OpenCV 4.6 (Debian 12's
// libopencv-dev) through gocv v0.32.0, plus a small own C++ shim
// (cvshim.h/.cpp, C++11) for what gocv lacks or gets wrong. Every other bohost
// package is pure Go; this one needs OpenCV at build time (`pkg-config
// opencv4`), and nothing else imports gocv.
//
// # Conversions and image operations
//
// Pixels live in bohost/host/imgbuf buffers; Mats exist only inside a call and
// are closed on every path (checked by the matprofile test below).
//
//	GrayToMat(*imgbuf.Gray) (gocv.Mat, error)    // copy; caller closes
//	FloatToMat(*imgbuf.Float) (gocv.Mat, error)
//	MatToGray(gocv.Mat) (*imgbuf.Gray, error)    // CV_8UC1
//	MatToFloat(gocv.Mat) (*imgbuf.Float, error)  // CV_32FC1
//	Decode(path) (*imgbuf.Gray, error)           // header size check (imgbuf.CheckFile), then cv::imread grey; io error naming the file
//	GrayFromImage(image.Image) (*imgbuf.Gray, error) // OpenCV's BGR→grey weights
//	GaussianBlur(img, sigma) (*imgbuf.Gray, error)
//	Sobel(img) (gx, gy *imgbuf.Float, err error) // 3×3, unscaled
//	Canny(img, lo, hi) (*imgbuf.Gray, error)     // 0/255
//	Resize(img, w, h), ResizeFloat(img, w, h)
//	DrawSegments(img, layers ...Layer) (*image.RGBA, error) // overlays
//	WritePNG(path, image.Image) error
//	SetNumThreads(n), NumThreads()               // cv::setNumThreads
//
// # Line-segment baselines
//
//	LSD(img) ([]imgbuf.Segment, error)              // createLineSegmentDetector(LSD_REFINE_STD), via the shim
//	FLD(img) ([]imgbuf.Segment, error)              // ximgproc FastLineDetector defaults, via the shim
//	Hough(img, HoughParams) ([]imgbuf.Segment, error) // Canny(50,150) + HoughLinesP(1, 1°, 50, 30, 5) by default
//
// gocv wraps neither LSD nor FLD, and gocv/contrib does not build on Debian (no
// xfeatures2d), hence the shim: it fills a caller buffer with 4 floats per
// segment and returns the count; Go calls again when the buffer was too small.
//
// # Learned models (OpenCV DNN, CPU)
//
//	LoadEdgeModel(path, *EdgeOptions) (*EdgeModel, error)
//	(*EdgeModel).Edges(*imgbuf.Gray) (*imgbuf.Float, error) // per-pixel logits at image size
//	LoadYOLO(path, *YOLOOptions) (*YOLO, error)
//	(*YOLO).Detect(*imgbuf.Gray) ([]Detection, error)
//	(*YOLO).Boxes(*imgbuf.Gray) ([]imgbuf.Box, error)
//	Close() on both; LiveModels() counts open ones.
//
// EdgeModel.Edges and YOLO.Boxes have the signatures of airline.Options'
// EdgeFunc and ROIFunc, so host/airline stays free of cgo:
//
//	m, err := cv.LoadEdgeModel("dexined.onnx", nil)
//	...
//	defer m.Close()
//	ev, err := airline.New(airline.Options{Edge: "learned", EdgeFunc: m.Edges})
//
// The edge model follows AirLine's DexiNed path (notes/airline.md §1, §8): the
// grey image is replicated to BGR (or fed as one channel when the model
// declares one), scaled by 1/255 with no mean subtraction, resized so W and H
// are multiples of 16, and the model's last declared output (DexiNed's fused
// block_cat, 1×1×H×W logits) is resized back to the image size.
//
// YOLO assumes an Ultralytics export: input [1, 3, S, S] RGB/255 letterboxed
// with grey 114 padding; output [1, N, 5+C] (YOLOv5: cx, cy, w, h, objectness,
// class scores) or [1, 4+C, N] (YOLOv8: cx, cy, w, h, class scores), in input
// pixels. Format "auto" reads [1, A, B] as v8 when A < B. Boxes scoring at
// least Conf (v5: objectness × class score) pass per-class NMS at IoU.
//
// OpenCV's ONNX importer throws C++ exceptions on bad models, and gocv's
// ReadNet lets them escape, which aborts the process. Here a model is first
// checked by a small streaming protobuf reader in Go (which also reads the
// declared input shape and output names), then loaded by
// cv::dnn::readNetFromONNX inside try/catch in the shim. A missing or
// unreadable file is kind io, a malformed or unsupported model kind bad_arg;
// neither crashes. OpenCV 4.6's importer needs kernel_shape on Conv.
//
// # Errors
//
// Every function returns *errs.Error: bad_arg for bad images, options and
// models (naming the field, its range and the value), io for files, oom when
// OpenCV reports std::bad_alloc, failed for an OpenCV exception during
// detection or a forward pass, bad_state after Close. Nothing panics on user
// input.
//
// # Memory checks
//
//	go test -count=1 ./host/cv/                      // includes a 300-cycle RSS flatness test
//	go test -tags matprofile -count=1 ./host/cv/     // + 1,000 cycles with gocv.MatProfile.Count() unchanged
//
// The matprofile tag changes gocv's file set, so it costs a full gocv rebuild
// (~100 s on 2 cores): keep it out of the default test target.
package cv
