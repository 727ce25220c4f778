package run

// Where a run directory is and what it ran: the helpers behind `bohost
// resume` (a run directory records its own path, so a copy resumes itself)
// and `bohost replay` (the objective that runs is the run directory's copy,
// checked against the recorded hash; the output directory is marked as a
// replay). docs/runs.md, "Resume" and "Replay"; docs/rundir.md.

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
	"sync/atomic"

	"bohost/host/errs"
	"bohost/host/objective"
)

// More file names of the run directory (docs/rundir.md).
const (
	// ObjectiveFile is the copy of a Lua objective's file, made when the run
	// starts; its sha256 is the recorded objective_file_sha256.
	ObjectiveFile = "objective.lua"
	// ReplayFile marks a directory written by `bohost replay` and names the
	// run it replays; only such a directory is ever replaced by a replay.
	ReplayFile = "replay.json"
)

// ResumeDirEnv is the variable `bohost resume` sets in the script's
// environment (the Lua runtime's, not the workers'): a JSON ResumeRedirect.
const ResumeDirEnv = "BOHOST_RESUME_DIR"

// Args is args.json: the script, its arguments, the working directory it
// was started in and (since issue 19) the run directory's absolute path.
type Args struct {
	Script string   `json:"script"`
	Args   []string `json:"args"`
	Cwd    string   `json:"cwd"`
	Dir    string   `json:"dir,omitempty"`
}

// ReadArgs reads a run directory's args.json.
func ReadArgs(dir string) (Args, error) {
	p := filepath.Join(dir, ArgsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return Args{}, errs.New(errs.IO, "run.args", "%s is not a resumable run directory: %v", dir, err)
	}
	var a Args
	if err := json.Unmarshal(b, &a); err != nil {
		return Args{}, errs.New(errs.BadArg, "run.args", "%s: %v", p, err)
	}
	return a, nil
}

// RealPath is p absolute and clean, with symbolic links resolved in the
// longest part of it that exists (so a directory still to be made compares
// equal to itself once made).
func RealPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// Within reports whether path is dir or below it (both RealPath'd).
func Within(path, dir string) bool {
	if path == dir {
		return true
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// ResumeRedirect tells bo.run, during `bohost resume`, which run directory
// is being resumed: a script's bo.run on that directory, or on the path the
// directory recorded when it was made (Recorded: the original of a copy),
// opens Dir; any other directory is skipped (ResumeTarget).
type ResumeRedirect struct {
	Dir      string `json:"dir"`                // the run directory being resumed (absolute)
	Recorded string `json:"recorded,omitempty"` // args.json "dir" ("" for directories made before it existed)
	Cwd      string `json:"cwd,omitempty"`      // args.json "cwd": relative dirs of the script are relative to it
}

// Encode is the value of ResumeDirEnv.
func (rr ResumeRedirect) Encode() string {
	b, _ := json.Marshal(rr)
	return string(b)
}

// ResumeTarget maps the dir a script's bo.run names while `bohost resume`
// runs it (spec: the value of ResumeDirEnv, "" when not resuming). It
// returns the directory to open, or skip: why this other run directory is
// left alone (nothing is created, opened or written there).
func ResumeTarget(spec, dir string) (target, skip string, err error) {
	if spec == "" {
		return dir, "", nil
	}
	var rr ResumeRedirect
	if err := json.Unmarshal([]byte(spec), &rr); err != nil || rr.Dir == "" {
		return "", "", errs.New(errs.BadArg, "run.resume", "%s=%q is not what bohost resume sets (%v)", ResumeDirEnv, spec, err)
	}
	cands := []string{dir}
	if !filepath.IsAbs(dir) && rr.Cwd != "" {
		cands = append(cands, filepath.Join(rr.Cwd, dir))
	}
	want := []string{rr.Dir}
	if rr.Recorded != "" {
		want = append(want, rr.Recorded)
	}
	for _, c := range cands {
		rc, err := RealPath(c)
		if err != nil {
			continue
		}
		for _, w := range want {
			if rw, err := RealPath(w); err == nil && rw == rc {
				resumeHits.Add(1)
				return rr.Dir, "", nil
			}
		}
	}
	return "", fmt.Sprintf("skipped %s: it is not the run directory being resumed (%s), so nothing there is created, opened or changed (run the script itself to continue it)", dir, rr.Dir), nil
}

var resumeHits atomic.Int64

// ResumeHits counts the bo.run calls of this process that ResumeTarget
// mapped to the run directory being resumed: `bohost resume` tells a script
// that never opened it from one that did.
func ResumeHits() int64 { return resumeHits.Load() }

// Identity is a run's identity for replay.json: the sha256 of its
// fingerprint (what a resume must find unchanged), or of config.json where
// there is no fingerprint.
func Identity(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, fingerprintFile))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(dir, ConfigFile))
	}
	if err != nil {
		return "", errs.New(errs.IO, "run.identity", "%v (is %s a run directory?)", err, dir)
	}
	h := sha256.Sum256(bytes.TrimSpace(b))
	return hex.EncodeToString(h[:]), nil
}

