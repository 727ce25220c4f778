package run

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"bohost/host/errs"
)

// testKill implements Options.TestKill: SIGKILL this process at the n-th
// time a phase is reached, optionally after a delay while the phase runs.
// Tests use it to kill a run during fit, evaluation, journaling or
// checkpoint writing.
type testKill struct {
	phase string
	n     int
	delay time.Duration

	mu   sync.Mutex
	seen map[string]int
}

func parseTestKill(s string) (*testKill, error) {
	if s == "" {
		return nil, nil
	}
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 {
		return nil, errs.New(errs.BadArg, "run.test_kill", "want phase:n[:delay_us], got %q", s)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 {
		return nil, errs.New(errs.BadArg, "run.test_kill", "n must be an integer >= 1, got %q", f[1])
	}
	k := &testKill{phase: f[0], n: n, seen: map[string]int{}}
	if len(f) == 3 {
		us, err := strconv.Atoi(f[2])
		if err != nil || us < 0 {
			return nil, errs.New(errs.BadArg, "run.test_kill", "delay_us must be an integer >= 0, got %q", f[2])
		}
		k.delay = time.Duration(us) * time.Microsecond
	}
	return k, nil
}

// at marks that phase is reached.
func (k *testKill) at(phase string) {
	if k == nil || phase != k.phase {
		return
	}
	k.mu.Lock()
	k.seen[phase]++
	hit := k.seen[phase] == k.n
	k.mu.Unlock()
	if !hit {
		return
	}
	if k.delay == 0 {
		syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
		select {}
	}
	go func() {
		time.Sleep(k.delay)
		syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
	}()
}
