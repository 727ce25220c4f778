package objective

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"bohost/host/dataset"
	"bohost/host/errs"
	"bohost/host/worker"
)

func smallSpec() AirlineSpec {
	return AirlineSpec{Synth: dataset.SynthOptions{N: 3, Width: 160, Height: 120, Seed: 2}}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		src  string
		ok   bool
		want string
	}{
		{`{"airline": {"synth": {"n": 3}}}`, true, ""},
		{`{"lua": {"file": "f.lua"}}`, true, ""},
		{`{"lua": {"fn": "f"}}`, false, "objective.lua.file is required"},
		{`{}`, false, "objective is empty"},
		{`{"airline": {}, "lua": {"file": "x"}}`, false, "both"},
		{`{"airlnie": {}}`, false, "unknown field"},
		{`{"airline": {"synth": {"n": -1}}}`, false, "n"},
		{`{"airline": {"perturbations": [{"blur_sigma": 50}]}}`, false, "perturbations[1]"},
	} {
		s, err := ParseSpec([]byte(tc.src))
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v", tc.src, err)
			continue
		}
		if err != nil {
			if errs.KindOf(err) != errs.BadArg || !contains(err.Error(), tc.want) {
				t.Errorf("%s: %v (want kind bad_arg mentioning %q)", tc.src, err, tc.want)
			}
			continue
		}
		if s.Lua != nil && s.Lua.Fn != "evaluate" {
			t.Errorf("default fn %q", s.Lua.Fn)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestAirlineEnvsAndEval(t *testing.T) {
	spec := smallSpec()
	spec.Perturbations = []Perturbation{{}, {Gain: 0.5, NoiseSigma: 6, Seed: 3}}
	a, err := NewAirline(spec)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := a.Envs()
	if err != nil {
		t.Fatal(err)
	}
	if len(envs.IDs) != 6 || len(envs.Features) != 6 || envs.IDs[1] != "synth-0000/p2" {
		t.Fatalf("envs %v", envs.IDs)
	}
	for i, row := range envs.Features {
		for j, v := range row {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("feature [%d][%d] = %v not normalised", i, j, v)
			}
		}
	}
	// The perturbed copy differs from the original in its features.
	same := true
	for j := range envs.Features[0] {
		if envs.Features[0][j] != envs.Features[1][j] {
			same = false
		}
	}
	if same {
		t.Fatal("perturbation changed no feature")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r1, err := a.Eval(ctx, worker.Request{EnvIndex: 0})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Y != r1.Score["f"] || r1.Y < 0 || r1.Y > 1 || math.IsNaN(r1.Y) {
		t.Fatalf("result %+v", r1)
	}
	// Deterministic, and lines on request.
	r2, err := a.Eval(ctx, worker.Request{EnvIndex: 0, Args: json.RawMessage(`{"lines": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Y != r1.Y {
		t.Fatalf("not deterministic: %v vs %v", r1.Y, r2.Y)
	}
	if lines, ok := r2.Score["lines"].([][4]float64); !ok || len(lines) != r2.Score["n_lines"].(int) {
		t.Fatalf("lines %T", r2.Score["lines"])
	}
	if _, err := a.Eval(ctx, worker.Request{EnvIndex: 6}); errs.KindOf(err) != errs.BadArg {
		t.Fatalf("out of range env: %v", err)
	}
	m, err := a.Manifest()
	if err != nil || m.SHA256 == "" {
		t.Fatalf("manifest %+v %v", m, err)
	}
}

func TestFactory(t *testing.T) {
	b, _ := json.Marshal(Spec{Airline: &AirlineSpec{Synth: dataset.SynthOptions{N: 2, Width: 64, Height: 48}}})
	obj, err := Factory(context.Background(), worker.Hello{Spec: b})
	if err != nil || obj == nil {
		t.Fatal(err)
	}
	if _, err := Factory(context.Background(), worker.Hello{Spec: []byte(`{"lua": {"file": "a.lua"}}`)}); err == nil {
		t.Fatal("lua spec accepted by the airline factory")
	}
}
