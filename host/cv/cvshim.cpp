// cvshim.cpp: see cvshim.h. Kept deliberately small: every entry point is one
// try block that converts C++ exceptions into a return code and a message.
#include "cvshim.h"

#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc.hpp>

namespace {

void set_err(char *err, int errcap, const char *msg) {
    if (err == nullptr || errcap <= 0) return;
    std::strncpy(err, msg, static_cast<size_t>(errcap) - 1);
    err[errcap - 1] = '\0';
}

int copy_segments(const std::vector<cv::Vec4f> &v, float *out, int cap) {
    int n = static_cast<int>(v.size());
    int m = n < cap ? n : cap;
    for (int i = 0; i < m; i++) {
        out[4 * i + 0] = v[i][0];
        out[4 * i + 1] = v[i][1];
        out[4 * i + 2] = v[i][2];
        out[4 * i + 3] = v[i][3];
    }
    return n;
}

}  // namespace

extern "C" {

int bh_lsd(void *mat, float *out, int cap, char *err, int errcap) {
    try {
        cv::Ptr<cv::LineSegmentDetector> d = cv::createLineSegmentDetector(cv::LSD_REFINE_STD);
        std::vector<cv::Vec4f> v;
        d->detect(*static_cast<cv::Mat *>(mat), v);
        return copy_segments(v, out, cap);
    } catch (const std::bad_alloc &e) {
        set_err(err, errcap, "out of memory in LineSegmentDetector");
        return BH_ERR_NOMEM;
    } catch (const std::exception &e) {
        set_err(err, errcap, e.what());
        return BH_ERR_CV;
    } catch (...) {
        set_err(err, errcap, "unknown C++ exception in LineSegmentDetector");
        return BH_ERR_CV;
    }
}

int bh_fld(void *mat, float *out, int cap, char *err, int errcap) {
    try {
        cv::Ptr<cv::ximgproc::FastLineDetector> d = cv::ximgproc::createFastLineDetector();
        std::vector<cv::Vec4f> v;
        d->detect(*static_cast<cv::Mat *>(mat), v);
        return copy_segments(v, out, cap);
    } catch (const std::bad_alloc &e) {
        set_err(err, errcap, "out of memory in FastLineDetector");
        return BH_ERR_NOMEM;
    } catch (const std::exception &e) {
        set_err(err, errcap, e.what());
        return BH_ERR_CV;
    } catch (...) {
        set_err(err, errcap, "unknown C++ exception in FastLineDetector");
        return BH_ERR_CV;
    }
}

void bh_set_num_threads(int n) {
    try {
        cv::setNumThreads(n);
    } catch (...) {
    }
}

int bh_get_num_threads(void) {
    try {
        return cv::getNumThreads();
    } catch (...) {
        return -1;
    }
}

// Loads are serialised so that the importer's log level can be lowered while
// it runs: its failures are reported through the exception text instead.
static std::mutex load_mu;

namespace {
struct QuietLog {
    cv::utils::logging::LogLevel old;
    QuietLog() : old(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_FATAL)) {}
    ~QuietLog() { cv::utils::logging::setLogLevel(old); }
};
}  // namespace

void *bh_net_load_onnx(const char *path, int *code, char *err, int errcap) {
    try {
        std::lock_guard<std::mutex> lock(load_mu);
        QuietLog quiet;
        cv::dnn::Net net = cv::dnn::readNetFromONNX(std::string(path));
        if (net.empty()) {
            *code = BH_ERR_CV;
            set_err(err, errcap, "readNetFromONNX returned an empty network");
            return nullptr;
        }
        return new cv::dnn::Net(net);
    } catch (const std::bad_alloc &e) {
        *code = BH_ERR_NOMEM;
        set_err(err, errcap, "out of memory while reading the ONNX model");
    } catch (const std::exception &e) {
        *code = BH_ERR_CV;
        set_err(err, errcap, e.what());
    } catch (...) {
        *code = BH_ERR_CV;
        set_err(err, errcap, "unknown C++ exception in readNetFromONNX");
    }
    return nullptr;
}

void bh_net_free(void *net) {
    delete static_cast<cv::dnn::Net *>(net);
}

int bh_net_forward(void *net, const float *in, int n, int c, int h, int w,
                   const char *out_name, void *out_mat, char *err, int errcap) {
    try {
        cv::dnn::Net *p = static_cast<cv::dnn::Net *>(net);
        int sz[4] = {n, c, h, w};
        // clone: the net keeps its input blob after the call, and in is Go memory.
        cv::Mat blob = cv::Mat(4, sz, CV_32F, const_cast<float *>(in)).clone();
        p->setInput(blob);
        cv::Mat out;
        if (out_name != nullptr && out_name[0] != '\0') {
            out = p->forward(cv::String(out_name));
        } else {
            out = p->forward();
        }
        if (out.depth() != CV_32F) {
            set_err(err, errcap, "network output is not float32");
            return BH_ERR_CV;
        }
        out.copyTo(*static_cast<cv::Mat *>(out_mat));
        return 0;
    } catch (const std::bad_alloc &e) {
        set_err(err, errcap, "out of memory in the forward pass");
        return BH_ERR_NOMEM;
    } catch (const std::exception &e) {
        set_err(err, errcap, e.what());
        return BH_ERR_CV;
    } catch (...) {
        set_err(err, errcap, "unknown C++ exception in the forward pass");
        return BH_ERR_CV;
    }
}

}  // extern "C"
