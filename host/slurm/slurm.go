package slurm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bohost/host/errs"
)

// IDs are the Slurm ids of the process that reads them from its environment:
// the job (and, for an array element, the array job and task), the step and
// the node. Empty fields are not set.
type IDs struct {
	JobID       string `json:"job_id,omitempty"`
	ArrayJobID  string `json:"array_job_id,omitempty"`
	ArrayTaskID string `json:"array_task_id,omitempty"`
	StepID      string `json:"step_id,omitempty"`
	Node        string `json:"node,omitempty"`
	Cluster     string `json:"cluster,omitempty"`
}

// FromEnv reads IDs from the environment Slurm gives a batch script or a
// step's task; ok is false outside Slurm.
func FromEnv(getenv func(string) string) (IDs, bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	id := IDs{
		JobID:       getenv("SLURM_JOB_ID"),
		ArrayJobID:  getenv("SLURM_ARRAY_JOB_ID"),
		ArrayTaskID: getenv("SLURM_ARRAY_TASK_ID"),
		StepID:      getenv("SLURM_STEP_ID"),
		Node:        getenv("SLURMD_NODENAME"),
		Cluster:     getenv("SLURM_CLUSTER_NAME"),
	}
	if id.JobID == "" {
		id.JobID = getenv("SLURM_JOBID")
	}
	return id, id.JobID != ""
}

// Map is the ids as a map of their JSON names (for events.jsonl).
func (id IDs) Map() map[string]any {
	m := map[string]any{}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("job_id", id.JobID)
	add("array_job_id", id.ArrayJobID)
	add("array_task_id", id.ArrayTaskID)
	add("step_id", id.StepID)
	add("node", id.Node)
	add("cluster", id.Cluster)
	return m
}

// DefaultLocalDir is where tools/slurm.sh keeps the local test cluster
// (BOHOST_SLURM_DIR overrides it there and here).
const DefaultLocalDir = "/var/tmp/bohost-slurm"

// LocalConf is the slurm.conf of the local test cluster (it may not exist).
func LocalConf() string {
	dir := os.Getenv("BOHOST_SLURM_DIR")
	if dir == "" {
		dir = DefaultLocalDir
	}
	return filepath.Join(dir, "slurm.conf")
}

// Available says whether Slurm's client commands are installed and a
// controller answers (sinfo within a few seconds), with the reason when not.
// env is added to the process environment (e.g. SLURM_CONF=...).
func Available(ctx context.Context, env []string) error {
	const op = "slurm.available"
	if _, err := exec.LookPath("sbatch"); err != nil {
		return errs.New(errs.Unavailable, op, "Slurm's commands are not installed (no sbatch on PATH)").
			WithHint("on Debian: apt-get install slurm-wlm munge; for a local test cluster: make slurm-up")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := Command(ctx, env, "sinfo", "-h", "-o", "%P"); err != nil {
		return errs.New(errs.Unavailable, op, "no Slurm controller answers: %v", err).
			WithHint("start the local test cluster with make slurm-up, or set SLURM_CONF to your cluster's slurm.conf")
	}
	return nil
}

// Command runs one of Slurm's commands and returns its stdout; a failure is
// an error that quotes the command and its stderr.
func Command(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), errs.New(errs.Failed, "slurm."+name, "%s %s: %s", name, strings.Join(quoteAll(args), " "), msg)
	}
	return out.String(), nil
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			out[i] = strconv.Quote(a)
		} else {
			out[i] = a
		}
	}
	return out
}