// ReplayMark is replay.json.
type ReplayMark struct {
	Format   int    `json:"format"`
	ReplayOf string `json:"replay_of"` // the source run directory (RealPath)
	Identity string `json:"run_identity"`
	Trials   int    `json:"trials"`
	Time     string `json:"time"`
}

// WriteReplayMark writes dir/replay.json.
func WriteReplayMark(dir string, m ReplayMark) error {
	m.Format = 1
	if m.Time == "" {
		m.Time = now()
	}
	return writeJSONAtomic(filepath.Join(dir, ReplayFile), m)
}

// CheckReplayOut says whether out may receive a replay of the run src
// (RealPath'd) whose identity is id: out must not be src, inside it or
// above it, nor a symbolic link or a file; an existing directory must be
// empty or a replay directory of the same run (its replay.json names src
// and id). exists reports whether out exists (it is then replaced).
func CheckReplayOut(out, src, id string) (exists bool, err error) {
	const op = "replay.out"
	bad := func(f string, a ...any) error { return errs.New(errs.BadArg, op, f, a...) }
	real, err := RealPath(out)
	if err != nil {
		return false, bad("--out %s: %v", out, err)
	}
	switch {
	case real == src:
		return false, bad("--out %s is the run directory being replayed (%s): give another directory", out, src)
	case Within(real, src):
		return false, bad("--out %s is inside the run directory %s being replayed: give a directory outside it", out, src)
	case Within(src, real):
		return false, bad("--out %s holds the run directory %s being replayed: replaying there would replace it; give another directory", out, src)
	}
	fi, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, bad("--out %s: %v", out, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return false, bad("--out %s is a symbolic link: bohost replaces the replay directory and will not replace a link; give the directory's own path", out)
	}
	if !fi.IsDir() {
		return false, bad("--out %s exists and is not a directory", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return false, bad("--out %s: %v", out, err)
	}
	if len(ents) == 0 {
		return true, nil
	}
	b, err := os.ReadFile(filepath.Join(out, ReplayFile))
	if err != nil {
		return false, bad("--out %s is not empty and is not a replay directory (it has no %s): bohost replaces only its own replay directories; give a new or empty directory", out, ReplayFile)
	}
	var m ReplayMark
	if err := json.Unmarshal(b, &m); err != nil || m.ReplayOf == "" {
		return false, bad("--out %s: %s is not a replay mark (%v): give a new or empty directory", out, filepath.Join(out, ReplayFile), err)
	}
	if m.ReplayOf != src || m.Identity != id {
		what := m.ReplayOf
		if m.ReplayOf == src {
			what += " as it was before its configuration changed"
		}
		return false, bad("--out %s is a replay of %s, not of %s: bohost replaces only a replay of the same run; give another directory or remove it yourself", out, what, src)
	}
	return true, nil
}

// ReplayObjective finds, for a run directory whose objective is a Lua file,
// the file replay must execute: the run directory's copy (objective.lua),
// or for a directory made before copies existed the recorded path; either
// only when its sha256 is the recorded objective_file_sha256. It returns
// file == "" for other objectives (nothing to check here).
func ReplayObjective(dir string, cfg Config) (file, sha string, copied bool, err error) {
	const op = "replay.objective"
	spec, perr := objective.ParseSpec(cfg.Objective)
	if perr != nil || spec.Lua == nil {
		return "", "", false, nil
	}
	fpPath := filepath.Join(dir, fingerprintFile)
	var fp struct {
		SHA string `json:"objective_file_sha256"`
	}
	b, err := os.ReadFile(fpPath)
	if err == nil {
		err = json.Unmarshal(b, &fp)
	}
	if err != nil || fp.SHA == "" {
		return "", "", false, errs.New(errs.BadState, op, "%s records no objective_file_sha256 (%v): cannot check which objective the run executed", fpPath, err)
	}
	hash := func(p string) (string, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:]), nil
	}
	cp := filepath.Join(dir, ObjectiveFile)
	if h, err := hash(cp); err == nil {
		if h != fp.SHA {
			return "", "", false, errs.New(errs.BadState, op, "%s has sha256 %s but the run recorded %s (in %s): the copy of the objective was changed, refusing to replay it", cp, h, fp.SHA, fpPath)
		}
		abs, _ := filepath.Abs(cp)
		return abs, h, true, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", false, errs.New(errs.IO, op, "reading %s: %v", cp, err)
	}
	h, err := hash(spec.Lua.File)
	if err != nil {
		return "", "", false, errs.New(errs.IO, op, "%s has no %s (made by an older bohost) and its recorded objective file %s cannot be read: %v", dir, ObjectiveFile, spec.Lua.File, err)
	}
	if h != fp.SHA {
		return "", "", false, errs.New(errs.BadState, op, "%s has no %s (made by an older bohost) and its recorded objective file %s has sha256 %s, not the recorded %s: it changed since the run, refusing to replay it", dir, ObjectiveFile, spec.Lua.File, h, fp.SHA)
	}
	return spec.Lua.File, h, false, nil
}

