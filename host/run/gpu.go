package run

import (
	"fmt"

	"bohost/host/gpu"
	"bohost/host/objective"
)

// gpuEvent records, at the start of each session, which path AirLine's
// per-pixel stages take and why, as the "gpu" event: the probe's verdict
// ("CPU: libcuda.so.1 not found (no NVIDIA driver)", "CUDA: device 0 ...")
// applied to the evaluator's device option for an airline objective (the
// workers decide the same way on the same machine). When the evaluator
// asks for "cuda" and gets the CPU, or leaves an available GPU unused, the
// line is printed too: a GPU machine never uses the CPU silently.
func (r *Run) gpuEvent() {
	s := gpu.Probe()
	extra := map[string]any{"machine": s.Path, "reason": s.Reason, "library": s.Library}
	path, line := s.Path, s.String()
	spec, err := objective.ParseSpec(r.cfg.Objective)
	airline := err == nil && spec.Airline != nil
	device := ""
	if airline {
		device = spec.Airline.Evaluator.Device
		if device == "" {
			device = "cpu"
		}
		extra["device"] = device
		path, line = s.Evaluator(device)
	}
	extra["path"] = path
	r.eventExtra("gpu", line, nil, extra)
	if airline && device != "auto" && (device == "cuda") != (s.Path == gpu.PathCUDA) {
		if r.prog != nil {
			r.prog.logf("bohost run: gpu: %s", line)
		} else {
			fmt.Fprintf(r.opts.Log, "bohost run: gpu: %s\n", line)
		}
	}
}
