package errs

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// JSONNames rewrites the Go field names of struct type t in err's message
// and hint (whole words: "NoiseFloor", "Gain") as their json names under
// prefix ("gp.noise_floor", "perturbations[2].gain"), for an engine that
// validates a struct of another package whose messages speak Go: the
// config the user wrote speaks JSON and Lua. Kind and cause are kept; op is
// set when not empty. Other errors are returned as they are.
func JSONNames(err error, op, prefix string, t reflect.Type) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	names, re := jsonNamesOf(t)
	if re == nil {
		return err
	}
	e2 := *e
	if op != "" {
		e2.Op = op
	}
	rename := func(goName string) string { return prefix + names[goName] }
	e2.Msg, e2.Hint = re.ReplaceAllStringFunc(e.Msg, rename), re.ReplaceAllStringFunc(e.Hint, rename)
	return &e2
}

type fieldNames struct {
	names map[string]string
	re    *regexp.Regexp
}

var namesCache sync.Map // reflect.Type -> fieldNames

func jsonNamesOf(t reflect.Type) (map[string]string, *regexp.Regexp) {
	if v, ok := namesCache.Load(t); ok {
		f := v.(fieldNames)
		return f.names, f.re
	}
	m := map[string]string{}
	var alts []string
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" && name != f.Name {
			m[f.Name] = name
			alts = append(alts, regexp.QuoteMeta(f.Name))
		}
	}
	var re *regexp.Regexp
	if len(alts) > 0 {
		re = regexp.MustCompile(`\b(` + strings.Join(alts, "|") + `)\b`)
	}
	namesCache.Store(t, fieldNames{m, re})
	return m, re
}
