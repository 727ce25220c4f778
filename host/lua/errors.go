package lua

import (
	"errors"
	"fmt"
	"strings"

	"bohost/host/errs"

	glua "github.com/yuin/gopher-lua"
)

// ErrorType is the metatable name of bohost's structured Lua errors.
const ErrorType = "bohost.Error"

// ScriptError is what a failed chunk returns to Go: the structured fields of
// the raised error plus the Lua position and traceback.
type ScriptError struct {
	Kind      string // errs kind, "error" for a plain Lua error(...), "syntax" for a compile error
	Op        string
	Msg       string
	Hint      string
	Where     string // "file.lua:7:" of the Lua code that raised or called the failing function
	Traceback string
	Cause     error // the Go error behind a structured error, when there is one
}

func (e *ScriptError) Error() string {
	var b strings.Builder
	if e.Where != "" && !strings.HasPrefix(e.Msg, e.Where) {
		b.WriteString(e.Where)
		b.WriteByte(' ')
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != "" && e.Kind != "error" && e.Kind != "syntax" {
		b.WriteString(e.Kind)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		fmt.Fprintf(&b, " (hint: %s)", e.Hint)
	}
	return b.String()
}

func (e *ScriptError) Unwrap() error { return e.Cause }

// luaError is the Go value inside a bohost.Error userdata.
type luaError struct {
	kind, op, msg, hint, where string
	cause                      error
}

func (e *luaError) String() string {
	s := (&ScriptError{Kind: e.kind, Op: e.op, Msg: e.msg, Hint: e.hint, Where: e.where}).Error()
	return s
}

func openErrorType(L *glua.LState) {
	mt := L.NewTypeMetatable(ErrorType)
	L.SetField(mt, "__index", L.NewFunction(func(L *glua.LState) int {
		e := L.CheckUserData(1).Value.(*luaError)
		switch L.CheckString(2) {
		case "kind":
			L.Push(glua.LString(e.kind))
		case "op":
			L.Push(glua.LString(e.op))
		case "msg", "message":
			L.Push(glua.LString(e.msg))
		case "hint":
			if e.hint == "" {
				L.Push(glua.LNil)
			} else {
				L.Push(glua.LString(e.hint))
			}
		case "where":
			L.Push(glua.LString(e.where))
		default:
			L.Push(glua.LNil)
		}
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LString(L.CheckUserData(1).Value.(*luaError).String()))
		return 1
	}))
	L.SetField(mt, "__concat", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LString(L.ToStringMeta(L.Get(1)).String() + L.ToStringMeta(L.Get(2)).String()))
		return 1
	}))
}

// NewError builds a bohost.Error value from err without raising it (for the
// nil, err returns of try_ functions).
func NewError(L *glua.LState, op string, err error) glua.LValue {
	le := toLuaError(op, err)
	if le.where == "" {
		le.where = luaWhere(L)
	}
	ud := L.NewUserData()
	ud.Value = le
	L.SetMetatable(ud, L.GetTypeMetatable(ErrorType))
	return ud
}

func toLuaError(op string, err error) *luaError {
	var se *ScriptError
	if errors.As(err, &se) {
		return &luaError{kind: se.Kind, op: se.Op, msg: se.Msg, hint: se.Hint, where: se.Where, cause: se.Cause}
	}
	var e *errs.Error
	if errors.As(err, &e) {
		o := op // the Lua function the user called names the error
		if o == "" {
			o = e.Op
		}
		return &luaError{kind: e.Kind, op: o, msg: e.Msg, hint: e.Hint, cause: err}
	}
	return &luaError{kind: errs.Internal, op: op, msg: err.Error(), cause: err}
}

// Raise raises err as a structured Lua error. It does not return.
// An *errs.Error keeps its kind; any other error becomes kind internal.
func Raise(L *glua.LState, op string, err error) int {
	L.Error(NewError(L, op, err), 1)
	return 0
}

// Raisef raises a new structured error of the given kind.
func Raisef(L *glua.LState, kind, op, format string, args ...any) int {
	return Raise(L, op, errs.New(kind, op, format, args...))
}

// ArgError raises kind bad_arg naming argument n.
func ArgError(L *glua.LState, op string, n int, format string, args ...any) int {
	return Raise(L, op, errs.New(errs.BadArg, op, "bad argument #%d: %s", n, fmt.Sprintf(format, args...)))
}

// IsError reports whether v is a bohost.Error value and returns its fields.
func IsError(v glua.LValue) (*ScriptError, bool) {
	ud, ok := v.(*glua.LUserData)
	if !ok {
		return nil, false
	}
	le, ok := ud.Value.(*luaError)
	if !ok {
		return nil, false
	}
	return &ScriptError{Kind: le.kind, Op: le.op, Msg: le.msg, Hint: le.hint, Where: le.where, Cause: le.cause}, true
}

// fromAPIError converts what PCall returned into a *ScriptError.
func fromAPIError(err error) *ScriptError {
	if err == nil {
		return nil
	}
	var se *ScriptError
	if errors.As(err, &se) {
		return se
	}
	var ae *glua.ApiError
	if !errors.As(err, &ae) {
		return &ScriptError{Kind: errs.Internal, Msg: err.Error(), Cause: err}
	}
	out := &ScriptError{Kind: "error", Traceback: ae.StackTrace}
	switch ae.Type {
	case glua.ApiErrorSyntax, glua.ApiErrorFile:
		out.Kind = "syntax"
		if ae.Type == glua.ApiErrorFile {
			out.Kind = errs.IO
		}
	case glua.ApiErrorPanic:
		out.Kind = errs.Internal
	}
	if s, ok := IsError(ae.Object); ok {
		s.Traceback = ae.StackTrace
		return s
	}
	if t, ok := ae.Object.(*glua.LTable); ok {
		// error{kind=..., msg=...} raised from Lua code.
		get := func(k string) string {
			if v := t.RawGetString(k); v != glua.LNil {
				return v.String()
			}
			return ""
		}
		if k := get("kind"); k != "" {
			out.Kind = k
		}
		out.Op, out.Msg, out.Hint = get("op"), get("msg"), get("hint")
		if out.Msg == "" {
			out.Msg = get("message")
		}
		return out
	}
	if ae.Object != nil && ae.Object != glua.LNil {
		out.Msg = ae.Object.String()
	} else if ae.Cause != nil {
		out.Msg = ae.Cause.Error()
	} else {
		out.Msg = ae.Error()
	}
	// A plain error "file.lua:7: msg": keep the position in Where too.
	if i := strings.Index(out.Msg, ": "); i > 0 {
		head := out.Msg[:i]
		if j := strings.LastIndexByte(head, ':'); j > 0 && isDigits(head[j+1:]) {
			out.Where = head + ":"
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// luaWhere returns "file:line:" of the innermost Lua (not Go) frame outside
// bohost's own Lua libraries (see markLibChunk): the user's call of bo.run,
// not the line of bo/init.lua that called the Go binding. When every Lua
// frame is a library's, the innermost one.
func luaWhere(L *glua.LState) string {
	first := ""
	for i := 0; i < 64; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, glua.LNil); err != nil {
			continue
		}
		if dbg.CurrentLine <= 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
		if !isLibChunk(L, dbg.Source) {
			return where
		}
		if first == "" {
			first = where
		}
	}
	return first
}
