package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"bohost/host/errs"
)

// Options configures Open. The zero value (or nil) is valid.
type Options struct {
	// TruncateTorn cuts a torn end (see Report) off the file before appending.
	// Default false: Open returns a bad_state error on a torn file.
	TruncateTorn bool
	// Exclusive takes a non-blocking flock(2) on the file for the Writer's
	// lifetime, so a second bohost process appending to the same journal fails
	// at Open with bad_state. Default false.
	Exclusive bool
	// Perm is the permission of a newly created file. Default 0o644.
	Perm os.FileMode
}

// Report describes what ReadAll (or Open) found.
type Report struct {
	Lines int // complete, valid lines passed to fn (or found by Open)
	Blank int // blank lines skipped

	// Torn is true when the end of the file was ignored: a last line without
	// its newline, or one or more invalid lines with nothing valid after them.
	Torn       bool
	TornLine   int   // 1-based line number where the ignored end starts
	TornOffset int64 // byte offset where the ignored end starts (the size after repair)
	TornBytes  int64 // number of ignored bytes
	TornReason string
	// SavedTo is the file Open saved the cut-off bytes to before truncating
	// (PATH.torn-OFFSET): a cut never destroys what was written.
	SavedTo string
}

// String describes the torn end in one line, or "" when there is none.
func (r Report) String() string {
	if !r.Torn {
		return ""
	}
	s := fmt.Sprintf("ignored a torn end at line %d (byte %d, %d bytes): %s", r.TornLine, r.TornOffset, r.TornBytes, r.TornReason)
	if r.SavedTo != "" {
		s += "; the bytes cut off are kept in " + r.SavedTo
	}
	return s
}

// ReadAll calls fn with every complete, valid JSON line of the file at path, in
// order (the slice is only valid during the call). A missing file is an error
// that satisfies errors.Is(err, fs.ErrNotExist). See the package doc for the
// torn-end rules.
func ReadAll(path string, fn func(line []byte) error) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, &errs.Error{Kind: errs.IO, Op: "journal.read", Msg: err.Error(), Err: err}
	}
	defer f.Close()
	return scan(path, f, fn)
}

// scan is ReadAll over an open reader.
func scan(path string, r io.Reader, fn func(line []byte) error) (Report, error) {
	var (
		rep      Report
		br       = bufio.NewReaderSize(r, 64<<10)
		off      int64
		lineNo   int
		badLine  int // first bad line since the last valid one (0: none)
		badOff   int64
		badWhy   string
		pendingN int64 // bytes from badOff on
	)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			start := off
			off += int64(len(line))
			complete := line[len(line)-1] == '\n'
			body := bytes.TrimRight(line, "\r\n")
			switch {
			case !complete:
				if badLine == 0 {
					badLine, badOff, badWhy = lineNo, start, "last line has no newline (a write was cut short)"
				}
				pendingN = off - badOff
			case len(bytes.TrimSpace(body)) == 0:
				rep.Blank++
				if badLine != 0 {
					pendingN = off - badOff
				}
			case !json.Valid(body):
				if badLine == 0 {
					badLine, badOff, badWhy = lineNo, start, "invalid JSON"
				}
				pendingN = off - badOff
			default:
				if badLine != 0 {
					return rep, errs.New(errs.IO, "journal.read",
						"%s:%d: %s, but valid records follow (line %d): the file is corrupt in the middle, not just torn at the end",
						path, badLine, badWhy, lineNo).WithHint("inspect or repair the file by hand; bohost never rewrites journals")
				}
				if fn != nil {
					if ferr := fn(body); ferr != nil {
						var e *errs.Error
						if errors.As(ferr, &e) {
							e2 := *e
							e2.Msg = fmt.Sprintf("%s:%d: %s", path, lineNo, e.Msg)
							return rep, &e2
						}
						return rep, &errs.Error{Kind: errs.IO, Op: "journal.read", Msg: fmt.Sprintf("%s:%d: %v", path, lineNo, ferr), Err: ferr}
					}
				}
				rep.Lines++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, &errs.Error{Kind: errs.IO, Op: "journal.read", Msg: fmt.Sprintf("%s: %v", path, err), Err: err}
		}
	}
	if badLine != 0 {
		rep.Torn, rep.TornLine, rep.TornOffset, rep.TornBytes, rep.TornReason = true, badLine, badOff, pendingN, badWhy
	}
	return rep, nil
}

// Writer appends records to one journal file. Its methods are safe for
// concurrent use; records are never interleaved.
type Writer struct {
	mu       sync.Mutex
	f        *os.File
	path     string
	size     int64 // bytes of complete records
	repaired Report
	broken   error
}

