package lua

import (
	"strings"
	"testing"

	"bohost/host/errs"
)

func TestParseArgs(t *testing.T) {
	specs := []ArgSpec{
		{Name: "alpha", Default: 0.1}, {Name: "iterations", Default: 30.0}, {Name: "n_w", Default: 3.0},
		{Name: "alphas", Default: []float64{0.1, 0.2}}, {Name: "smoke", Default: false}, {Name: "out", Default: "runs/x"},
	}
	v, pos, err := ParseArgs("s.lua", specs, []string{"--alpha", "0.2", "--n-w=16", "--alphas", "0.1,0.3, 0.5", "--smoke", "file", "--out=r"})
	if err != nil {
		t.Fatal(err)
	}
	if v["alpha"] != 0.2 || v["n_w"] != 16.0 || len(v["alphas"].([]float64)) != 3 || v["smoke"] != true || v["out"] != "r" || v["iterations"] != 30.0 {
		t.Fatalf("%v", v)
	}
	if len(pos) != 1 || pos[0] != "file" {
		t.Fatal(pos)
	}
	v, _, err = ParseArgs("s.lua", specs, []string{"--smoke", "--no-smoke"})
	if err != nil || v["smoke"] != false {
		t.Fatal(v, err)
	}
	for argv, want := range map[string]string{
		"--alhpa 0.2":   "unknown option --alhpa (did you mean --alpha?)",
		"--alpha x":     "option --alpha: expected a number",
		"--alpha":       "option --alpha needs a value",
		"--alphas 1,b":  "comma-separated list of numbers",
		"--smoke=maybe": "takes true or false",
	} {
		_, _, err := ParseArgs("s.lua", specs, strings.Fields(argv))
		if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", argv, err, want)
		}
	}
	_, _, err = ParseArgs("s.lua", specs, []string{"--help"})
	if !errs.Is(err, errs.Help) || !strings.Contains(err.Error(), "--n-w") {
		t.Fatal(err)
	}
}
