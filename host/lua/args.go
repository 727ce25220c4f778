package lua

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"bohost/host/errs"
)

// ArgSpec describes one script option for ParseArgs.
type ArgSpec struct {
	Name    string // Lua key, snake_case ("n_w"); on the command line --n-w or --n_w
	Default any    // float64, string, bool, []float64 or []string: fixes the type
	Help    string
}

// ParseArgs parses the options of a script against specs and returns the
// values by Lua name. It accepts --name value, --name=value, and for
// booleans --flag, --no-flag, --flag=false and --flag false (true/false,
// yes/no, on/off, 1/0); dashes and underscores in names are the same.
// Nothing is silently ignored: an unknown option, a positional argument
// (alpha=0.5, stray words, anything after --), a single-dash long option
// (-alpha), an option whose value is missing or looks like another option
// (--dir --alpha 1), and an option given twice with different values are all
// usage errors naming the argument, with a did-you-mean where one is near.
// "--help" or "-h" anywhere returns an error of kind help whose message is
// the option list.
func ParseArgs(script string, specs []ArgSpec, argv []string) (map[string]any, error) {
	byName := map[string]ArgSpec{}
	var names []string
	for _, s := range specs {
		byName[s.Name] = s
		names = append(names, flagName(s.Name))
	}
	sort.Strings(names)
	hint := "options: " + strings.Join(names, " ") + " (--help for details)"
	usage := func(format string, args ...any) error {
		e := errs.New(errs.Usage, "", format, args...)
		e.Hint = hint
		return e
	}
	// lookup finds the option named key (dashes or underscores), also as
	// no-<bool>; neg reports the negated form.
	lookup := func(key string) (spec ArgSpec, neg, ok bool) {
		name := strings.ReplaceAll(key, "-", "_")
		if spec, ok = byName[name]; ok {
			return spec, false, true
		}
		if n, found := strings.CutPrefix(name, "no_"); found {
			if s, ok2 := byName[n]; ok2 {
				if _, isBool := s.Default.(bool); isBool {
					return s, true, true
				}
			}
		}
		return ArgSpec{}, false, false
	}
	for _, a := range argv {
		if a == "--" {
			break
		}
		if a == "--help" || a == "-h" {
			return nil, &errs.Error{Kind: errs.Help, Msg: ArgsHelp(script, specs)}
		}
	}
	out := map[string]any{}
	for _, s := range specs {
		out[s.Name] = s.Default
	}
	given := map[string]string{} // option name -> the value as first given
	set := func(spec ArgSpec, v any, text string) error {
		if prev, ok := given[spec.Name]; ok && !sameArg(out[spec.Name], v) {
			return usage("option %s given twice, as %s and %s (give it once)", flagName(spec.Name), prev, text)
		}
		if _, ok := given[spec.Name]; !ok {
			given[spec.Name] = text
		}
		out[spec.Name] = v
		return nil
	}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			if i+1 < len(argv) {
				return nil, usage("unexpected argument %s after -- (this script takes no positional arguments)", argv[i+1])
			}
			break
		}
		if !strings.HasPrefix(a, "--") {
			return nil, strayArg(a, usage, lookup, names)
		}
		key, val, hasVal := strings.Cut(a[2:], "=")
		spec, neg, ok := lookup(key)
		if !ok {
			e := usage("unknown option --%s", key)
			if s := Suggest("--"+key, names); s != "" {
				e.(*errs.Error).Msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, e
		}
		flag := "--" + key
		if _, isBool := spec.Default.(bool); isBool {
			b, text := !neg, strconv.FormatBool(!neg)
			switch {
			case hasVal && neg:
				return nil, usage("option %s takes no value, got %q (write --%s=%s or %s alone)", flag, val, strings.TrimPrefix(strings.TrimPrefix(key, "no-"), "no_"), negWord(val), flag)
			case hasVal:
				v, err := parseBool(val)
				if err != nil {
					return nil, usage("option %s takes true or false, got %q", flag, val)
				}
				b, text = v, val
			case !neg && i+1 < len(argv):
				if v, err := parseBool(argv[i+1]); err == nil {
					i++
					b, text = v, argv[i]
				}
			}
			if err := set(spec, b, text); err != nil {
				return nil, err
			}
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				return nil, usage("option %s needs a value", flag)
			}
			if next := argv[i+1]; looksLikeOption(next) {
				return nil, usage("option %s needs a value, got the option %s (write %s=%s if that is the value)", flag, next, flag, next)
			}
			i++
			val = argv[i]
		}
		v, err := convertArg(spec.Default, val)
		if err != nil {
			return nil, usage("option %s: %v", flag, err)
		}
		if err := set(spec, v, val); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// strayArg explains an argument that is not an --option.
