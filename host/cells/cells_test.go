package cells

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSbatchArgs(t *testing.T) {
	got := SbatchArgs(Array{Partition: "gpu", Time: "4:00:00", Mem: "16G", Tasks: 2, GPUsPerTask: 1, MaxRunning: 3,
		Extra: []string{"--account=lab"}}, []int{2, 5, 6}, "/sweep/cells")
	want := []string{"--parsable", "--array=2,5,6%3", "--job-name=bohost-sweep", "--output=/sweep/cells/cell_%a.log",
		"--open-mode=append", "--requeue", "--signal=B:TERM@60", "--ntasks=2", "--partition=gpu", "--time=4:00:00",
		"--mem=16G", "--gpus-per-task=1", "--account=lab"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sbatch args:\n got %q\nwant %q", got, want)
	}
	if a := SbatchArgs(Array{}, []int{1}, "d"); a[7] != "--ntasks=1" || len(a) != 8 {
		t.Fatalf("defaults: %q", a)
	}
}

// The batch script runs the command with --cell and the element's index,
// and survives arguments a shell would split or expand.
func TestBatchScriptQuoting(t *testing.T) {
	dir := t.TempDir()
	argv := []string{"/bin/sh", "-c", `printf '%s|' "$@"`, "x", "it's", "$HOME", "a b", ""}
	script := filepath.Join(dir, "s.sh")
	if err := os.WriteFile(script, []byte(BatchScript(argv)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=7", "SLURM_JOB_ID=12", "SLURM_ARRAY_JOB_ID=10")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !strings.HasPrefix(lines[0], "==> cell 7 as job 12 (array 10)") {
		t.Errorf("first line %q", lines[0])
	}
	if got := lines[len(lines)-1]; got != `it's|$HOME|a b||--cell|7|` {
		t.Errorf("arguments reached the cell as %q", got)
	}
}

func TestParseJobRecord(t *testing.T) {
	// a jobcomp/filetxt line as the local cluster writes it
	rec := "JobId=9 UserId=root(0) GroupId=root(0) Name=bohost-sweep JobState=CANCELLED Partition=debug TimeLimit=UNLIMITED " +
		"StartTime=2026-12-04T05:21:20 EndTime=2026-12-04T05:21:21 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/work/main " +
		"ReservationName= Tres=cpu=1,mem=1G,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-04T05:21:19 " +
		"EligibleTime=2026-12-04T05:21:19 ArrayJobId=7 ArrayTaskId=2 DerivedExitCode=0:0 ExitCode=0:15 "
	task, ok := parseJobRecord(rec, "7", "jobcomp")
	if !ok || task.Cell != 2 || task.TaskJob != "9" || task.State != "CANCELLED" || task.ExitCode != "0:15" || task.Active() {
		t.Fatalf("got %+v, %v", task, ok)
	}
	if _, ok := parseJobRecord(rec, "8", "jobcomp"); ok {
		t.Error("a record of another array job was taken")
	}
	// the pending remainder of an array in scontrol: ArrayTaskId=3-5, listed by squeue instead
	if _, ok := parseJobRecord("JobId=7 ArrayJobId=7 ArrayTaskId=3-5 JobState=PENDING", "7", "scontrol"); ok {
		t.Error("a task range was taken as one cell")
	}
	if !(Task{State: "REQUEUED"}).Active() || (Task{State: "TIMEOUT"}).Active() {
		t.Error("Active")
	}
}

func TestJobsFile(t *testing.T) {
	dir := t.TempDir()
	if j, err := Jobs(dir); err != nil || j != nil {
		t.Fatalf("no file: %v %v", j, err)
	}
	p := filepath.Join(dir, JobsFile)
	good := `{"job_id":"7","cells":[1,2],"time":"t","command":["b"],"sbatch":[]}` + "\n"
	os.WriteFile(p, []byte(good+`{"job_id":"8","cel`), 0o644) // torn last line: a crash while writing it
	j, err := Jobs(dir)
	if err != nil || len(j) != 1 || j[0].JobID != "7" || !reflect.DeepEqual(j[0].Cells, []int{1, 2}) {
		t.Fatalf("torn last line: %+v %v", j, err)
	}
	os.WriteFile(p, []byte("garbage\n"+good), 0o644)
	if _, err := Jobs(dir); err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), p) {
		t.Fatalf("a bad line must be named with the file: %v", err)
	}
}

// Local runs each cell with --cell K, at most parallel at once, appends
// their output to their logs, and reports exit codes and signals.
func TestLocal(t *testing.T) {
	dir := t.TempDir()
	// the cell's argv ends "--cell K": $2 is K
	script := `k=$2; echo "cell $k"; echo $$ > ` + dir + `/pid_$k; sleep 0.3; case $k in 2) exit 3;; 3) kill -9 $$;; esac`
	s := Spec{Command: []string{"/bin/sh", "-c", script, "sh"}, Cells: []int{1, 2, 3, 4}, Dir: dir}
	var log strings.Builder
	start := time.Now()
	out, err := Local(context.Background(), s, 2, &log)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("4 cells of 0.3 s, 2 at a time, took %v", d)
	}
	want := []struct {
		state string
		code  int
		sig   string
	}{{"COMPLETED", 0, ""}, {"FAILED", 3, ""}, {"FAILED", -1, "SIGKILL"}, {"COMPLETED", 0, ""}}
	for i, w := range want {
		o := out[i]
		if o.Cell != i+1 || o.State != w.state || o.ExitCode != w.code || o.Signal != w.sig {
			t.Errorf("cell %d: %+v, want %+v", i+1, o, w)
		}
		b, _ := os.ReadFile(o.Log)
		if !strings.Contains(string(b), "cell "+string(rune('1'+i))) || !strings.Contains(string(b), "==> cell") {
			t.Errorf("log of cell %d: %q", i+1, b)
		}
	}
	if !strings.Contains(log.String(), "cell 2: FAILED") {
		t.Errorf("progress: %q", log.String())
	}
	if _, err := Local(context.Background(), Spec{Command: []string{"x"}, Cells: []int{0}, Dir: dir}, 1, nil); err == nil {
		t.Error("cell 0 accepted")
	}
}

// Ctrl-C (ctx ends): the running cells get SIGTERM and are CANCELLED, the
// ones not started are not started.
func TestLocalCanceled(t *testing.T) {
	dir := t.TempDir()
	s := Spec{Command: []string{"/bin/sh", "-c", `trap 'echo got TERM; exit 143' TERM; sleep 30 & wait`, "sh"}, Cells: []int{1, 2}, Dir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	out, err := Local(ctx, s, 1, nil)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	if out[0].State != "CANCELLED" || out[1].State != "CANCELLED" {
		t.Fatalf("%+v", out)
	}
	b, _ := os.ReadFile(out[0].Log)
	if !strings.Contains(string(b), "got TERM") {
		t.Errorf("cell 1 did not get SIGTERM: %q", b)
	}
	if _, err := os.Stat(out[1].Log); err == nil {
		t.Error("cell 2 was started after the cancel")
	}
}