// WithObjectiveFile is a Lua objective spec with its file replaced.
func WithObjectiveFile(spec json.RawMessage, file string) (json.RawMessage, error) {
	var m map[string]map[string]any
	if err := json.Unmarshal(spec, &m); err != nil || m["lua"] == nil {
		return nil, errs.New(errs.BadArg, "replay.objective", "not a Lua objective: %s", spec)
	}
	m["lua"]["file"] = file
	return json.Marshal(m)
}

// ManifestSHA is the sha256 of a run directory's manifest.json ("" when it
// has none or records none).
func ManifestSHA(dir string) string {
	var m struct {
		SHA256 string `json:"sha256"`
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err == nil {
		json.Unmarshal(b, &m)
	}
	return m.SHA256
}

// copyObjective copies a Lua objective's file into the run directory as
// objective.lua, checking that it still has the hash the fingerprint
// records (it was hashed moments ago). A new run never overwrites an
// objective.lua it did not write (one that is not the objective itself).
func (r *Run) copyObjective(fp []byte, fresh bool) error {
	const op = "run.open"
	spec, perr := objective.ParseSpec(r.cfg.Objective)
	if perr != nil || spec.Lua == nil {
		return nil
	}
	var rec struct {
		SHA string `json:"objective_file_sha256"`
	}
	json.Unmarshal(fp, &rec)
	b, err := os.ReadFile(spec.Lua.File)
	if err != nil {
		return errs.New(errs.IO, op, "copying the objective file: %v", err)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); rec.SHA != "" && got != rec.SHA {
		return errs.New(errs.BadState, op, "the objective file %s changed while the run was being set up (sha256 %s, then %s)", spec.Lua.File, rec.SHA, got)
	}
	dst := filepath.Join(r.dir, ObjectiveFile)
	if a, err1 := os.Stat(spec.Lua.File); err1 == nil {
		if d, err2 := os.Stat(dst); err2 == nil {
			if os.SameFile(a, d) {
				return nil // the objective lives in the run directory under that name
			}
			if old, err := os.ReadFile(dst); fresh && err == nil && !bytes.Equal(old, b) {
				return errs.New(errs.BadState, op, "%s already exists and is not the objective %s: a new run keeps its copy of the objective there; move that file or use another run directory", dst, spec.Lua.File)
			}
		}
	}
	return writeFileAtomic(dst, b)
}
