package lua

import (
	"fmt"
	"math"
	"sort"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// ToFloats converts a Lua array of numbers; what names the value in errors.
func ToFloats(v glua.LValue, what string) ([]float64, error) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, errs.New(errs.BadArg, "", "%s must be an array of numbers, got %s", what, TypeName(v))
	}
	n := t.Len()
	out := make([]float64, n)
	for i := 1; i <= n; i++ {
		x, ok := t.RawGetInt(i).(glua.LNumber)
		if !ok {
			return nil, errs.New(errs.BadArg, "", "%s[%d] must be a number, got %s", what, i, TypeName(t.RawGetInt(i)))
		}
		out[i-1] = float64(x)
	}
	if extra := countKeys(t) - n; extra > 0 {
		return nil, errs.New(errs.BadArg, "", "%s must be an array (keys 1..n), it has %d other keys", what, extra)
	}
	return out, nil
}

// ToMatrix converts a Lua array of arrays of numbers with equal row lengths.
func ToMatrix(v glua.LValue, what string) ([][]float64, error) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, errs.New(errs.BadArg, "", "%s must be an array of arrays of numbers, got %s", what, TypeName(v))
	}
	n := t.Len()
	out := make([][]float64, n)
	for i := 1; i <= n; i++ {
		row, err := ToFloats(t.RawGetInt(i), fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return nil, err
		}
		if i > 1 && len(row) != len(out[0]) {
			return nil, errs.New(errs.BadArg, "", "%s[%d] has %d values, expected %d like %s[1]", what, i, len(row), len(out[0]), what)
		}
		out[i-1] = row
	}
	return out, nil
}

func countKeys(t *glua.LTable) int {
	n := 0
	t.ForEach(func(_, _ glua.LValue) { n++ })
	return n
}

// Floats pushes-ready: converts a slice to a Lua array.
func Floats(L *glua.LState, xs []float64) *glua.LTable {
	t := L.CreateTable(len(xs), 0)
	for i, x := range xs {
		t.RawSetInt(i+1, glua.LNumber(x))
	}
	return t
}

// Matrix converts rows to a Lua array of arrays.
func Matrix(L *glua.LState, m [][]float64) *glua.LTable {
	t := L.CreateTable(len(m), 0)
	for i, r := range m {
		t.RawSetInt(i+1, Floats(L, r))
	}
	return t
}

// FromGo converts plain Go data (nil, bool, numbers, string, []any,
// map[string]any, []float64, [][]float64, []string, map[string]float64) to a
// Lua value. Other values become their fmt string.
func FromGo(L *glua.LState, v any) glua.LValue {
	switch x := v.(type) {
	case nil:
		return glua.LNil
	case glua.LValue:
		return x
	case bool:
		return glua.LBool(x)
	case int:
		return glua.LNumber(x)
	case int64:
		return glua.LNumber(x)
	case uint64:
		return glua.LNumber(x)
	case int32:
		return glua.LNumber(x)
	case float32:
		return glua.LNumber(x)
	case float64:
		return glua.LNumber(x)
	case string:
		return glua.LString(x)
	case []float64:
		return Floats(L, x)
	case [][]float64:
		return Matrix(L, x)
	case []string:
		t := L.CreateTable(len(x), 0)
		for i, s := range x {
			t.RawSetInt(i+1, glua.LString(s))
		}
		return t
	case []int:
		t := L.CreateTable(len(x), 0)
		for i, s := range x {
			t.RawSetInt(i+1, glua.LNumber(s))
		}
		return t
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, FromGo(L, e))
		}
		return t
	case map[string]float64:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, glua.LNumber(e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, FromGo(L, e))
		}
		return t
	}
	return glua.LString(fmt.Sprint(v))
}

// ToGo converts a Lua value made of tables, numbers, strings and booleans to
// plain Go data: arrays (keys 1..n) become []any, other tables
// map[string]any. Functions, userdata and cycles are errors naming the path.
func ToGo(v glua.LValue, what string) (any, error) {
	return toGo(v, what, map[*glua.LTable]bool{})
}

func toGo(v glua.LValue, path string, seen map[*glua.LTable]bool) (any, error) {
	switch x := v.(type) {
	case *glua.LNilType:
		return nil, nil
	case glua.LBool:
		return bool(x), nil
	case glua.LNumber:
		return float64(x), nil
	case glua.LString:
		return string(x), nil
	case *glua.LTable:
		if seen[x] {
			return nil, errs.New(errs.BadArg, "", "%s: table contains a cycle", path)
		}
		seen[x] = true
		defer delete(seen, x)
		n := x.Len()
		if n > 0 && countKeys(x) == n {
			out := make([]any, n)
			for i := 1; i <= n; i++ {
				e, err := toGo(x.RawGetInt(i), fmt.Sprintf("%s[%d]", path, i), seen)
				if err != nil {
					return nil, err
				}
				out[i-1] = e
			}
			return out, nil
		}
		out := map[string]any{}
		var err error
		x.ForEach(func(k, val glua.LValue) {
			if err != nil {
				return
			}
			var ks string
			switch kk := k.(type) {
			case glua.LString:
				ks = string(kk)
			case glua.LNumber:
				if float64(kk) != math.Trunc(float64(kk)) {
					err = errs.New(errs.BadArg, "", "%s: non-integer number key %v", path, kk)
					return
				}
				ks = kk.String()
			default:
				err = errs.New(errs.BadArg, "", "%s: keys must be strings or integers, got %s", path, k.Type())
				return
			}
			var e any
			e, err = toGo(val, path+"."+ks, seen)
			out[ks] = e
		})
		return out, err
	}
	return nil, errs.New(errs.BadArg, "", "%s: cannot convert a %s to data", path, TypeName(v))
}

// SortedKeys returns a table's string keys in order.
func SortedKeys(t *glua.LTable) []string {
	var ks []string
	t.ForEach(func(k, _ glua.LValue) {
		if s, ok := k.(glua.LString); ok {
			ks = append(ks, string(s))
		}
	})
	sort.Strings(ks)
	return ks
}

// OptString returns v as a string, "" for nil.
func OptString(v glua.LValue) string {
	if v == glua.LNil {
		return ""
	}
	return v.String()
}
