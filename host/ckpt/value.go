package ckpt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"

	"bohost/host/errs"
)

// Value is a checkpointable value. After Unmarshal it is one of
//
//	nil, bool, float64, string, []Value, map[string]Value, Pairs,
//	*Object (a typed object with no registered decoder),
//	or whatever a registered DecodeFunc returned.
//
// Marshal accepts those plus, for convenience, every Go integer type (exactly
// representable in a float64, i.e. |v| <= 2^53), float32, slices and arrays of
// accepted values, maps with string keys, and any Encoder.
type Value = any

// Pairs is a table with keys that are not all strings (a Lua table with
// number or boolean keys, or a mixed one). Order is kept as given.
type Pairs []Pair

// Pair is one key/value entry of Pairs.
type Pair struct{ K, V Value }

// Object is a typed object {"__type": Type, ...Fields}. Unmarshal returns it
// for a type with no registered decoder, so unknown objects survive a
// load/save cycle unchanged.
type Object struct {
	Type   string
	Fields map[string]Value
}

// Encoder is implemented by bohost objects that can be saved. CkptType names
// the registered decoder; CkptFields returns the object's state as plain
// Values (the "__type" key is added by the codec and must not be used).
type Encoder interface {
	CkptType() string
	CkptFields() (map[string]Value, error)
}

// DecodeFunc rebuilds an object from the fields an Encoder produced (already
// decoded into Values; "__type" removed).
type DecodeFunc func(fields map[string]Value) (Value, error)

// Reserved type names used by the codec itself.
const (
	TypeFloat = "f64"   // a float64 JSON numbers cannot hold: NaN, ±Inf, -0
	TypeBytes = "bytes" // a string that is not valid UTF-8
	TypeMap   = "map"   // a string map that has a "__type" key of its own
	TypePairs = "pairs" // Pairs
)

const typeKey = "__type"

// Codec turns Values into canonical JSON and back. The zero value is not
// usable; call NewCodec. A Codec is safe for concurrent use once all
// Register calls are done.
type Codec struct {
	dec map[string]DecodeFunc
}

// NewCodec returns a codec with no registered object types.
func NewCodec() *Codec { return &Codec{dec: map[string]DecodeFunc{}} }

// Register sets the decoder of typed objects named typ.
func (c *Codec) Register(typ string, dec DecodeFunc) error {
	switch {
	case typ == "":
		return errs.New(errs.BadArg, "ckpt.register", "type name must not be empty")
	case typ == TypeFloat || typ == TypeBytes || typ == TypeMap || typ == TypePairs:
		return errs.New(errs.BadArg, "ckpt.register", "type name %q is reserved by the codec", typ)
	case dec == nil:
		return errs.New(errs.BadArg, "ckpt.register", "decoder for %q is nil", typ)
	}
	if _, dup := c.dec[typ]; dup {
		return errs.New(errs.BadArg, "ckpt.register", "type %q is already registered", typ)
	}
	c.dec[typ] = dec
	return nil
}

