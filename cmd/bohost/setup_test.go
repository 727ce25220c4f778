package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bohost/host/testsupport"
)

// TestSetupTakesTheProxyFromGo: tools/setup.sh fetches Go from the module
// proxy this machine is configured for (GOPROXY, else `go env GOPROXY`),
// never from an address written into the script, and says so clearly when
// it knows none.
func TestSetupTakesTheProxyFromGo(t *testing.T) {
	script := filepath.Join(testsupport.RepoRoot(), "tools", "setup.sh")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`https?://[a-z0-9.-]+\.[a-z]{2,}`).FindString(string(b)); m != "" {
		t.Errorf("tools/setup.sh spells out an address: %s", m)
	}
	print := func(env ...string) (string, error) {
		cmd := exec.Command("bash", script, "--print-proxy")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if got, err := print("PATH=/usr/bin:/bin", "GOPROXY=off,https://mirror.example.test/go/"); err != nil || got != "https://mirror.example.test/go" {
		t.Errorf("GOPROXY's first URL: got %q, %v", got, err)
	}
	// No GOPROXY, no Go anywhere on PATH or in the usual places: a clear
	// refusal (the script's own fallbacks are absolute paths; hide them by
	// giving a GOPROXY with no URL).
	if got, err := print("PATH=/nonexistent", "GOPROXY=direct"); err == nil || !strings.Contains(got, "set GOPROXY") {
		t.Errorf("no proxy known: got %q, %v; want a refusal saying to set GOPROXY", got, err)
	}
	if goBin, err := exec.LookPath("go"); err == nil {
		want, _ := exec.Command(goBin, "env", "GOPROXY").Output()
		first := strings.TrimSuffix(strings.Split(strings.TrimSpace(string(want)), ",")[0], "/")
		if strings.HasPrefix(first, "http") {
			if got, err := print("PATH="+filepath.Dir(goBin)+":/usr/bin:/bin", "HOME="+os.Getenv("HOME")); err != nil || got != first {
				t.Errorf("from go env GOPROXY: got %q, %v; want %q", got, err, first)
			}
		}
	}
}
