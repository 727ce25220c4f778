package errs

import (
	"reflect"
	"testing"
)

func TestJSONNames(t *testing.T) {
	type opts struct {
		NoiseFloor float64 `json:"noise_floor"`
		LearnNoise bool    `json:"learn_noise,omitempty"`
		Noise      float64 `json:"noise"`
		Seed       uint64  `json:"Seed"`
	}
	err := New(BadArg, "gp.options", "Noise must be 0 when LearnNoise is true (got 0.1), see NoiseFloor and Seed")
	err.Hint = "set LearnNoise=false"
	got := JSONNames(err, "bo.Config", "gp.", reflect.TypeFor[opts]()).(*Error)
	if got.Msg != "gp.noise must be 0 when gp.learn_noise is true (got 0.1), see gp.noise_floor and Seed" || got.Hint != "set gp.learn_noise=false" ||
		got.Op != "bo.Config" || got.Kind != BadArg || err.Msg[0] != 'N' {
		t.Errorf("got %+v (original %+v)", got, err)
	}
	if JSONNames(nil, "", "", reflect.TypeFor[opts]()) != nil {
		t.Error("nil error")
	}
}