func strayArg(a string, usage func(string, ...any) error, lookup func(string) (ArgSpec, bool, bool), names []string) error {
	if rest, found := strings.CutPrefix(a, "-"); found && len(rest) > 0 && !isNumber(a) {
		e := usage("unknown option %s", a)
		name, val, hasVal := strings.Cut(rest, "=")
		if _, _, ok := lookup(name); ok {
			sug := "--" + name
			if hasVal {
				sug += "=" + val
			}
			e.(*errs.Error).Msg += fmt.Sprintf(" (did you mean %s?)", sug)
		} else if s := Suggest("--"+name, names); s != "" {
			e.(*errs.Error).Msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return e
	}
	e := usage("unexpected argument %s (this script takes only --options)", a)
	if name, val, ok := strings.Cut(a, "="); ok {
		if _, _, known := lookup(name); known {
			e = usage("unexpected argument %s (did you mean --%s=%s?)", a, name, val)
		}
	}
	return e
}

func flagName(name string) string { return "--" + strings.ReplaceAll(name, "_", "-") }

// parseBool accepts true/false, yes/no, on/off and 1/0 in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// negWord is the value of --flag=... that --no-flag=val means.
func negWord(val string) string {
	if b, err := parseBool(val); err == nil {
		return strconv.FormatBool(!b)
	}
	return "false"
}

// looksLikeOption reports whether a value where one is expected is rather
// an option: --anything, or -x that is not a number.
func looksLikeOption(s string) bool {
	return strings.HasPrefix(s, "-") && len(s) > 1 && !isNumber(s)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// sameArg reports whether two parsed values are equal.
func sameArg(a, b any) bool {
	switch x := a.(type) {
	case []float64:
		y, ok := b.([]float64)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	case []string:
		y, ok := b.([]string)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

func convertArg(def any, s string) (any, error) {
	switch def.(type) {
	case float64, int:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) {
			return nil, fmt.Errorf("expected a number, got %q", s)
		}
		return f, nil
	case []float64:
		var out []float64
		for _, p := range splitList(s) {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, fmt.Errorf("expected a comma-separated list of numbers, got %q", s)
			}
			out = append(out, f)
		}
		return out, nil
	case []string:
		return splitList(s), nil
	}
	return s, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ArgsHelp renders the option list of a script, in the order of specs (the
// order the script declared them).
func ArgsHelp(script string, specs []ArgSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: bohost %s [options]\n\noptions (default in brackets):\n", script)
	for _, s := range specs {
		flag := "--" + strings.ReplaceAll(s.Name, "_", "-")
		def := fmt.Sprint(s.Default)
		switch d := s.Default.(type) {
		case []float64:
			parts := make([]string, len(d))
			for i, f := range d {
				parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
			def = strings.Join(parts, ",")
		case []string:
			def = strings.Join(d, ",")
		case float64:
			def = strconv.FormatFloat(d, 'g', -1, 64)
		}
		line := fmt.Sprintf("  %-22s [%s]", flag, def)
		if s.Help != "" {
			line += "  " + s.Help
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n--name value or --name=value; booleans: --flag, --no-flag, --flag false; lists: comma-separated (--alphas 0.1,0.3)\n")
	return b.String()
}
