/* cvshim.h: the small C interface bohost's host/cv needs from OpenCV beyond gocv:
   LineSegmentDetector, ximgproc FastLineDetector, the thread count, and a guarded
   ONNX load and forward pass. Every function catches every C++ exception and
   reports it through (err, errcap) instead of letting it abort the process. */
#ifndef BOHOST_CVSHIM_H
#define BOHOST_CVSHIM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of the functions that report errors. */
#define BH_ERR_CV -1    /* a cv::Exception or other std::exception: bad input or model */
#define BH_ERR_NOMEM -2 /* std::bad_alloc */

/* bh_lsd runs cv::createLineSegmentDetector(LSD_REFINE_STD) on mat (a cv::Mat*,
   CV_8UC1) and writes up to cap segments as x1,y1,x2,y2 into out (4*cap floats).
   It returns the number of segments found, which may exceed cap (call again with
   a larger buffer), or a negative BH_ERR_* code with a message in err. */
int bh_lsd(void *mat, float *out, int cap, char *err, int errcap);

/* bh_fld is bh_lsd for cv::ximgproc::createFastLineDetector() with its defaults
   (length threshold 10, distance threshold 1.414, Canny 50/50, aperture 3, no merge). */
int bh_fld(void *mat, float *out, int cap, char *err, int errcap);

/* cv::setNumThreads / cv::getNumThreads. */
void bh_set_num_threads(int n);
int bh_get_num_threads(void);

/* bh_net_load_onnx reads an ONNX model with cv::dnn::readNetFromONNX. It returns
   an opaque cv::dnn::Net*, or NULL with a message in err (*code = BH_ERR_*). */
void *bh_net_load_onnx(const char *path, int *code, char *err, int errcap);

/* bh_net_free deletes a net returned by bh_net_load_onnx (NULL is a no-op). */
void bh_net_free(void *net);

/* bh_net_forward copies the NCHW float blob in (n*c*h*w floats) into the net,
   runs forward to the output named out_name (or the default output when out_name
   is empty) and copies the result into out_mat (a cv::Mat*). It returns 0, or a
   BH_ERR_* code with a message in err. in is not retained after the call. */
int bh_net_forward(void *net, const float *in, int n, int c, int h, int w,
                   const char *out_name, void *out_mat, char *err, int errcap);

#ifdef __cplusplus
}
#endif

#endif
