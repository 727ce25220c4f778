package bindings

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"bohost/host/bo"
	"bohost/host/ckpt"
	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/lua"

	glua "github.com/yuin/gopher-lua"
)

// Ckpt is bohost.ckpt: atomic, checksummed snapshots of Lua values (host/ckpt)
// for scripts that write their own loops. Optimisers and GP models are saved
// as their state and rebuilt on load.
type Ckpt struct{}

func (Ckpt) Name() string { return "bohost.ckpt" }

// Object type names in checkpoint files.
const (
	ckptOptimizer = "bohost.bo.Optimizer"
	ckptGPModel   = "bohost.gp.Model"
)

type optimizerEnc struct{ o *bo.Optimizer }

func (optimizerEnc) CkptType() string { return ckptOptimizer }
func (e optimizerEnc) CkptFields() (map[string]ckpt.Value, error) {
	v, err := jsonValue(e.o.State())
	return map[string]ckpt.Value{"state": v}, err
}

type gpEnc struct{ m *gp.Model }

func (gpEnc) CkptType() string { return ckptGPModel }
func (e gpEnc) CkptFields() (map[string]ckpt.Value, error) {
	v, err := jsonValue(e.m.State())
	return map[string]ckpt.Value{"state": v}, err
}

// jsonValue turns a JSON-able engine state into plain checkpoint values
// (numbers are float64: exact, as the states hold no integer above 2^53).
func jsonValue(v any) (ckpt.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errs.New(errs.Internal, "ckpt.save", "state is not JSON-able: %v", err)
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

func fromJSONValue(v ckpt.Value, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func newCkptCodec() *ckpt.Codec {
	c := ckpt.NewCodec()
	c.Register(ckptOptimizer, func(f map[string]ckpt.Value) (ckpt.Value, error) {
		var st bo.State
		if err := fromJSONValue(f["state"], &st); err != nil {
			return nil, errs.New(errs.IO, "ckpt.load", "optimiser state: %v", err)
		}
		return bo.Restore(st)
	})
	c.Register(ckptGPModel, func(f map[string]ckpt.Value) (ckpt.Value, error) {
		var st gp.State
		if err := fromJSONValue(f["state"], &st); err != nil {
			return nil, errs.New(errs.IO, "ckpt.load", "GP model state: %v", err)
		}
		return gp.Restore(st)
	})
	return c
}

func (Ckpt) Open(rt *lua.Runtime) *glua.LTable {
	if err := rt.Require("bohost.bo"); err != nil { // optimiser and model types for loads
		panic(err)
	}
	codec := newCkptCodec()
	load := func(L *glua.LState, op string, f func() (ckpt.Loaded, error)) (glua.LValue, glua.LValue, error) {
		ld, err := f()
		if err != nil {
			return nil, nil, err
		}
		v, err := toLuaValue(L, ld.Payload)
		if err != nil {
			return nil, nil, err
		}
		var warn glua.LValue = glua.LNil
		if ld.Warning != nil {
			warn = glua.LString(ld.Warning.String())
			rt.Warn("ckpt:"+ld.Path, "%s: %s", op, ld.Warning.String())
		}
		return v, warn, nil
	}
	return rt.Funcs("ckpt", []lua.Func{
		{Name: "save", Sig: "ckpt.save(path, value)", Desc: "writes value (tables, numbers, strings, booleans, optimisers, GP models) atomically with a checksum, keeping the previous file as NAME.prev.json", Fn: func(L *glua.LState) int {
			const op = "ckpt.save"
			path := L.CheckString(1)
			v, err := fromLuaValue(L.Get(2), "value", map[*glua.LTable]bool{})
			if err != nil {
				return lua.Raise(L, op, err)
			}
			if err := codec.Save(path, v); err != nil {
				return lua.Raise(L, op, err)
			}
			return 0
		}},
		{Name: "load", Sig: "ckpt.load(path) -> value, warning", Desc: "reads a snapshot (objects rebuilt); a corrupt file falls back to NAME.prev.json with a warning; raises when neither is usable", Fn: func(L *glua.LState) int {
			path := L.CheckString(1)
			v, w, err := load(L, "ckpt.load", func() (ckpt.Loaded, error) { return codec.Load(path) })
			if err != nil {
				return lua.Raise(L, "ckpt.load", err)
			}
			L.Push(v)
			L.Push(w)
			return 2
		}},
		{Name: "try_load", Sig: "ckpt.try_load(path) -> value, warning | nil, err", Desc: "ckpt.load that returns nil and the error instead of raising", Fn: func(L *glua.LState) int {
			path := L.CheckString(1)
			v, w, err := load(L, "ckpt.try_load", func() (ckpt.Loaded, error) { return codec.Load(path) })
			if err != nil {
				L.Push(glua.LNil)
				L.Push(lua.NewError(L, "ckpt.try_load", err))
				return 2
			}
			L.Push(v)
			L.Push(w)
			return 2
		}},
		{Name: "latest", Sig: "ckpt.latest(dir) -> value, path", Desc: "the newest usable checkpoint of a directory (checkpoint.json, else checkpoint.prev.json)", Fn: func(L *glua.LState) int {
			dir := L.CheckString(1)
			ld, err := codec.Latest(dir)
			if err != nil {
				return lua.Raise(L, "ckpt.latest", err)
			}
			if ld.Warning != nil {
				rt.Warn("ckpt:"+ld.Path, "ckpt.latest: %s", ld.Warning.String())
			}
			v, err := toLuaValue(L, ld.Payload)
			if err != nil {
				return lua.Raise(L, "ckpt.latest", err)
			}
			L.Push(v)
			L.Push(glua.LString(ld.Path))
			return 2
		}},
	})
}

// fromLuaValue converts a Lua value to a checkpoint value.
func fromLuaValue(v glua.LValue, path string, seen map[*glua.LTable]bool) (ckpt.Value, error) {
	switch x := v.(type) {
	case *glua.LNilType:
		return nil, nil
	case glua.LBool:
		return bool(x), nil
	case glua.LNumber:
		return float64(x), nil
	case glua.LString:
		return string(x), nil
	case *glua.LUserData:
		switch o := x.Value.(type) {
		case *bo.Optimizer:
			return optimizerEnc{o}, nil
		case *gp.Model:
			return gpEnc{o}, nil
		}
		return nil, errs.New(errs.BadArg, "ckpt.save", "%s is a %s, which cannot be saved (only optimisers and GP models)", path, lua.TypeName(v))
	case *glua.LTable:
		if seen[x] {
			return nil, errs.New(errs.BadArg, "ckpt.save", "%s is a table that contains itself (cycles cannot be saved)", path)
		}
		seen[x] = true
		defer delete(seen, x)
		return tableValue(x, path, seen)
	}
	return nil, errs.New(errs.BadArg, "ckpt.save", "%s is a %s, which cannot be saved (tables, numbers, strings, booleans, optimisers, GP models)", path, lua.TypeName(v))
}

// tableValue converts a table: a sequence 1..n without holes to a list, a
// table of string keys to a map, anything else to pairs in key order.
func tableValue(x *glua.LTable, path string, seen map[*glua.LTable]bool) (ckpt.Value, error) {
	n, nkeys, strKeys, seqKeys := x.Len(), 0, 0, 0
	x.ForEach(func(k, _ glua.LValue) {
		nkeys++
		switch kk := k.(type) {
		case glua.LString:
			strKeys++
		case glua.LNumber:
			if f := float64(kk); f >= 1 && f <= float64(n) && f == math.Trunc(f) {
				seqKeys++
			}
		}
	})
	switch {
	case seqKeys == nkeys && nkeys == n: // a sequence 1..n without holes (or empty)
		out := make([]ckpt.Value, n)
		for i := 1; i <= n; i++ {
			e, err := fromLuaValue(x.RawGetInt(i), fmt.Sprintf("%s[%d]", path, i), seen)
			if err != nil {
				return nil, err
			}
			out[i-1] = e
		}
		return out, nil
	case strKeys == nkeys:
		out := make(map[string]ckpt.Value, nkeys)
		var err error
		x.ForEach(func(k, e glua.LValue) {
			if err != nil {
				return
			}
			out[string(k.(glua.LString))], err = fromLuaValue(e, path+"."+string(k.(glua.LString)), seen)
		})
		return out, err
	}
	return pairsValue(x, path, seen)
}

// pairsValue converts a table with mixed keys to pairs in key order.
func pairsValue(x *glua.LTable, path string, seen map[*glua.LTable]bool) (ckpt.Value, error) {
	type kv struct{ k, v glua.LValue }
	var kvs []kv
	x.ForEach(func(k, e glua.LValue) { kvs = append(kvs, kv{k, e}) })
	sort.SliceStable(kvs, func(i, j int) bool { return keyLess(kvs[i].k, kvs[j].k) })
	out := make(ckpt.Pairs, 0, len(kvs))
	for _, p := range kvs {
		k, err := fromLuaValue(p.k, path+"[key]", seen)
		if err != nil {
			return nil, err
		}
		e, err := fromLuaValue(p.v, fmt.Sprintf("%s[%s]", path, p.k.String()), seen)
		if err != nil {
			return nil, err
		}
		out = append(out, ckpt.Pair{K: k, V: e})
	}
	return out, nil
}

// keyLess orders mixed keys: numbers, then strings, then booleans.
func keyLess(a, b glua.LValue) bool {
	rank := func(v glua.LValue) int {
		switch v.(type) {
		case glua.LNumber:
			return 0
		case glua.LString:
			return 1
		}
		return 2
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case glua.LNumber:
		y := float64(b.(glua.LNumber))
		return float64(x) < y || (math.IsNaN(y) && !math.IsNaN(float64(x)))
	case glua.LString:
		return string(x) < string(b.(glua.LString))
	case glua.LBool:
		return !bool(x) && bool(b.(glua.LBool))
	}
	return false
}

// toLuaValue converts a loaded checkpoint value to Lua.
func toLuaValue(L *glua.LState, v ckpt.Value) (glua.LValue, error) {
	switch x := v.(type) {
	case nil:
		return glua.LNil, nil
	case bool:
		return glua.LBool(x), nil
	case float64:
		return glua.LNumber(x), nil
	case string:
		return glua.LString(x), nil
	case []ckpt.Value:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			lv, err := toLuaValue(L, e)
			if err != nil {
				return nil, err
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	case map[string]ckpt.Value:
		return fieldsToLua(L, L.CreateTable(0, len(x)), x)
	case ckpt.Pairs:
		t := L.NewTable()
		for _, p := range x {
			k, err := toLuaValue(L, p.K)
			if err != nil {
				return nil, err
			}
			e, err := toLuaValue(L, p.V)
			if err != nil {
				return nil, err
			}
			t.RawSet(k, e)
		}
		return t, nil
	case *bo.Optimizer:
		return lua.NewObject(L, optimizerType, x), nil
	case *gp.Model:
		return lua.NewObject(L, gpModelType, x), nil
	case *ckpt.Object:
		t := L.NewTable()
		t.RawSetString("__type", glua.LString(x.Type))
		return fieldsToLua(L, t, x.Fields)
	}
	return nil, errs.New(errs.Internal, "ckpt.load", "unexpected value of type %T", v)
}

// fieldsToLua sets t's string keys from a map of checkpoint values.
func fieldsToLua(L *glua.LState, t *glua.LTable, fields map[string]ckpt.Value) (glua.LValue, error) {
	for k, e := range fields {
		lv, err := toLuaValue(L, e)
		if err != nil {
			return nil, err
		}
		t.RawSetString(k, lv)
	}
	return t, nil
}
