package run

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"bohost/host/errs"
)

// writeFileAtomic writes b to path: a temp file in the same directory,
// fsync, rename, fsync of the directory.
func writeFileAtomic(path string, b []byte) error {
	const op = "run.write"
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return errs.New(errs.IO, op, "%s: %v", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return errs.New(errs.IO, op, "%s: %v", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errs.New(errs.Internal, "run.write", "%s: %v", path, err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func sortStrings(s []string) { sort.Strings(s) }

func sortInts(s []int) { sort.Ints(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
