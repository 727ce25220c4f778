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
	v, err := ParseArgs("s.lua", specs, []string{"--alpha", "0.2", "--n-w=16", "--alphas", "0.1,0.3, 0.5", "--smoke", "--out=r"})
	if err != nil {
		t.Fatal(err)
	}
	if v["alpha"] != 0.2 || v["n_w"] != 16.0 || len(v["alphas"].([]float64)) != 3 || v["smoke"] != true || v["out"] != "r" || v["iterations"] != 30.0 {
		t.Fatalf("%v", v)
	}
	v, err = ParseArgs("s.lua", specs, []string{"--no-smoke"})
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
		_, err := ParseArgs("s.lua", specs, strings.Fields(argv))
		if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", argv, err, want)
		}
	}
	_, err = ParseArgs("s.lua", specs, []string{"--help"})
	if !errs.Is(err, errs.Help) || !strings.Contains(err.Error(), "--n-w") || !strings.Contains(err.Error(), "--no-flag") {
		t.Fatal(err)
	}
}

// TestParseArgsRefusesWhatItCannotParse: nothing on the command line is
// silently ignored (issue 19, defect 8).
func TestParseArgsRefusesWhatItCannotParse(t *testing.T) {
	specs := []ArgSpec{
		{Name: "alpha", Default: 0.1}, {Name: "dir", Default: "runs/x"}, {Name: "report", Default: true},
		{Name: "smoke", Default: false}, {Name: "alphas", Default: []float64{0.1, 0.2}}, {Name: "n_w", Default: 3.0},
	}
	for argv, want := range map[string]string{
		"alpha=0.5":                   "unexpected argument alpha=0.5 (did you mean --alpha=0.5?)",
		"n-w=4":                       "unexpected argument n-w=4 (did you mean --n-w=4?)",
		"-alpha 0.5":                  "unknown option -alpha (did you mean --alpha?)",
		"-alpha=0.5":                  "unknown option -alpha=0.5 (did you mean --alpha=0.5?)",
		"-x":                          "unknown option -x",
		"stray":                       "unexpected argument stray",
		"--alpha 0.2 stray":           "unexpected argument stray",
		"--dir --dir x":               "option --dir needs a value, got the option --dir",
		"--dir -x":                    "option --dir needs a value, got the option -x",
		"--alpha --smoke":             "option --alpha needs a value, got the option --smoke",
		"-- x":                        "unexpected argument x after --",
		"--report false x":            "unexpected argument x",
		"--alpha 0.2 --alpha 0.3":     "option --alpha given twice, as 0.2 and 0.3",
		"--smoke --no-smoke":          "option --smoke given twice, as true and false",
		"--alphas 1,2 --alphas 1,3":   "option --alphas given twice, as 1,2 and 1,3",
		"--no-report=false":           "option --no-report takes no value",
		"--no-alpha":                  "unknown option --no-alpha",
		"--smoke=maybe":               "option --smoke takes true or false, got \"maybe\"",
		"--report=false --report yes": "option --report given twice, as false and yes",
	} {
		_, err := ParseArgs("s.lua", specs, strings.Fields(argv))
		if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", argv, err, want)
		}
	}
	for argv, want := range map[string]map[string]any{
		"--report false":               {"report": false},
		"--report=false":               {"report": false},
		"--no-report":                  {"report": false},
		"--report":                     {"report": true},
		"--report true --smoke":        {"report": true, "smoke": true},
		"--smoke no --report off":      {"report": false, "smoke": false},
		"--alpha -0.5":                 {"alpha": -0.5},
		"--alpha=-1e-3":                {"alpha": -1e-3},
		"--dir=--odd":                  {"dir": "--odd"},
		"--alpha 0.2 --alpha 0.20":     {"alpha": 0.2}, // the same value twice is harmless
		"--smoke --smoke=true":         {"smoke": true},
		"--":                           {"alpha": 0.1},
		"--n_w 4 --n-w 4":              {"n_w": 4.0},
		"--report --alpha 0.3 --smoke": {"report": true, "alpha": 0.3, "smoke": true},
	} {
		v, err := ParseArgs("s.lua", specs, strings.Fields(argv))
		if err != nil {
			t.Errorf("%s: %v", argv, err)
			continue
		}
		for k, w := range want {
			if v[k] != w {
				t.Errorf("%s: %s = %v, want %v", argv, k, v[k], w)
			}
		}
	}
	// --help wins wherever it is, even after something wrong.
	if _, err := ParseArgs("s.lua", specs, []string{"stray", "--help"}); !errs.Is(err, errs.Help) {
		t.Errorf("stray --help: %v", err)
	}
}
