package extproc

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Environment variables the child gets.
const (
	ProtocolEnv = "BOHOST_PROTOCOL" // the protocol version, "1"
	WorkerEnv   = "BOHOST_WORKER"   // the worker's slot, "0", "1", ...
	RunDirEnv   = "BOHOST_RUN_DIR"  // the run directory (host/run sets it for the workers; inherited)
)

// GPUFor is the device of worker slot among gpus (slot i gets gpus[i % n]),
// as CUDA_VISIBLE_DEVICES spells it; "" without gpus.
func GPUFor(gpus []int, slot int) string {
	if len(gpus) == 0 || slot < 0 {
		return ""
	}
	return strconv.Itoa(gpus[slot%len(gpus)])
}

// ChildEnv is the child's environment: base (the worker's), then
// BOHOST_PROTOCOL, BOHOST_WORKER, PYTHONUNBUFFERED=1 (unless set, so what a
// Python child prints reaches its log at once), CUDA_VISIBLE_DEVICES when gpu
// is not "", then user's variables (which win), with helperDir first on
// PYTHONPATH (before the user's and the inherited entries) when it is not "".
func ChildEnv(base []string, user map[string]string, slot int, gpu, helperDir string) []string {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	set(ProtocolEnv, strconv.Itoa(Version))
	set(WorkerEnv, strconv.Itoa(slot))
	if _, ok := vars["PYTHONUNBUFFERED"]; !ok {
		set("PYTHONUNBUFFERED", "1")
	}
	if gpu != "" {
		set("CUDA_VISIBLE_DEVICES", gpu)
	}
	keys := make([]string, 0, len(user))
	for k := range user {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, user[k])
	}
	if helperDir != "" {
		p := helperDir
		if cur := vars["PYTHONPATH"]; cur != "" {
			p += string(os.PathListSeparator) + cur
		}
		set("PYTHONPATH", p)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// Config is what a worker's factory knows: a command objective's fields
// (objective.CommandSpec's, which this package does not import: it would
// pull in AirLine), the worker's slot, the run directory and where the
// Python helper is.
type Config struct {
	Command       []string
	Env           map[string]string
	Cwd           string
	GPUs          []int
	SetupTimeoutS float64
	Slot          int
	RunDir        string // "": no log file
	HelperDir     string // "": PYTHONPATH unchanged
}

// Options are the bridge's options for c, in an environment based on the
// worker's own.
func (c Config) Options() Options {
	gpu := GPUFor(c.GPUs, c.Slot)
	o := Options{Command: c.Command, Env: ChildEnv(os.Environ(), c.Env, c.Slot, gpu, c.HelperDir), Dir: c.Cwd,
		Slot: c.Slot, GPU: gpu, SetupTimeout: time.Duration(c.SetupTimeoutS * float64(time.Second))}
	if c.RunDir != "" {
		o.LogPath = LogPathFor(c.RunDir, c.Slot)
	}
	return o
}
