package fault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"bohost/host/errs"
)

// The test binary re-executes itself with BOHOST_FAULT_CHILD set to run one
// fault in a child process.
func TestMain(m *testing.M) {
	if what := os.Getenv("BOHOST_FAULT_CHILD"); what != "" {
		var err error
		switch what {
		case "segv":
			err = Segv()
		case "abort":
			err = Abort()
		case "exit":
			err = Exit(7)
		case "hang":
			err = Hang()
		}
		if err != nil {
			os.Stderr.WriteString("returned: " + err.Error() + "\n")
			os.Exit(90)
		}
		os.Exit(91)
	}
	os.Exit(m.Run())
}

func child(t *testing.T, what string, faults bool, timeout time.Duration) (*os.ProcessState, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BOHOST_FAULT_CHILD="+what, "BOHOST_FAULTS=")
	if faults {
		cmd.Env = append(cmd.Env, "BOHOST_FAULTS=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState, stderr.String()
}

func TestSignals(t *testing.T) {
	for _, tc := range []struct {
		what string
		sig  syscall.Signal
	}{
		{"segv", syscall.SIGSEGV},
		{"abort", syscall.SIGABRT},
	} {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			st, stderr := child(t, tc.what, true, 10*time.Second)
			ws := st.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != tc.sig {
				t.Fatalf("child ended with %v (stderr %q), want death by %v", st, stderr, tc.sig)
			}
			if !strings.Contains(stderr, "fault: deliberate") {
				t.Errorf("stderr %q lacks the fault's message", stderr)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("the Go runtime handled the signal: %q", stderr)
			}
		})
	}
}

func TestExitAndHang(t *testing.T) {
	t.Parallel()
	st, _ := child(t, "exit", true, 10*time.Second)
	if st.ExitCode() != 7 {
		t.Errorf("exit: status %v, want 7", st)
	}
	start := time.Now()
	st, _ = child(t, "hang", true, 300*time.Millisecond)
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL || time.Since(start) < 300*time.Millisecond {
		t.Errorf("hang: %v after %v, want killed by the test's timer", st, time.Since(start))
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	for _, what := range []string{"segv", "abort", "exit", "hang"} {
		st, stderr := child(t, what, false, 10*time.Second)
		if st.ExitCode() != 90 || !strings.Contains(stderr, "bad_state") || !strings.Contains(stderr, EnvVar) {
			t.Errorf("%s while disabled: %v, stderr %q; want a bad_state error naming %s", what, st, stderr, EnvVar)
		}
	}
}

func TestAlloc(t *testing.T) {
	Enable(false)
	t.Setenv(EnvVar, "")
	if err := Alloc(1); !errs.Is(err, errs.BadState) {
		t.Fatalf("disabled Alloc: %v", err)
	}
	Enable(true)
	defer Enable(false)
	before := rss(t)
	const n = 64 << 20
	if err := Alloc(n); err != nil {
		t.Fatal(err)
	}
	defer Release()
	if Held() != n {
		t.Errorf("Held() = %d, want %d", Held(), n)
	}
	// Every page was touched, so RSS grows by nearly n (tolerance 8 MiB).
	if grew := rss(t) - before; grew < n-8<<20 {
		t.Errorf("RSS grew by %d bytes, want about %d", grew, n)
	}
	if err := Alloc(-1); !errs.Is(err, errs.BadArg) {
		t.Errorf("Alloc(-1): %v", err)
	}
	if err := Exit(300); !errs.Is(err, errs.BadArg) {
		t.Errorf("Exit(300): %v", err)
	}
}

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm (%v): cannot measure RSS", err)
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		t.Fatal(err)
	}
	return res * int64(os.Getpagesize())
}
