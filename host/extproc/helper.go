package extproc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// HelperFile is the Python helper's file name: `import bohost_worker`.
const HelperFile = "bohost_worker.py"

// HelperDirs are the directories WriteHelper tries for content, in order:
// the user's cache directory (bohost/python/<sha256 prefix>), then the
// system temp directory (bohost-<uid>/python/<sha256 prefix>). The prefix
// keeps every version's file apart.
func HelperDirs(content []byte) []string {
	h := sha256.Sum256(content)
	ver := hex.EncodeToString(h[:6])
	var out []string
	if d, err := os.UserCacheDir(); err == nil {
		out = append(out, filepath.Join(d, "bohost", "python", ver))
	}
	return append(out, filepath.Join(os.TempDir(), fmt.Sprintf("bohost-%d", os.Getuid()), "python", ver))
}

// WriteHelper writes content as HelperFile into the first of HelperDirs
// that works (unless the file is already there with this content) and
// returns the directory. The write is atomic (a temporary file renamed),
// so workers starting together never see half a file.
func WriteHelper(content []byte) (string, error) {
	var first error
	for _, dir := range HelperDirs(content) {
		p := filepath.Join(dir, HelperFile)
		if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, content) {
			return dir, nil
		}
		err := writeAtomic(dir, p, content)
		if err == nil {
			return dir, nil
		}
		if first == nil {
			first = err
		}
	}
	return "", fmt.Errorf("cannot write the Python helper %s: %v", HelperFile, first)
}

func writeAtomic(dir, p string, content []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".bohost_worker-*.py")
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	os.Chmod(f.Name(), 0o644)
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
