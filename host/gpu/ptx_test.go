package gpu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"bohost/host/errs"
)

// TestPTXEmbedded checks the committed PTX: every kernel is an entry of its
// module, the target is the low virtual architecture, and no instruction
// breaks the bit-exact contract (fused multiply-add, approximate or
// flush-to-zero float ops).
func TestPTXEmbedded(t *testing.T) {
	bad := regexp.MustCompile(`\b(fma\.rn\.f|mad\.f|mad\.rn\.f|div\.approx|div\.full|sqrt\.approx|rsqrt|lg2|ex2|sin\.|cos\.)|\.ftz\b`)
	for _, m := range PTXModules() {
		src, from, err := PTXSource(m)
		if err != nil {
			t.Fatal(err)
		}
		if from != "embedded" && os.Getenv(PTXDirEnv) == "" {
			t.Fatalf("module %s from %s, want embedded", m, from)
		}
		if !bytes.Contains(src, []byte(".target sm_52")) {
			t.Errorf("module %s: not targeted at sm_52", m)
		}
		if loc := bad.Find(src); loc != nil {
			t.Errorf("module %s contains %q: not bit-exact with the CPU", m, loc)
		}
		if bytes.Contains(src, []byte(".extern")) || bytes.Contains(src, []byte("call.uni")) {
			t.Errorf("module %s calls an external function (no libdevice is linked)", m)
		}
	}
	for k, m := range kernelModule {
		src, _, _ := PTXSource(m)
		if !bytes.Contains(src, []byte(".entry "+k+"(")) {
			t.Errorf("kernel %s is not an entry of ptx/%s.ptx", k, m)
		}
	}
}

// TestPTXUpToDate regenerates the PTX with clang and compares it with the
// committed files, so an edited .cu cannot ship stale PTX.
func TestPTXUpToDate(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed (apt-get install --no-install-recommends clang); cannot regenerate the PTX")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("kernels", "genptx.sh"), dir)
	cmd.Env = append(os.Environ(), "BOHOST_PTX_CC=clang")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genptx.sh: %v\n%s", err, out)
	}
	for _, m := range PTXModules() {
		got, err := os.ReadFile(filepath.Join(dir, m+".ptx"))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ptxFS.ReadFile("ptx/" + m + ".ptx")
		if !bytes.Equal(got, want) {
			t.Errorf("ptx/%s.ptx is stale: run go generate ./host/gpu/ (clang) and commit it", m)
		}
	}
}

func TestPTXDirOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blur.ptx"), []byte("// from dir\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PTXDirEnv, dir)
	src, from, err := PTXSource("blur")
	if err != nil || string(src) != "// from dir\n" || from != filepath.Join(dir, "blur.ptx") {
		t.Fatalf("PTXSource with %s set: %q from %q, %v", PTXDirEnv, src, from, err)
	}
	_, _, err = PTXSource("sobel")
	if !errs.Is(err, errs.IO) {
		t.Fatalf("missing module under %s: %v, want kind io", PTXDirEnv, err)
	}
}
