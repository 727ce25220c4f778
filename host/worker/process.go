package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main is the whole life of a worker process (the hidden `bohost worker`
// subcommand, and the tests' re-executed binary): it claims stdio (see
// ClaimStdio), serves until stdin ends (exit status 0) or fails (a message
// on stderr, status 1).
//
// SIGTERM, SIGHUP and SIGINT stop it cleanly: a line on stderr, the
// evaluation in flight (if any) sees its context end and gets StopGrace to
// return, no result is sent for it, and the process then dies by the same
// signal (re-raised with the default action), so the parent's death
// certificate names the signal as for any other death. If the objective is
// stuck in native code and does not return, the worker dies by the signal
// after StopGrace all the same. (The parent's own death reaches a worker as
// SIGKILL through Pdeathsig, see sysProcAttr: nothing is left to stop
// cleanly for then.)
func Main(stderr io.Writer, factory Factory) int {
	in, out, err := ClaimStdio()
	if err != nil {
		fmt.Fprintf(stderr, "bohost worker: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	got := make(chan os.Signal, 1)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(stderr, "bohost worker (pid %d): %s received: stopping (an evaluation in flight is abandoned, no result is sent)\n", os.Getpid(), SignalName(s.(syscall.Signal)))
		got <- s
		cancel(fmt.Errorf("%s received", SignalName(s.(syscall.Signal))))
		time.AfterFunc(StopGrace+time.Second, func() { reraise(s) })
	}()
	err = Serve(ctx, in, out, factory)
	select {
	case s := <-got:
		reraise(s)
	default:
	}
	signal.Stop(sigs)
	if err != nil {
		fmt.Fprintf(stderr, "bohost worker: %v\n", err)
		return 1
	}
	return 0
}

// reraise ends the process by s with its default action, so the parent sees
// the process killed by s.
func reraise(s os.Signal) {
	sig := s.(syscall.Signal)
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}
