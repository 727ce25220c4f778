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

// ParseArgs parses --name value, --name=value, --flag and --no-flag options
// against specs, returning values by Lua name plus the positional arguments.
// An unknown option is a usage error suggesting the nearest one; "--help"
// returns an error of kind help whose message is the option list.
func ParseArgs(script string, specs []ArgSpec, argv []string) (map[string]any, []string, error) {
	byName := map[string]ArgSpec{}
	var names []string
	for _, s := range specs {
		byName[s.Name] = s
		names = append(names, "--"+strings.ReplaceAll(s.Name, "_", "-"))
	}
	out := map[string]any{}
	for _, s := range specs {
		out[s.Name] = s.Default
	}
	var pos []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			pos = append(pos, argv[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "--") || len(a) == 2 {
			pos = append(pos, a)
			continue
		}
		if a == "--help" || a == "-h" {
			return nil, nil, &errs.Error{Kind: errs.Help, Msg: ArgsHelp(script, specs)}
		}
		key, val, hasVal := strings.Cut(a[2:], "=")
		name := strings.ReplaceAll(key, "-", "_")
		neg := false
		spec, ok := byName[name]
		if !ok && strings.HasPrefix(name, "no_") {
			if s2, ok2 := byName[name[3:]]; ok2 {
				if _, isBool := s2.Default.(bool); isBool {
					spec, ok, neg = s2, true, true
				}
			}
		}
		if !ok {
			e := errs.New(errs.Usage, "", "unknown option --%s", key)
			if s := Suggest("--"+key, names); s != "" {
				e.Msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			sort.Strings(names)
			e.Hint = "options: " + strings.Join(names, " ") + " (--help for details)"
			return nil, nil, e
		}
		flag := "--" + key
		if _, isBool := spec.Default.(bool); isBool {
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, nil, errs.New(errs.Usage, "", "option %s takes true or false, got %q", flag, val)
				}
				out[spec.Name] = b
			} else {
				out[spec.Name] = !neg
			}
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				return nil, nil, errs.New(errs.Usage, "", "option %s needs a value", flag)
			}
			i++
			val = argv[i]
		}
		v, err := convertArg(spec.Default, val)
		if err != nil {
			return nil, nil, errs.New(errs.Usage, "", "option %s: %v", flag, err)
		}
		out[spec.Name] = v
	}
	return out, pos, nil
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

// ArgsHelp renders the option list of a script.
func ArgsHelp(script string, specs []ArgSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: bohost %s [options]\n\noptions (default in brackets):\n", script)
	ss := append([]ArgSpec(nil), specs...)
	sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
	for _, s := range ss {
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
	return b.String()
}
