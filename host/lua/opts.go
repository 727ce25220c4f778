package lua

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// Opts reads a strict options table: Check rejects unknown keys (naming the
// nearest known key), and each getter checks the type and names the key.
// Its messages are Decode's; for a table that fills a config struct, Decode
// reads it from the struct's own declarations (no list of keys to keep).
type Opts struct {
	L   *glua.LState
	T   *glua.LTable // nil when the argument was absent
	Op  string
	Arg int
	// Prefix is the path of a nested table in messages ("optimizer." makes
	// them name 'optimizer.alpha'); "" for a top-level options table.
	Prefix string
}

// CheckOpts reads argument n as an options table (nil or absent allowed)
// whose keys must all be in known.
func CheckOpts(L *glua.LState, n int, op string, known ...string) *Opts {
	o := &Opts{L: L, Op: op, Arg: n}
	switch v := L.Get(n).(type) {
	case *glua.LNilType:
	case *glua.LTable:
		o.T = v
	default:
		ArgError(L, op, n, "options table expected, got %s", TypeName(v))
	}
	if o.T != nil {
		if err := CheckKeys(o.T, op, known); err != nil {
			Raise(L, op, err)
		}
	}
	return o
}

// TableOpts wraps a nested options table (e.g. opts.optimizer) with its own
// known keys; name is used in messages ("optimizer").
func TableOpts(L *glua.LState, t *glua.LTable, op, name string, known ...string) *Opts {
	o := &Opts{L: L, T: t, Op: op + " " + name}
	if t != nil {
		if err := CheckKeys(t, op+": option '"+name+"'", known); err != nil {
			Raise(L, op, err)
		}
	}
	return o
}

// NestedOpts wraps a table of options that may sit inside another: op is
// the Lua function the user called, and path the table's place in its
// argument ("" for the argument itself, "optimizer" or "space[2]" inside
// it), so messages name the key as the user wrote it: 'optimizer.alpha'.
func NestedOpts(L *glua.LState, t *glua.LTable, op, path string, known ...string) *Opts {
	o := &Opts{L: L, T: t, Op: op}
	if path != "" {
		o.Prefix = path + "."
	}
	if t != nil {
		if err := CheckKeysPrefix(t, op, o.Prefix, known); err != nil {
			Raise(L, op, err)
		}
	}
	return o
}

// CheckKeys returns a bad_arg error for the first string key of t not in
// known, suggesting the nearest known key. Array entries are rejected too.
func CheckKeys(t *glua.LTable, op string, known []string) error {
	return CheckKeysPrefix(t, op, "", known)
}

// CheckKeysPrefix is CheckKeys for a nested table: keys are named
// prefix+key ('optimizer.alhpa').
func CheckKeysPrefix(t *glua.LTable, op, prefix string, known []string) error {
	var bad []string
	t.ForEach(func(k, _ glua.LValue) {
		ks, ok := k.(glua.LString)
		if !ok {
			bad = append(bad, fmt.Sprintf("[%s]", k.String()))
			return
		}
		for _, kn := range known {
			if string(ks) == kn {
				return
			}
		}
		bad = append(bad, string(ks))
	})
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	e := errs.New(errs.BadArg, "", "unknown option '%s%s'", prefix, bad[0])
	if s := Suggest(bad[0], known); s != "" {
		e.Msg += fmt.Sprintf(" (did you mean '%s%s'?)", prefix, s)
	}
	e.Hint = "valid options: " + strings.Join(sortedCopy(known), ", ")
	if prefix != "" {
		e.Hint = "valid options of " + strings.TrimSuffix(prefix, ".") + ": " + strings.Join(sortedCopy(known), ", ")
	}
	e.Op = strings.TrimSuffix(op, ":")
	return e
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// Suggest returns the candidate nearest to s by edit distance, or "" when
// none is close (distance > max(2, len/3)).
func Suggest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(s) / 3
	if limit < 2 {
		limit = 2
	}
	if bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment)
// distance, so a swapped pair ('alhpa') counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// Get returns the raw value of key (LNil when absent).
func (o *Opts) Get(key string) glua.LValue {
	if o.T == nil {
		return glua.LNil
	}
	return o.T.RawGetString(key)
}

// Has reports whether key is set.
func (o *Opts) Has(key string) bool { return o.Get(key) != glua.LNil }

func (o *Opts) typeErr(key, want string, v glua.LValue) {
	Raise(o.L, o.Op, typeError(o.Prefix+key, want, v))
}

// Number returns key as a number, def when absent.
func (o *Opts) Number(key string, def float64) float64 {
	v := o.Get(key)
	switch n := v.(type) {
	case *glua.LNilType:
		return def
	case glua.LNumber:
		return float64(n)
	}
	o.typeErr(key, "a number", v)
	return 0
}

// Int returns key as an integer, def when absent; a fractional value is an error.
func (o *Opts) Int(key string, def int) int {
	v := o.Get(key)
	if v == glua.LNil {
		return def
	}
	f := o.Number(key, 0)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		Raise(o.L, o.Op, OptionError(o.Prefix+key, "must be an integer, got %v", f))
	}
	return int(f)
}

// Count returns key as an integer >= 1, def when absent or nil. An explicit
// 0 is an error naming the option (it is not a way to ask for the default).
func (o *Opts) Count(key string, def int) int {
	if !o.Has(key) {
		return def
	}
	n := o.Int(key, def)
	if n < 1 {
		Raise(o.L, o.Op, countError(o.Prefix+key, int64(n)))
	}
	return n
}

// String returns key as a string, def when absent.
func (o *Opts) String(key, def string) string {
	v := o.Get(key)
	switch s := v.(type) {
	case *glua.LNilType:
		return def
	case glua.LString:
		return string(s)
	}
	o.typeErr(key, "a string", v)
	return ""
}

// Enum returns key as one of allowed (def when absent).
func (o *Opts) Enum(key, def string, allowed ...string) string {
	s := o.String(key, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	Raise(o.L, o.Op, enumError(o.Prefix+key, s, allowed))
	return ""
}

// Bool returns key as a boolean, def when absent.
func (o *Opts) Bool(key string, def bool) bool {
	v := o.Get(key)
	switch b := v.(type) {
	case *glua.LNilType:
		return def
	case glua.LBool:
		return bool(b)
	}
	o.typeErr(key, "a boolean", v)
	return false
}

// Table returns key as a table (nil when absent).
func (o *Opts) Table(key string) *glua.LTable {
	v := o.Get(key)
	switch t := v.(type) {
	case *glua.LNilType:
		return nil
	case *glua.LTable:
		return t
	}
	o.typeErr(key, "a table", v)
	return nil
}

// Func returns key as a function (nil when absent).
func (o *Opts) Func(key string) *glua.LFunction {
	v := o.Get(key)
	switch f := v.(type) {
	case *glua.LNilType:
		return nil
	case *glua.LFunction:
		return f
	}
	o.typeErr(key, "a function", v)
	return nil
}

// Floats returns key as an array of numbers (nil when absent).
func (o *Opts) Floats(key string) []float64 {
	v := o.Get(key)
	if v == glua.LNil {
		return nil
	}
	xs, err := ToFloats(v, o.Prefix+key)
	if err != nil {
		Raise(o.L, o.Op, err)
	}
	return xs
}

// Matrix returns key as an array of arrays of numbers (nil when absent).
func (o *Opts) Matrix(key string) [][]float64 {
	v := o.Get(key)
	if v == glua.LNil {
		return nil
	}
	m, err := ToMatrix(v, o.Prefix+key)
	if err != nil {
		Raise(o.L, o.Op, err)
	}
	return m
}
