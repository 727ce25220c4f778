package lua

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// Decode reads the Lua options table v into the struct *dst, strictly, by
// the struct's own declarations: an option is declared once, as a field,
// and Decode, the did-you-mean of unknown keys and every message follow.
//
// path is where v sits in the user's argument: "" for the argument itself,
// "optimizer" for a nested table, so that messages name keys as the user
// wrote them ('optimizer.alpha', 'optimizer.space[1].lo'). v may be nil
// (nothing is set). A key that is absent or nil leaves its field as it was:
// fill defaults in before decoding, or leave the zero value that the engine
// takes as its default. The error is a bad_arg *errs.Error without an op;
// lua.Raise gives it the caller's.
//
// Option names. A field's Lua name is its `lua` tag's name, else its `json`
// tag's name; a field with neither, or tagged `lua:"-"`, is not an option.
// The fields of an untagged embedded struct are options of the outer one
// (as encoding/json flattens them), and a field of the outer struct hides
// an embedded field of the same name: a Lua-facing struct embeds an
// engine's config and replaces the few keys whose Lua shape differs.
//
// Tag options, after the name (`lua:",count"`, `lua:"dir,required"`):
//
//	required      the key must be given
//	count         an integer >= 1: an explicit 0 is an error (absent: the default)
//	enum=a|b|c    a string among these (a typo gets a did-you-mean)
//	size          bytes (a number) or a size string such as "4GiB", kept as a string
//
// and a `zero:"must be > 0 seconds, or negative for no timeout"` tag makes
// an explicit 0 an error with that text (absent or nil: the default).
//
// Values. Numbers, integers (a fractional value is an error), strings,
// booleans, named types of these, pointers (allocated when the key is
// given, so that a *T tells absent from zero), slices and arrays (Lua
// arrays, keys 1..n; [2]float64 needs exactly 2 values), nested structs
// (nested tables, strict again), maps with string keys, any and
// json.RawMessage (plain data), and *glua.LFunction. A type with its own
// Lua shape implements Unmarshaler.
func Decode(v glua.LValue, path string, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("lua.Decode: destination must be a non-nil pointer, got %T", dst))
	}
	return decodeValue(v, path, rv.Elem(), fieldOpts{})
}

// Unmarshaler is a type with its own Lua shape (a space given as {{lo, hi}}
// or {{name =, lo =, hi =}}, hooks given as {[5] = fn}). UnmarshalLua is
// called for a key that is present and not nil; path names the key.
type Unmarshaler interface {
	UnmarshalLua(v glua.LValue, path string) error
}

// OptionNames returns the Lua option names of a struct type in declaration
// order (embedded structs' options in place), as Decode accepts them.
func OptionNames(t reflect.Type) []string {
	var out []string
	for _, f := range structFields(t) {
		out = append(out, f.name)
	}
	return out
}

// OptionError is a bad_arg error about the option at path: "option 'path'
// " + msg.
func OptionError(path, format string, args ...any) *errs.Error {
	return errs.New(errs.BadArg, "", "option '%s' %s", path, fmt.Sprintf(format, args...))
}

// The messages shared by Decode and Opts.

func typeError(path, want string, v glua.LValue) *errs.Error {
	return OptionError(path, "must be %s, got %s", want, TypeName(v))
}

// zeroError refuses an explicit 0 where leaving the key out asks for the
// default.
func zeroError(path, rule string, got any) *errs.Error {
	e := OptionError(path, "%s, got %v", rule, got)
	e.Hint = "leave " + lastKey(path) + " out (or nil) for its default"
	return e
}

func countError(path string, n int64) *errs.Error {
	return zeroError(path, "must be an integer >= 1", n)
}

func enumError(path, s string, allowed []string) *errs.Error {
	e := OptionError(path, "must be one of %s, got '%s'", strings.Join(allowed, ", "), s)
	if sug := Suggest(s, allowed); sug != "" {
		e.Msg += fmt.Sprintf(" (did you mean '%s'?)", sug)
	}
	return e
}

// lastKey is the key a path ends with: "optimizer.n_w" -> "n_w".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldOpts are a field's tag options.
type fieldOpts struct {
	required, count, size bool
	enum                  []string
	zero                  string // the rule an explicit 0 breaks ("" : 0 is allowed)
}

