package main

import (
	"errors"
	"strings"
	"testing"

	"bohost/host/gpu"
)

// fakeGPU is an opened device for gpuCheck.
type fakeGPU struct {
	mem     gpu.MemInfo
	memErr  error
	loadErr error
}

func (f *fakeGPU) Memory() (gpu.MemInfo, error) { return f.mem, f.memErr }
func (f *fakeGPU) LoadKernels() error           { return f.loadErr }

// TestDiagnoseGPUSaysWhichPathAndWhy: bohost diagnose names the path the
// AirLine stages take and the reason, on this machine and on the verdicts
// the probe can give (issue 20: the CUDA path used to hide behind a build
// tag, and a GPU machine silently used the CPU).
func TestDiagnoseGPUSaysWhichPathAndWhy(t *testing.T) {
	// This machine, through the real probe: whatever it has, the line starts
	// with the path and gives a reason that is the machine's, not the build's.
	c := checkGPU()
	t.Logf("gpu check here: %s: %s", c.Status, c.Detail)
	if gpu.Available() {
		if !strings.HasPrefix(c.Detail, "CUDA: device 0 ") || c.Data["path"] != gpu.PathCUDA {
			t.Errorf("a GPU is available, yet: %+v", c)
		}
	} else {
		if c.Status != "info" || !strings.HasPrefix(c.Detail, "CPU: ") || c.Data["path"] != gpu.PathCPU || c.Data["available"] != false {
			t.Errorf("no GPU here, yet: %+v", c)
		}
		if strings.Contains(c.Detail, "-tags") || strings.Contains(c.Detail, "rebuild") || strings.Contains(c.Detail, "build without") {
			t.Errorf("the CUDA binding is in every build; the reason must be the machine's: %s", c.Detail)
		}
	}

	noOpen := func() (gpuDevice, error) { t.Fatal("opened a device on the CPU path"); return nil, nil }
	c = gpuCheck(gpu.Status{Path: gpu.PathCPU, Reason: "libcuda.so.1 not found (no NVIDIA driver)", Library: "libcuda.so.1"}, noOpen)
	if want := `CPU: libcuda.so.1 not found (no NVIDIA driver); AirLine stages run on the CPU`; c.Status != "info" || !strings.HasPrefix(c.Detail, want) ||
		c.Data["reason"] != "libcuda.so.1 not found (no NVIDIA driver)" {
		t.Errorf("no driver: %+v, want info %q", c, want)
	}

	h200 := gpu.Status{Path: gpu.PathCUDA, Reason: "device 0 NVIDIA H200, driver CUDA 13.0, compute 9.0", DriverVersion: 13000,
		Devices: []gpu.Device{{Name: "NVIDIA H200", TotalBytes: 141 << 30, Major: 9}}}
	dev := &fakeGPU{mem: gpu.MemInfo{Free: 140 << 30, Total: 141 << 30}}
	open := func() (gpuDevice, error) { return dev, nil }
	c = gpuCheck(h200, open)
	want := `CUDA: device 0 NVIDIA H200, driver CUDA 13.0, compute 9.0; AirLine stages on the GPU with evaluator device = "cuda"; `
	if c.Status != "ok" || !strings.HasPrefix(c.Detail, want) || !strings.Contains(c.Detail, "kernels JIT-compiled in") ||
		c.Data["device"] != "NVIDIA H200" || c.Data["compute"] != "9.0" || c.Data["driver_cuda"] != 13000 || c.Data["available"] != true {
		t.Errorf("H200: %+v, want ok %q...", c, want)
	}

	dev.loadErr = errors.New("gpu.kernel: failed: CUDA_ERROR_INVALID_PTX")
	if c = gpuCheck(h200, open); c.Status != "warn" || !strings.Contains(c.Detail, "kernels do not load: gpu.kernel: failed: CUDA_ERROR_INVALID_PTX") ||
		!strings.Contains(c.Detail, "falls back to the CPU") {
		t.Errorf("JIT failure: %+v", c)
	}
	c = gpuCheck(h200, func() (gpuDevice, error) {
		return nil, errors.New("cuDevicePrimaryCtxRetain: CUDA_ERROR_OUT_OF_MEMORY")
	})
	if c.Status != "warn" || !strings.Contains(c.Detail, "device 0 cannot be opened: cuDevicePrimaryCtxRetain") {
		t.Errorf("open failure: %+v", c)
	}
}