// Open opens (creating it if needed) the journal at path for appending. It
// scans the existing content: corruption in the middle is an error; a torn end
// is an error unless opts.TruncateTorn is set, in which case it is cut off and
// reported by Repaired.
func Open(path string, opts *Options) (*Writer, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Perm == 0 {
		o.Perm = 0o644
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, o.Perm)
	if err != nil {
		return nil, &errs.Error{Kind: errs.IO, Op: "journal.open", Msg: err.Error(), Err: err}
	}
	fail := func(e error) (*Writer, error) {
		f.Close()
		return nil, e
	}
	if o.Exclusive {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return fail(errs.New(errs.BadState, "journal.open", "%s is locked by another process (%v)", path, err).
				WithHint("is another bohost run writing to this run directory?"))
		}
	}
	rep, err := scan(path, f, nil)
	if err != nil {
		return fail(err)
	}
	size := rep.TornOffset
	if rep.Torn {
		if !o.TruncateTorn {
			return fail(errs.New(errs.BadState, "journal.open", "%s: %s", path, rep.String()).
				WithHint("open with TruncateTorn to cut the torn end off before appending (resume does this)"))
		}
		saved, err := saveTorn(f, path, size)
		if err != nil {
			return fail(err)
		}
		rep.SavedTo = saved
		if err := f.Truncate(size); err != nil {
			return fail(&errs.Error{Kind: errs.IO, Op: "journal.open", Msg: fmt.Sprintf("%s: truncating torn end: %v", path, err), Err: err})
		}
		if err := f.Sync(); err != nil {
			return fail(&errs.Error{Kind: errs.IO, Op: "journal.open", Msg: fmt.Sprintf("%s: %v", path, err), Err: err})
		}
	} else {
		st, err := f.Stat()
		if err != nil {
			return fail(&errs.Error{Kind: errs.IO, Op: "journal.open", Msg: err.Error(), Err: err})
		}
		size = st.Size()
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		return fail(&errs.Error{Kind: errs.IO, Op: "journal.open", Msg: err.Error(), Err: err})
	}
	w := &Writer{f: f, path: path, size: size}
	if rep.Torn {
		w.repaired = rep
	}
	return w, nil
}

// saveTorn copies the bytes of f from off to its end into a new file
// PATH.torn-OFF (PATH.torn-OFF.N when that exists) and fsyncs it, so that
// cutting a torn end never destroys bytes: a torn write is usually a record
// cut short, but an invalid complete line at the end may be a record
// damaged by hand or by the disk, which a person can still repair.
func saveTorn(f *os.File, path string, off int64) (string, error) {
	fail := func(err error) (string, error) {
		return "", &errs.Error{Kind: errs.IO, Op: "journal.open", Msg: fmt.Sprintf("%s: saving the torn end before cutting it: %v", path, err), Err: err}
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fail(err)
	}
	name := fmt.Sprintf("%s.torn-%d", path, off)
	var out *os.File
	for i := 1; ; i++ {
		var err error
		out, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return fail(err)
		}
		name = fmt.Sprintf("%s.torn-%d.%d", path, off, i)
	}
	_, err := io.Copy(out, f)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fail(err)
	}
	syncDir(path)
	return name, nil
}

// Path returns the file's path.
func (w *Writer) Path() string { return w.path }

// Repaired describes the torn end that Open cut off (Torn is false when none).
func (w *Writer) Repaired() Report { return w.repaired }

// Append marshals v with encoding/json and appends it as one line, then
// fsyncs the file. When it returns nil the record is durable. After a failed
// write the partial bytes are truncated away; if that also fails the Writer is
// broken and every later Append returns the first error.
func (w *Writer) Append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &errs.Error{Kind: errs.BadArg, Op: "journal.append", Msg: fmt.Sprintf("%s: cannot encode record: %v", w.path, err), Err: err}
	}
	return w.AppendRaw(b)
}

// AppendRaw appends one already-encoded JSON value as a line. The value must
// be valid JSON without a raw newline (encoding/json never emits one).
func (w *Writer) AppendRaw(b []byte) error {
	if !json.Valid(b) || bytes.IndexByte(b, '\n') >= 0 {
		return errs.New(errs.BadArg, "journal.append", "%s: record must be one line of valid JSON, got %d bytes", w.path, len(b))
	}
	line := make([]byte, 0, len(b)+1)
	line = append(append(line, b...), '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errs.New(errs.BadState, "journal.append", "%s: writer is closed", w.path)
	}
	if w.broken != nil {
		return w.broken
	}
	n, err := w.f.Write(line)
	if err == nil {
		err = w.f.Sync()
	}
	if err != nil {
		e := &errs.Error{Kind: errs.IO, Op: "journal.append", Msg: fmt.Sprintf("%s: %v", w.path, err), Err: err}
		if n > 0 {
			// Undo the partial record so the file stays a valid journal.
			if terr := w.f.Truncate(w.size); terr != nil {
				w.broken = e
			} else if _, serr := w.f.Seek(w.size, io.SeekStart); serr != nil {
				w.broken = e
			}
		}
		return e
	}
	w.size += int64(n)
	return nil
}

// Close closes the file (releasing the lock, if any). Closing twice is a no-op.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return &errs.Error{Kind: errs.IO, Op: "journal.close", Msg: fmt.Sprintf("%s: %v", w.path, err), Err: err}
	}
	return nil
}

// syncDir fsyncs the directory holding path, so that a new file's name is
// durable (best effort: some file systems refuse directory fsync).
func syncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
}