type field struct {
	name  string
	index []int
	opts  fieldOpts
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields lists the options of struct type t (see Decode) in
// declaration order, an embedded struct's in its place; an outer field
// that hides an embedded one takes the hidden one's place.
func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	outer := map[string]field{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if isEmbedded(sf) {
			continue
		}
		if name, opts, ok := optionOf(sf); ok && sf.IsExported() {
			if _, dup := outer[name]; dup {
				panic(fmt.Sprintf("lua.Decode: %s declares option %q twice", t, name))
			}
			outer[name] = field{name: name, index: sf.Index, opts: opts}
		}
	}
	var out []field
	placed := map[string]bool{}
	add := func(f field) {
		if o, ok := outer[f.name]; ok {
			f = o
		}
		if !placed[f.name] {
			placed[f.name] = true
			out = append(out, f)
		}
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !isEmbedded(sf) {
			if name, _, ok := optionOf(sf); ok && sf.IsExported() {
				add(outer[name])
			}
			continue
		}
		for _, f := range structFields(sf.Type) {
			if _, hidden := outer[f.name]; placed[f.name] && !hidden {
				panic(fmt.Sprintf("lua.Decode: %s: two embedded structs declare option %q; declare it in %s", t, f.name, t))
			}
			add(field{name: f.name, index: append([]int{sf.Index[0]}, f.index...), opts: f.opts})
		}
	}
	fieldCache.Store(t, out)
	return out
}

// isEmbedded reports an untagged embedded struct, whose options are the
// outer struct's.
func isEmbedded(sf reflect.StructField) bool {
	return sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.Tag.Get("lua") == "" && sf.Tag.Get("json") == ""
}

// optionOf reads a field's Lua name and tag options; ok is false when the
// field is not an option.
func optionOf(sf reflect.StructField) (name string, o fieldOpts, ok bool) {
	lt, hasLua := sf.Tag.Lookup("lua")
	parts := strings.Split(lt, ",")
	if hasLua && parts[0] == "-" {
		return "", o, false
	}
	name = parts[0]
	if name == "" {
		jn, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if jn == "-" {
			return "", o, false
		}
		name = jn
	}
	for _, p := range parts[1:] {
		switch {
		case p == "required":
			o.required = true
		case p == "count":
			o.count = true
		case p == "size":
			o.size = true
		case strings.HasPrefix(p, "enum="):
			o.enum = strings.Split(strings.TrimPrefix(p, "enum="), "|")
		default:
			panic(fmt.Sprintf("lua.Decode: field %s: unknown lua tag option %q", sf.Name, p))
		}
	}
	o.zero = sf.Tag.Get("zero")
	return name, o, name != ""
}

var (
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	luaFunctionType = reflect.TypeFor[*glua.LFunction]()
)

func decodeValue(v glua.LValue, path string, rv reflect.Value, o fieldOpts) error {
	if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
		return rv.Addr().Interface().(Unmarshaler).UnmarshalLua(v, path)
	}
	switch t := rv.Type(); {
	case t == luaFunctionType:
		f, ok := v.(*glua.LFunction)
		if !ok {
			return typeError(path, "a function", v)
		}
		rv.Set(reflect.ValueOf(f))
		return nil
	case t == rawMessageType:
		g, err := ToGo(v, path)
		if err != nil {
			return err
		}
		b, err := json.Marshal(g)
		if err != nil {
			return OptionError(path, "is not plain data: %v", err)
		}
		rv.SetBytes(b)
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		p := reflect.New(rv.Type().Elem())
		if err := decodeValue(v, path, p.Elem(), o); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.Bool:
		b, ok := v.(glua.LBool)
		if !ok {
			return typeError(path, "a boolean", v)
		}
		rv.SetBool(bool(b))
		return nil
	case reflect.String:
		return decodeString(v, path, rv, o)
	case reflect.Float32, reflect.Float64:
		n, ok := v.(glua.LNumber)
		if !ok {
			return typeError(path, "a number", v)
		}
		if o.zero != "" && n == 0 {
			return zeroError(path, o.zero, 0)
		}
		rv.SetFloat(float64(n))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return decodeInt(v, path, rv, o)
	case reflect.Slice, reflect.Array:
		return decodeArray(v, path, rv)
	case reflect.Map:
		return decodeMap(v, path, rv)
	case reflect.Interface:
		g, err := ToGo(v, path)
		if err != nil {
			return err
		}
		if g != nil {
			rv.Set(reflect.ValueOf(g))
		}
		return nil
	case reflect.Struct:
		return decodeStruct(v, path, rv)
	}
	return errs.New(errs.Internal, "", "lua.Decode: option '%s': cannot decode into %s (give the type an UnmarshalLua)", path, rv.Type())
}

func decodeString(v glua.LValue, path string, rv reflect.Value, o fieldOpts) error {
	var s string
	switch x := v.(type) {
	case glua.LString:
		s = string(x)
	case glua.LNumber:
		if !o.size {
			return typeError(path, "a string", v)
		}
		f := float64(x)
		if f < 0 || f != math.Trunc(f) || f > 1<<53 {
			return OptionError(path, "must be a whole number of bytes or a size string such as \"4GiB\", got %v", f)
		}
		s = fmt.Sprintf("%d", int64(f))
	default:
		if o.size {
			return typeError(path, "bytes or a size string such as \"4GiB\"", v)
		}
		return typeError(path, "a string", v)
	}
	if o.enum != nil && !contains(o.enum, s) {
		return enumError(path, s, o.enum)
	}
	rv.SetString(s)
	return nil
}