// Marshal encodes v as canonical JSON: compact, map keys sorted, finite
// float64s as the shortest decimal that parses back to the same bits, and
// every other float64 (NaN with any payload, ±Inf, -0) as
// {"__type":"f64","v":"NaN","bits":"7ff8000000000001"}.
func (c *Codec) Marshal(v Value) ([]byte, error) {
	var b bytes.Buffer
	if err := c.enc(&b, v, "$", 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const maxDepth = 200

func encErr(path, format string, args ...any) error {
	return errs.New(errs.BadArg, "ckpt.marshal", "%s: %s", path, fmt.Sprintf(format, args...))
}

func (c *Codec) enc(b *bytes.Buffer, v Value, path string, depth int) error {
	if depth > maxDepth {
		return encErr(path, "nested deeper than %d levels (a cycle?)", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		encFloat(b, x)
	case float32:
		encFloat(b, float64(x))
	case int:
		return encInt(b, int64(x), path)
	case int8:
		return encInt(b, int64(x), path)
	case int16:
		return encInt(b, int64(x), path)
	case int32:
		return encInt(b, int64(x), path)
	case int64:
		return encInt(b, x, path)
	case uint:
		return encUint(b, uint64(x), path)
	case uint8:
		return encUint(b, uint64(x), path)
	case uint16:
		return encUint(b, uint64(x), path)
	case uint32:
		return encUint(b, uint64(x), path)
	case uint64:
		return encUint(b, x, path)
	case string:
		encString(b, x)
	case []Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := c.enc(b, e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []float64:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encFloat(b, e)
		}
		b.WriteByte(']')
	case map[string]Value:
		return c.encMap(b, x, path, depth)
	case Pairs:
		b.WriteString(`{"__type":"pairs","pairs":[`)
		for i, p := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			p2 := path + ".pairs[" + strconv.Itoa(i) + "]"
			if err := c.enc(b, p.K, p2, depth+1); err != nil {
				return err
			}
			b.WriteByte(',')
			if err := c.enc(b, p.V, p2, depth+1); err != nil {
				return err
			}
			b.WriteByte(']')
		}
		b.WriteString("]}")
	case *Object:
		if x == nil {
			b.WriteString("null")
			return nil
		}
		return c.encObject(b, x.Type, x.Fields, path, depth)
	case Encoder:
		typ := x.CkptType()
		if typ == "" || typ == TypeFloat || typ == TypeBytes || typ == TypeMap || typ == TypePairs {
			return encErr(path, "%T has invalid or reserved type name %q", x, typ)
		}
		fields, err := x.CkptFields()
		if err != nil {
			return errs.Wrap(errs.BadArg, "ckpt.marshal", fmt.Errorf("%s: encoding %s: %w", path, typ, err))
		}
		return c.encObject(b, typ, fields, path, depth)
	default:
		return c.encReflect(b, v, path, depth)
	}
	return nil
}

func (c *Codec) encObject(b *bytes.Buffer, typ string, fields map[string]Value, path string, depth int) error {
	if _, bad := fields[typeKey]; bad {
		return encErr(path, "object %q has a field named %q", typ, typeKey)
	}
	b.WriteString(`{"__type":`)
	encString(b, typ)
	keys := sortedKeys(fields)
	for _, k := range keys {
		b.WriteByte(',')
		encString(b, k)
		b.WriteByte(':')
		if err := c.enc(b, fields[k], path+"."+k, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

func (c *Codec) encMap(b *bytes.Buffer, m map[string]Value, path string, depth int) error {
	_, clash := m[typeKey]
	if clash {
		b.WriteString(`{"__type":"map","map":`)
	}
	b.WriteByte('{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte(',')
		}
		encString(b, k)
		b.WriteByte(':')
		if err := c.enc(b, m[k], path+"."+k, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	if clash {
		b.WriteByte('}')
	}
	return nil
}

func (c *Codec) encReflect(b *bytes.Buffer, v Value, path string, depth int) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			b.WriteString("[]")
			return nil
		}
		l := make([]Value, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		return c.enc(b, l, path, depth)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return encErr(path, "map key type %s is not string (use ckpt.Pairs)", rv.Type().Key())
		}
		m := make(map[string]Value, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return c.encMap(b, m, path, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
	}
	return encErr(path, "cannot save a value of type %T (implement ckpt.Encoder)", v)
}

func sortedKeys(m map[string]Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encFloat writes a float64 so that it decodes to the same bits.
func encFloat(b *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) || (f == 0 && math.Signbit(f)) {
		var name string
		switch {
		case math.IsNaN(f):
			name = "NaN"
		case math.IsInf(f, 1):
			name = "Inf"
		case math.IsInf(f, -1):
			name = "-Inf"
		default:
			name = "-0"
		}
		fmt.Fprintf(b, `{"__type":"f64","bits":"%016x","v":"%s"}`, math.Float64bits(f), name)
		return
	}
	b.Write(strconv.AppendFloat(b.AvailableBuffer(), f, 'g', -1, 64))
}

const maxExact = 1 << 53

func encInt(b *bytes.Buffer, i int64, path string) error {
	if i > maxExact || i < -maxExact {
		return encErr(path, "integer %d is not exactly representable as a float64 (|v| must be <= 2^53; store it as a string)", i)
	}
	b.WriteString(strconv.FormatInt(i, 10))
	return nil
}

func encUint(b *bytes.Buffer, u uint64, path string) error {
	if u > maxExact {
		return encErr(path, "integer %d is not exactly representable as a float64 (must be <= 2^53; store it as a string)", u)
	}
	b.WriteString(strconv.FormatUint(u, 10))
	return nil
}

func encString(b *bytes.Buffer, s string) {
	if !utf8.ValidString(s) {
		b.WriteString(`{"__type":"bytes","b64":"`)
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s)))
		b.WriteString(`"}`)
		return
	}
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	e.Encode(s) // cannot fail for a valid UTF-8 string
	b.Truncate(b.Len() - 1)
}

// Unmarshal decodes canonical JSON produced by Marshal (or any JSON) into a
// Value. JSON numbers become float64 (exactly, for Marshal's output).
func (c *Codec) Unmarshal(data []byte) (Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return nil, errs.New(errs.IO, "ckpt.unmarshal", "invalid JSON: %v", err)
	}
	if d.More() {
		return nil, errs.New(errs.IO, "ckpt.unmarshal", "trailing data after the JSON value")
	}
	return c.dec1(raw, "$")
}

func decErr(path, format string, args ...any) error {
	return errs.New(errs.IO, "ckpt.unmarshal", "%s: %s", path, fmt.Sprintf(format, args...))
}

func (c *Codec) dec1(raw any, path string) (Value, error) {
	switch x := raw.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, decErr(path, "number %s: %v", x, err)
		}
		return f, nil
	case []any:
		out := make([]Value, len(x))
		for i, e := range x {
			v, err := c.dec1(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		tv, typed := x[typeKey]
		if !typed {
			return c.decMap(x, path)
		}
		typ, ok := tv.(string)
		if !ok {
			return nil, decErr(path, "__type must be a string, got %T", tv)
		}
		return c.decTyped(typ, x, path)
	}
	return nil, decErr(path, "unexpected JSON value %T", raw)
}

func (c *Codec) decMap(x map[string]any, path string) (map[string]Value, error) {
	out := make(map[string]Value, len(x))
	for k, e := range x {
		v, err := c.dec1(e, path+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func (c *Codec) decTyped(typ string, x map[string]any, path string) (Value, error) {
	switch typ {
	case TypeFloat:
		s, _ := x["bits"].(string)
		u, err := strconv.ParseUint(s, 16, 64)
		if err != nil || len(s) != 16 {
			return nil, decErr(path, `f64 object needs "bits" as 16 hex digits, got %q`, s)
		}
		return math.Float64frombits(u), nil
	case TypeBytes:
		s, _ := x["b64"].(string)
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, decErr(path, "bytes object: %v", err)
		}
		return string(raw), nil
	case TypeMap:
		m, ok := x["map"].(map[string]any)
		if !ok {
			return nil, decErr(path, `map object needs an object "map"`)
		}
		return c.decMap(m, path)
	case TypePairs:
		l, ok := x["pairs"].([]any)
		if !ok {
			return nil, decErr(path, `pairs object needs an array "pairs"`)
		}
		out := make(Pairs, len(l))
		for i, e := range l {
			kv, ok := e.([]any)
			p2 := path + ".pairs[" + strconv.Itoa(i) + "]"
			if !ok || len(kv) != 2 {
				return nil, decErr(p2, "want a [key, value] array")
			}
			k, err := c.dec1(kv[0], p2)
			if err != nil {
				return nil, err
			}
			v, err := c.dec1(kv[1], p2)
			if err != nil {
				return nil, err
			}
			out[i] = Pair{k, v}
		}
		return out, nil
	}
	fields := make(map[string]Value, len(x)-1)
	for k, e := range x {
		if k == typeKey {
			continue
		}
		v, err := c.dec1(e, path+"."+k)
		if err != nil {
			return nil, err
		}
		fields[k] = v
	}
	dec := c.dec[typ]
	if dec == nil {
		return &Object{Type: typ, Fields: fields}, nil
	}
	v, err := dec(fields)
	if err != nil {
		return nil, errs.Wrap(errs.IO, "ckpt.unmarshal", fmt.Errorf("%s: decoding %s: %w", path, typ, err))
	}
	return v, nil
}
