package testsupport

import (
	"context"
	"os"
	"testing"

	"bohost/host/slurm"
)

// RequireCluster finds a Slurm cluster for a live test: SLURM_CONF when it
// is set, else the local test cluster's slurm.conf (make slurm-up) when it
// exists. It returns the environment the test's Slurm commands need
// ("SLURM_CONF=..."). Without a cluster that answers, the test is skipped,
// unless BOHOST_REQUIRE_SLURM=1 (make test), where it fails.
func RequireCluster(tb testing.TB) []string {
	tb.Helper()
	var env []string
	conf := os.Getenv("SLURM_CONF")
	if conf == "" {
		if c := slurm.LocalConf(); fileExists(c) {
			conf = c
			env = append(env, "SLURM_CONF="+c)
		}
	} else {
		env = append(env, "SLURM_CONF="+conf)
	}
	if err := slurm.Available(context.Background(), env); err != nil {
		msg := "no Slurm cluster for this test (start the local one with make slurm-up, or set SLURM_CONF): " + err.Error()
		if os.Getenv("BOHOST_REQUIRE_SLURM") == "1" {
			tb.Fatal(msg + " (BOHOST_REQUIRE_SLURM=1)")
		}
		tb.Skip(msg)
	}
	return env
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
