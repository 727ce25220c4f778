package ckpt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"bohost/host/errs"
)

// Format is the envelope format this package writes and reads.
const Format = 1

// DefaultName is the run directory's checkpoint name: checkpoint.json and
// checkpoint.prev.json (docs/rundir.md).
const DefaultName = "checkpoint"

// Warning says that a snapshot was unusable and which one was used instead.
// The caller logs it (a checkpoint_fallback event).
type Warning struct {
	Path   string // the unusable file
	Reason string // why, e.g. "sha256 mismatch: ..." or "missing"
	Used   string // the file loaded instead
}

func (w *Warning) String() string {
	return fmt.Sprintf("checkpoint %s is unusable (%s); using the previous snapshot %s", w.Path, w.Reason, w.Used)
}

// Loaded is the result of Load.
type Loaded struct {
	Payload Value
	Path    string   // the file the payload came from
	Warning *Warning // non-nil when Path is the previous snapshot
}

// PrevPath returns the previous-snapshot path for path: dir/NAME.json →
// dir/NAME.prev.json.
func PrevPath(path string) string {
	return strings.TrimSuffix(path, ".json") + ".prev.json"
}

// Envelope returns the file content for payload: the envelope line
// {"format":1,"sha256":HEX,"payload":PAYLOAD} and a newline, where HEX is the
// SHA-256 of the canonical payload bytes exactly as they appear in the file.
func (c *Codec) Envelope(payload Value) ([]byte, error) {
	p, err := c.Marshal(payload)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(p)
	var b bytes.Buffer
	b.Grow(len(p) + 120)
	fmt.Fprintf(&b, `{"format":%d,"sha256":"%s","payload":`, Format, hex.EncodeToString(sum[:]))
	b.Write(p)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// Save writes payload to path atomically and durably: a temp file in the same
// directory, fsync, rename over path, fsync of the directory. The snapshot it
// replaces becomes PrevPath(path) — unless it fails verification, in which case
// the existing previous snapshot is kept, so a corrupt file never pushes out
// the last good one. At every instant path is either the old or the new
// complete file. Leftover temp files of earlier crashes are removed.
func (c *Codec) Save(path string, payload Value) error {
	data, err := c.Envelope(payload)
	if err != nil {
		return err
	}
	return writeSnapshot(path, data)
}

func ioErr(op, path string, err error) *errs.Error {
	return &errs.Error{Kind: errs.IO, Op: op, Msg: fmt.Sprintf("%s: %v", path, err), Err: err}
}

func writeSnapshot(path string, data []byte) error {
	const op = "ckpt.save"
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if old, _ := filepath.Glob(filepath.Join(dir, globEscape(base)+".tmp-*")); len(old) > 0 {
		for _, o := range old {
			os.Remove(o)
		}
	}
	tmp, err := os.CreateTemp(dir, base+".tmp-*")
	if err != nil {
		return ioErr(op, path, err)
	}
	tmpName := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmpName)
		return ioErr(op, tmpName, err)
	}
	// Rotate the current snapshot to .prev if it is good. A hard link keeps
	// path present throughout; rename is the fallback where links fail.
	if cur, err := os.ReadFile(path); err == nil {
		if _, verr := verify(cur); verr == nil {
			prev := PrevPath(path)
			link := prev + ".tmp-link"
			os.Remove(link)
			if err := os.Link(path, link); err == nil {
				err = os.Rename(link, prev)
				if err != nil {
					os.Remove(link)
					return ioErr(op, prev, err)
				}
			} else if err := copyFile(cur, prev); err != nil {
				return ioErr(op, prev, err)
			}
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return ioErr(op, path, err)
	}
	if err := syncDir(dir); err != nil {
		return ioErr(op, dir, err)
	}
	return nil
}

// copyFile writes data to dst atomically (temp, fsync, rename).
func copyFile(data []byte, dst string) error {
	tmp := dst + ".tmp-copy"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}

// verify checks an envelope and returns its payload bytes.
func verify(data []byte) (json.RawMessage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil {
		if len(data) == 0 {
			return nil, errors.New("empty file")
		}
		return nil, fmt.Errorf("not a JSON envelope (%v; truncated?)", err)
	}
	fb, ok := env["format"]
	if !ok {
		return nil, errors.New(`no "format" field`)
	}
	var format int
	if err := json.Unmarshal(fb, &format); err != nil || format != Format {
		return nil, fmt.Errorf("format is %s, this bohost reads format %d", fb, Format)
	}
	var want string
	if err := json.Unmarshal(env["sha256"], &want); err != nil || len(want) != 64 {
		return nil, errors.New(`"sha256" is missing or not 64 hex digits`)
	}
	payload, ok := env["payload"]
	if !ok {
		return nil, errors.New(`no "payload" field`)
	}
	var canon bytes.Buffer
	if err := json.Compact(&canon, payload); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	sum := sha256.Sum256(canon.Bytes())
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("sha256 mismatch: the payload hashes to %.12s…, the envelope says %.12s… (the file was altered or torn)", got, want)
	}
	return canon.Bytes(), nil
}

// Load reads the snapshot at path, verifies its format and checksum, and
// decodes its payload with c. When path is missing or corrupt (truncated,
// altered, not JSON) it loads PrevPath(path) instead and says so in
// Loaded.Warning. When neither is usable it returns an *errs.Error of kind io
// naming both files; if neither exists, that error also satisfies
// errors.Is(err, fs.ErrNotExist). Temp files of an interrupted Save are
// ignored.
func (c *Codec) Load(path string) (Loaded, error) {
	const op = "ckpt.load"
	prev := PrevPath(path)
	v, curErr := c.loadOne(path)
	if curErr == nil {
		return Loaded{Payload: v, Path: path}, nil
	}
	v, prevErr := c.loadOne(prev)
	if prevErr == nil {
		return Loaded{Payload: v, Path: prev, Warning: &Warning{Path: path, Reason: reason(curErr), Used: prev}}, nil
	}
	var de *decodeError
	if errors.As(curErr, &de) {
		return Loaded{}, &errs.Error{Kind: errs.IO, Op: op, Msg: curErr.Error(), Err: curErr}
	}
	e := errs.New(errs.IO, op, "no usable checkpoint: %s: %s; %s: %s", path, reason(curErr), prev, reason(prevErr))
	if errors.Is(curErr, fs.ErrNotExist) && errors.Is(prevErr, fs.ErrNotExist) {
		e.Err = fs.ErrNotExist
	}
	return Loaded{}, e
}

// decodeError is a verified file whose payload the codec could not decode (a
// decoder failed): not corruption, so it is reported rather than skipped.
type decodeError struct{ err error }

func (d *decodeError) Error() string { return d.err.Error() }
func (d *decodeError) Unwrap() error { return d.err }

func reason(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	return err.Error()
}

func (c *Codec) loadOne(path string) (Value, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	payload, err := verify(data)
	if err != nil {
		return nil, err
	}
	v, err := c.Unmarshal(payload)
	if err != nil {
		return nil, &decodeError{fmt.Errorf("%s: %w", path, err)}
	}
	return v, nil
}

// Latest loads the run directory's checkpoint: dir/checkpoint.json, or
// dir/checkpoint.prev.json with a Warning. See Load.
func (c *Codec) Latest(dir string) (Loaded, error) {
	return c.Load(filepath.Join(dir, DefaultName+".json"))
}
