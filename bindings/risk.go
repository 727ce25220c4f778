package bindings

import (
	"bohost/host/errs"
	"bohost/host/lua"
	"bohost/host/risk"

	glua "github.com/yuin/gopher-lua"
)

// Risk is bohost.risk: risk measures over the n_w values of one x.
// alpha is bohost's tail fraction (alpha = 0.1 averages the worst 10 %)
// unless {convention = "botorch"} asks for BoTorch's confidence level.
type Risk struct{}

func (Risk) Name() string { return "bohost.risk" }

func (Risk) Open(rt *lua.Runtime) *glua.LTable {
	measure := func(kind string) glua.LGFunction {
		return func(L *glua.LState) int {
			op := "risk." + kind
			values, err := lua.ToFloats(L.Get(1), "values")
			if err != nil {
				return lua.Raise(L, op, err)
			}
			m := risk.Measure{Kind: kind}
			argOpts := 2
			if kind == risk.KindCVaR || kind == risk.KindVaR {
				m.Alpha = float64(L.CheckNumber(2))
				argOpts = 3
			}
			o := lua.CheckOpts(L, argOpts, op, "convention")
			m.Convention = risk.Convention(o.Enum("convention", "bohost", "bohost", "botorch"))
			if err := m.Validate(); err != nil {
				return lua.Raise(L, op, err)
			}
			if len(values) == 0 {
				return lua.Raisef(L, errs.BadArg, op, "values must not be empty")
			}
			L.Push(glua.LNumber(m.Eval(values)))
			return 1
		}
	}
	return rt.Funcs("risk", []lua.Func{
		{Name: "cvar", Sig: "risk.cvar(values, alpha [, {convention=\"bohost\"|\"botorch\"}]) -> number", Desc: "CVaR: the mean of the worst alpha share (bohost: Rockafellar–Uryasev with a fractional boundary weight)", Fn: measure(risk.KindCVaR)},
		{Name: "var", Sig: "risk.var(values, alpha [, {convention=}]) -> number", Desc: "VaR: the alpha-quantile of the lower tail", Fn: measure(risk.KindVaR)},
		{Name: "mean", Sig: "risk.mean(values) -> number", Desc: "the expectation (risk-neutral)", Fn: measure(risk.KindMean)},
		{Name: "worst", Sig: "risk.worst(values) -> number", Desc: "the worst case (minimum)", Fn: measure(risk.KindWorst)},
		{Name: "tail", Sig: "risk.tail(n_w, alpha [, {convention=}]) -> k, frac", Desc: "how many worst samples CVaR averages in full (k) and the weight of the boundary sample", Fn: func(L *glua.LState) int {
			n, alpha := L.CheckInt(1), float64(L.CheckNumber(2))
			o := lua.CheckOpts(L, 3, "risk.tail", "convention")
			conv := risk.Convention(o.Enum("convention", "bohost", "bohost", "botorch"))
			if err := (risk.Measure{Kind: risk.KindCVaR, Alpha: alpha, Convention: conv}).Validate(); err != nil {
				return lua.Raise(L, "risk.tail", err)
			}
			if n < 1 {
				return lua.Raisef(L, errs.BadArg, "risk.tail", "n_w must be >= 1, got %d", n)
			}
			k, frac := risk.Tail(n, alpha, conv)
			L.Push(glua.LNumber(k))
			L.Push(glua.LNumber(frac))
			return 2
		}},
		{Name: "check_alphas", Sig: "risk.check_alphas(alphas, n_w [, {convention=}]) -> warnings, suggested_n_w", Desc: "warns when alpha*n_w < 1 or when alphas give the same estimator at this n_w, and suggests an n_w that separates them", Fn: func(L *glua.LState) int {
			alphas, err := lua.ToFloats(L.Get(1), "alphas")
			if err != nil {
				return lua.Raise(L, "risk.check_alphas", err)
			}
			n := L.CheckInt(2)
			o := lua.CheckOpts(L, 3, "risk.check_alphas", "convention")
			conv := risk.Convention(o.Enum("convention", "bohost", "bohost", "botorch"))
			w, s := risk.CheckAlphas(alphas, n, conv)
			L.Push(lua.FromGo(L, w))
			L.Push(glua.LNumber(s))
			return 2
		}},
	})
}
