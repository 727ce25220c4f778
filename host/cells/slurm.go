package cells

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"bohost/host/errs"
	"bohost/host/slurm"
)

// Array is how a sweep's array job asks Slurm for resources: each element
// runs one cell (its bo.run, whose workers may be job steps: Tasks of them).
type Array struct {
	Partition   string   `json:"partition,omitempty"`
	Time        string   `json:"time,omitempty"`          // --time, e.g. "4:00:00"
	Mem         string   `json:"mem,omitempty"`           // --mem per element (per node), e.g. "16G"
	MemPerCPU   string   `json:"mem_per_cpu,omitempty"`   // --mem-per-cpu
	Tasks       int      `json:"tasks,omitempty"`         // --ntasks per element: its workers as job steps (default 1)
	CPUsPerTask int      `json:"cpus_per_task,omitempty"` // --cpus-per-task
	GPUsPerTask int      `json:"gpus_per_task,omitempty"` // --gpus-per-task
	MaxRunning  int      `json:"max_running,omitempty"`   // the array's %N: elements running at once (0: Slurm decides)
	JobName     string   `json:"job_name,omitempty"`      // default "bohost-sweep"
	Extra       []string `json:"sbatch_args,omitempty"`   // any other sbatch arguments, as given
}

// Job is one submission of a sweep's array, a line of DIR/jobs.jsonl.
type Job struct {
	JobID   string   `json:"job_id"`
	Cells   []int    `json:"cells"`
	Time    string   `json:"time"`
	Command []string `json:"command"`
	Sbatch  []string `json:"sbatch"`
}

// JobsFile is the sweep's record of its submissions in Spec.Dir.
const JobsFile = "jobs.jsonl"

// SbatchArgs are the arguments Submit gives sbatch (before the batch
// script) for the cells, writing logs to dir.
func SbatchArgs(a Array, cells []int, dir string) []string {
	name := a.JobName
	if name == "" {
		name = "bohost-sweep"
	}
	ids := make([]string, len(cells))
	for i, c := range cells {
		ids[i] = strconv.Itoa(c)
	}
	arr := strings.Join(ids, ",")
	if a.MaxRunning > 0 {
		arr += "%" + strconv.Itoa(a.MaxRunning)
	}
	args := []string{"--parsable", "--array=" + arr, "--job-name=" + name,
		// one log per cell, appended to across requeues and resubmissions
		"--output=" + filepath.Join(dir, "cell_%a.log"), "--open-mode=append",
		// a preempted or failed node's element goes back to the queue and
		// resumes from its run directory
		"--requeue",
		// time to stop cleanly before a time limit: bohost stops on SIGTERM
		// with its journals intact
		"--signal=B:TERM@60",
		"--ntasks=" + strconv.Itoa(max(a.Tasks, 1)),
	}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag+"="+v)
		}
	}
	add("--partition", a.Partition)
	add("--time", a.Time)
	add("--mem", a.Mem)
	add("--mem-per-cpu", a.MemPerCPU)
	if a.CPUsPerTask > 0 {
		add("--cpus-per-task", strconv.Itoa(a.CPUsPerTask))
	}
	if a.GPUsPerTask > 0 {
		add("--gpus-per-task", strconv.Itoa(a.GPUsPerTask))
	}
	return append(args, a.Extra...)
}

