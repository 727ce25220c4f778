// Package errs defines bohost's structured error, shared by every engine and
// by the Lua runtime, which turns it into a Lua error value with the fields
// kind, op, msg and hint. Engines return *errs.Error (or wrap one) so that the
// kind survives all the way to a script and to the process exit code.
package errs

import (
	"errors"
	"fmt"
)

// Kinds of error. Scripts branch on these strings.
const (
	BadArg      = "bad_arg"     // an argument or option is wrong
	BadState    = "bad_state"   // wrong order of calls, e.g. predict before fit
	NotPD       = "not_pd"      // a matrix is not positive definite
	Unavailable = "unavailable" // a backend is missing (no GPU, no OpenCV, no model file)
	OOM         = "oom"         // a memory cap was hit
	IO          = "io"          // reading or writing a file failed
	Canceled    = "canceled"    // Ctrl-C, SIGTERM or a deadline
	Internal    = "internal"    // a recovered Go panic: a bohost bug
	Failed      = "failed"      // an evaluation or user callback failed
	BadValue    = "bad_value"   // an objective value the model cannot use (non-finite, overflowing, absurd outlier)
	Usage       = "usage"       // a command-line usage error (exit code 2)
	Help        = "help"        // --help was asked for: Msg is the help text (exit code 0)
)

// Error is a structured bohost error.
type Error struct {
	Kind string // one of the kinds above
	Op   string // the operation, e.g. "gp.fit" or "airline.dataset"
	Msg  string // what went wrong, naming the bad value
	Hint string // optional: what to do about it
	Err  error  // optional wrapped cause
}

func (e *Error) Error() string {
	s := e.Kind + ": " + e.Msg
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind; msg is formatted with args.
func New(kind, op, msg string, args ...any) *Error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &Error{Kind: kind, Op: op, Msg: msg}
}

// Wrap returns an error of the given kind whose message is err's text.
func Wrap(kind, op string, err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Op == "" {
		e.Op = op
		return e
	}
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: kind, Op: op, Msg: err.Error(), Err: err}
}

// WithHint sets the hint and returns e, for chaining.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// KindOf returns the kind of err, or Internal when err is not a bohost error.
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is a bohost error of the given kind.
func Is(err error, kind string) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