func contains(list []string, s string) bool {
	for _, a := range list {
		if a == s {
			return true
		}
	}
	return false
}

func decodeInt(v glua.LValue, path string, rv reflect.Value, o fieldOpts) error {
	x, ok := v.(glua.LNumber)
	if !ok {
		return typeError(path, "an integer", v)
	}
	f := float64(x)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return OptionError(path, "must be an integer, got %v", f)
	}
	n := int64(f)
	switch {
	case o.count && n < 1:
		return countError(path, n)
	case o.zero != "" && n == 0:
		return zeroError(path, o.zero, 0)
	}
	if rv.CanUint() {
		if n < 0 {
			return OptionError(path, "must be an integer >= 0, got %d", n)
		}
		if rv.OverflowUint(uint64(n)) {
			return OptionError(path, "is too large, got %d", n)
		}
		rv.SetUint(uint64(n))
		return nil
	}
	if rv.OverflowInt(n) {
		return OptionError(path, "is out of range, got %d", n)
	}
	rv.SetInt(n)
	return nil
}

// arrayOf checks that v is a Lua array (keys 1..n only) and returns it.
func arrayOf(v glua.LValue, path string, want string) (*glua.LTable, error) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, typeError(path, want, v)
	}
	if extra := countKeys(t) - t.Len(); extra > 0 {
		return nil, OptionError(path, "must be an array (keys 1..n), it has %d other keys", extra)
	}
	return t, nil
}

func decodeArray(v glua.LValue, path string, rv reflect.Value) error {
	want := "an array"
	if k := rv.Type().Elem().Kind(); k == reflect.Float64 || k == reflect.Float32 {
		want = "an array of numbers"
	}
	if rv.Kind() == reflect.Array {
		want = fmt.Sprintf("an array of %d values", rv.Len())
	}
	t, err := arrayOf(v, path, want)
	if err != nil {
		return err
	}
	n := t.Len()
	if rv.Kind() == reflect.Array {
		if n != rv.Len() {
			return OptionError(path, "must be an array of %d values, got %d", rv.Len(), n)
		}
	} else {
		rv.Set(reflect.MakeSlice(rv.Type(), n, n))
	}
	for i := 1; i <= n; i++ {
		if err := decodeValue(t.RawGetInt(i), fmt.Sprintf("%s[%d]", path, i), rv.Index(i-1), fieldOpts{}); err != nil {
			return err
		}
	}
	return nil
}

func decodeMap(v glua.LValue, path string, rv reflect.Value) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return typeError(path, "a table", v)
	}
	if rv.Type().Key().Kind() != reflect.String {
		return errs.New(errs.Internal, "", "lua.Decode: option '%s': map keys must be strings, got %s (give the type an UnmarshalLua)", path, rv.Type())
	}
	m := reflect.MakeMap(rv.Type())
	var keys []string
	var bad glua.LValue
	t.ForEach(func(k, _ glua.LValue) {
		if s, ok := k.(glua.LString); ok {
			keys = append(keys, string(s))
		} else if bad == nil {
			bad = k
		}
	})
	if bad != nil {
		return OptionError(path, "must have string keys, got [%s]", bad.String())
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := reflect.New(rv.Type().Elem()).Elem()
		if err := decodeValue(t.RawGetString(k), joinPath(path, k), e, fieldOpts{}); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), e)
	}
	rv.Set(m)
	return nil
}

func decodeStruct(v glua.LValue, path string, rv reflect.Value) error {
	if v == glua.LNil {
		return nil
	}
	t, ok := v.(*glua.LTable)
	if !ok {
		if path == "" {
			return errs.New(errs.BadArg, "", "options table expected, got %s", TypeName(v))
		}
		return typeError(path, "a table", v)
	}
	fields := structFields(rv.Type())
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.name
	}
	prefix := ""
	if path != "" {
		prefix = path + "."
	}
	if err := CheckKeysPrefix(t, "", prefix, known); err != nil {
		return err
	}
	for _, f := range fields {
		fv := t.RawGetString(f.name)
		if fv == glua.LNil {
			if f.opts.required {
				return OptionError(joinPath(path, f.name), "is required")
			}
			continue
		}
		if err := decodeValue(fv, joinPath(path, f.name), rv.FieldByIndex(f.index), f.opts); err != nil {
			return err
		}
	}
	return nil
}