// BatchScript is the batch script of a sweep's array: it runs the cell whose
// index is the element's SLURM_ARRAY_TASK_ID.
func BatchScript(command []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# written by bohost: one element of a sweep's job array runs one cell\n")
	b.WriteString("echo \"==> cell ${SLURM_ARRAY_TASK_ID} as job ${SLURM_JOB_ID} (array ${SLURM_ARRAY_JOB_ID}) on $(hostname) restart ${SLURM_RESTART_COUNT:-0} at $(date -u +%FT%TZ)\"\n")
	// exec: the batch step's signals (scancel, --signal=B:TERM) reach bohost
	b.WriteString("exec")
	for _, a := range command {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString(" --cell \"${SLURM_ARRAY_TASK_ID}\"\n")
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Submit submits the cells as one job array and records it in jobs.jsonl.
// env is added to sbatch's environment (which the elements inherit:
// --export=ALL is Slurm's default).
func Submit(ctx context.Context, s Spec, a Array, env []string) (Job, error) {
	const op = "cells.submit"
	if err := s.validate(op); err != nil {
		return Job{}, err
	}
	if len(s.Cells) == 0 {
		return Job{}, errs.New(errs.BadArg, op, "no cells to submit")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return Job{}, errs.New(errs.IO, op, "%v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Job{}, errs.New(errs.IO, op, "%v", err)
	}
	script := filepath.Join(dir, "sweep.sbatch")
	if err := writeFileAtomic(script, []byte(BatchScript(s.Command)), 0o755); err != nil {
		return Job{}, errs.New(errs.IO, op, "%v", err)
	}
	cwd, _ := os.Getwd()
	args := append(SbatchArgs(a, s.Cells, dir), "--chdir="+cwd, script)
	out, err := slurm.Command(ctx, append(append([]string{}, s.Env...), env...), "sbatch", args...)
	if err != nil {
		return Job{}, err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // --parsable: jobid[;cluster]
	if _, err := strconv.Atoi(id); err != nil {
		return Job{}, errs.New(errs.Failed, op, "sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	j := Job{JobID: id, Cells: append([]int{}, s.Cells...), Time: time.Now().UTC().Format(time.RFC3339),
		Command: s.Command, Sbatch: args}
	line, _ := json.Marshal(j)
	f, err := os.OpenFile(filepath.Join(dir, JobsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if err == nil {
			err = f.Sync()
		}
		f.Close()
	}
	if err != nil {
		// the job runs anyway; without the record a rerun could submit its cells twice
		return j, errs.New(errs.IO, op, "job %s was submitted but %s could not be written: %v", id, JobsFile, err).
			WithHint("scancel %s before running the sweep again, or wait for it", id)
	}
	return j, nil
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Jobs reads dir/jobs.jsonl (none: empty). A torn last line (a crash while
// writing it) is skipped; any other bad line is an error naming it.
func Jobs(dir string) ([]Job, error) {
	p := filepath.Join(dir, JobsFile)
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.New(errs.IO, "cells.jobs", "%v", err)
	}
	defer f.Close()
	var out []Job
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var bad error
	for n := 1; sc.Scan(); n++ {
		if bad != nil {
			return nil, bad // a bad line that was not the last one
		}
		var j Job
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil || j.JobID == "" {
			bad = errs.New(errs.BadArg, "cells.jobs", "%s line %d is not a job record: %.80q", p, n, sc.Text())
			continue
		}
		out = append(out, j)
	}
	return out, sc.Err()
}

// Task is the state of one array element as Slurm reports it.
type Task struct {
	Cell     int    `json:"cell"`
	JobID    string `json:"job_id"`    // the array job's id
	TaskJob  string `json:"task_job"`  // the element's own job id (SLURM_JOB_ID inside it)
	State    string `json:"state"`     // PENDING, RUNNING, REQUEUED, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
	ExitCode string `json:"exit_code"` // "code:signal" as Slurm writes it
	Reason   string `json:"reason,omitempty"`
	Source   string `json:"source"` // squeue, scontrol or jobcomp
}

// Active is whether Slurm may still run the element (it is queued, running
// or being requeued).
func (t Task) Active() bool {
	switch t.State {
	case "PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "COMPLETING",
		"SUSPENDED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "STOPPED":
		return true
	}
	return false
}

// States asks Slurm for the array job's elements: squeue for those it still
// schedules, scontrol show job for the rest while the controller remembers
// them, and the job-completion file after that. Cells Slurm knows nothing
// of are missing from the map.
func States(ctx context.Context, env []string, jobID string) (map[int]Task, error) {
	out, _, err := queued(ctx, env, jobID)
	if err != nil {
		return nil, err
	}
	return settled(ctx, env, jobID, out), nil
}

// settled adds to squeue's view of the job (out) the elements it no longer
// lists: from scontrol show job, then the job-completion file.
func settled(ctx context.Context, env []string, jobID string, out map[int]Task) map[int]Task {
	sc, _ := slurm.Command(ctx, env, "scontrol", "show", "job", "-o", jobID)
	for _, rec := range strings.Split(sc, "\n") {
		t, ok := parseJobRecord(rec, jobID, "scontrol")
		if ok {
			if old, seen := out[t.Cell]; !seen || !old.Active() || t.Active() {
				out[t.Cell] = t
			}
		}
	}
	if loc := jobCompLoc(ctx, env); loc != "" {
		if f, err := os.Open(loc); err == nil {
			s := bufio.NewScanner(f)
			s.Buffer(make([]byte, 64<<10), 1<<20)
			for s.Scan() {
				t, ok := parseJobRecord(s.Text(), jobID, "jobcomp")
				if _, seen := out[t.Cell]; ok && !seen {
					out[t.Cell] = t
				}
			}
			f.Close()
		}
	}
	return out
}

// queued is what squeue says of the array job's elements (one line each,
// pending ones included), and that output as it came, to compare polls.
func queued(ctx context.Context, env []string, jobID string) (map[int]Task, string, error) {
	out := map[int]Task{}
	sq, err := slurm.Command(ctx, env, "squeue", "-h", "-r", "-j", jobID, "-o", "%i|%K|%T|%r")
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return nil, "", err
	}
	for _, ln := range strings.Split(sq, "\n") {
		f := strings.Split(strings.TrimSpace(ln), "|")
		if len(f) < 4 {
			continue
		}
		k, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		out[k] = Task{Cell: k, JobID: jobID, TaskJob: f[0], State: f[2], Reason: f[3], Source: "squeue"}
	}
	return out, sq, nil
}

// parseJobRecord reads one "Key=Value Key=Value ..." record (scontrol show
// job -o, or a jobcomp/filetxt line) of an element of array job jobID.
func parseJobRecord(rec, jobID, source string) (Task, bool) {
	kv := map[string]string{}
	for _, f := range strings.Fields(rec) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	if kv["ArrayJobId"] != jobID {
		return Task{}, false
	}
	k, err := strconv.Atoi(kv["ArrayTaskId"])
	if err != nil {
		return Task{}, false // the pending rest of an array: squeue lists it
	}
	return Task{Cell: k, JobID: jobID, TaskJob: kv["JobId"], State: kv["JobState"], ExitCode: kv["ExitCode"],
		Reason: kv["Reason"], Source: source}, true
}

// jobCompLoc is the job-completion file of the cluster env reaches ("" when
// it keeps none as a text file), asked of scontrol once per process and env.
func jobCompLoc(ctx context.Context, env []string) string {
	key := strings.Join(env, "\x00")
	compLocMu.Lock()
	defer compLocMu.Unlock()
	if loc, ok := compLoc[key]; ok {
		return loc
	}
	loc, err := readJobCompLoc(ctx, env)
	if err == nil {
		compLoc[key] = loc
	}
	return loc
}

var (
	compLocMu sync.Mutex
	compLoc   = map[string]string{}
)

func readJobCompLoc(ctx context.Context, env []string) (string, error) {
	out, err := slurm.Command(ctx, env, "scontrol", "show", "config")
	if err != nil {
		return "", err
	}
	var typ, loc string
	for _, ln := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(ln, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "JobCompType":
			typ = strings.TrimSpace(v)
		case "JobCompLoc":
			loc = strings.TrimSpace(v)
		}
	}
	if typ != "jobcomp/filetxt" {
		return "", nil
	}
	return loc, nil
}

// Last is, over every job in dir/jobs.jsonl, each cell's state in the
// newest submission of it that Slurm still knows (queued, running, or ended:
// COMPLETED, CANCELLED, TIMEOUT, ...). A state not yet in dir/states.jsonl
// is recorded there, so an element cancelled or timed out while nobody
// waited (--detach) is on record once the sweep looks again.
func Last(ctx context.Context, env []string, dir string) (map[int]Task, error) {
	jobs, err := Jobs(dir)
	if err != nil {
		return nil, err
	}
	out := map[int]Task{}
	for i := len(jobs) - 1; i >= 0; i-- {
		st, err := States(ctx, env, jobs[i].JobID)
		if err != nil {
			return nil, err
		}
		for k, t := range st {
			if _, seen := out[k]; !seen {
				out[k] = t
			}
		}
	}
	seen := recorded(dir)
	for _, k := range slices.Sorted(maps.Keys(out)) {
		t := out[k]
		if seen[k] != t.TaskJob+" "+t.State {
			if err := recordState(dir, t); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Pending is the cells of the sweep's jobs (dir/jobs.jsonl) that Slurm may
// still run: queued, running or requeued (Last, filtered).
func Pending(ctx context.Context, env []string, dir string) (map[int]Task, error) {
	last, err := Last(ctx, env, dir)
	if err != nil {
		return nil, err
	}
	for k, t := range last {
		if !t.Active() {
			delete(last, k)
		}
	}
	return last, nil
}

// recorded is each cell's last "task_job state" in dir/states.jsonl.
func recorded(dir string) map[int]string {
	out := map[int]string{}
	f, err := os.Open(filepath.Join(dir, StatesFile))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var t Task
		if json.Unmarshal(sc.Bytes(), &t) == nil && t.Cell > 0 {
			out[t.Cell] = t.TaskJob + " " + t.State
		}
	}
	return out
}

// StatesFile is where Wait records, in the sweep's cells directory, every
// change of a cell's state it saw (one JSON line: time, cell, job ids,
// state, exit code, where the state came from).
const StatesFile = "states.jsonl"

// Wait polls the jobs until none of their cells is active and returns each
// cell's last state. progress gets a line, and dir/states.jsonl a record
// (dir "": none), whenever a cell's state changes. When ctx ends Wait
// returns its error; the jobs keep running on the cluster.
func Wait(ctx context.Context, env []string, dir string, jobIDs []string, cells []int, every time.Duration, progress io.Writer) (map[int]Task, error) {
	if progress == nil {
		progress = io.Discard
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	want := map[int]bool{}
	for _, c := range cells {
		want[c] = true
	}
	last := recorded(dir)
	prev := "\x00" // squeue's output at the last full look: none yet
	var all map[int]Task
	for {
		// squeue alone while nothing changes; scontrol and the job-completion
		// file (which only grows) only when it does
		var sq strings.Builder
		inQueue := make([]map[int]Task, len(jobIDs))
		for i, id := range jobIDs {
			q, out, err := queued(ctx, env, id)
			if err != nil {
				return nil, err
			}
			inQueue[i] = q
			sq.WriteString(out)
		}
		if sq.String() == prev {
			select {
			case <-ctx.Done():
				return all, ctx.Err()
			case <-time.After(every):
			}
			continue
		}
		prev = sq.String()
		all = map[int]Task{}
		for i, id := range jobIDs {
			for k, t := range settled(ctx, env, id, inQueue[i]) {
				if old, seen := all[k]; want[k] && (!seen || t.Active() || !old.Active()) {
					all[k] = t
				}
			}
		}
		active := 0
		for _, k := range slices.Sorted(maps.Keys(all)) {
			t := all[k]
			if t.Active() {
				active++
			}
			if last[k] != t.TaskJob+" "+t.State {
				last[k] = t.TaskJob + " " + t.State
				fmt.Fprintf(progress, "cell %d: %s (job %s)%s\n", k, t.State, t.TaskJob, reasonNote(t))
				if err := recordState(dir, t); err != nil {
					return nil, err
				}
			}
		}
		if active == 0 {
			return all, nil
		}
		select {
		case <-ctx.Done():
			return all, ctx.Err()
		case <-time.After(every):
		}
	}
}

func recordState(dir string, t Task) error {
	if dir == "" {
		return nil
	}
	line, _ := json.Marshal(struct {
		Time string `json:"time"`
		Task
	}{time.Now().UTC().Format(time.RFC3339Nano), t})
	f, err := os.OpenFile(filepath.Join(dir, StatesFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return errs.New(errs.IO, "cells.wait", "%v", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return errs.New(errs.IO, "cells.wait", "%v", err)
	}
	return nil
}

func reasonNote(t Task) string {
	switch {
	case t.Active() && t.Reason != "" && t.Reason != "None":
		return " " + t.Reason
	case !t.Active() && t.ExitCode != "" && t.ExitCode != "0:0":
		return " exit " + t.ExitCode
	}
	return ""
}
