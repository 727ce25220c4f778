package bindings_test

import (
	"context"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/lua/luatest"
)

// TestBoArgsDeclarations: each option declared once, {name, default, help},
// parses like the keyed form, mixes with it, and --help lists the declared
// options in order with their help next to their defaults.
func TestBoArgsDeclarations(t *testing.T) {
	var freed int
	luatest_run(t, `
		local bo = require "bo"
		local spec = {
			{"alpha", 0.1, "risk level"},
			{"seeds", {}, "one run per seed", type = "numbers"},
			{"names", {"a", "b"}, "a list of words"},
			{"report", true, "draw the report"},
			smoke = false,
		}
		arg = {[0] = "s.lua", "--alpha=0.3", "--seeds", "1,2", "--report", "false", "--smoke"}
		local opt = bo.args(spec)
		assert_eq(opt.alpha, 0.3); assert_eq(#opt.seeds, 2); assert_eq(opt.seeds[2], 2)
		assert_eq(opt.names[2], "b"); assert_eq(opt.report, false); assert_eq(opt.smoke, true)
		local e = expect_error("bad_arg", function() return opt.iteratons end)
		assert(e.msg:find("no option 'iteratons'"), e.msg)
		arg = {[0] = "s.lua", "--seeds", "x"}
		e = expect_error("usage", bo.args, spec)
		assert(e.msg:find("list of numbers"), e.msg)
		arg = {[0] = "s.lua", "--help"}
		e = expect_error("help", bo.args, spec)
		local function line(flag, def, help)
			return string.format("  %-22s [%s]", flag, def) .. (help and "  " .. help or "") .. "\n"
		end
		local want = line("--alpha", "0.1", "risk level") .. line("--seeds", "", "one run per seed") ..
			line("--names", "a,b", "a list of words") .. line("--report", "true", "draw the report") .. line("--smoke", "false")
		assert(e.msg:find(want, 1, true), e.msg)
		-- The older form still works, with its help table.
		arg = {[0] = "s.lua", "--help"}
		e = expect_error("help", bo.args, {alpha = 0.1, beta = 2}, {alpha = "risk level"})
		assert(e.msg:find(line("--alpha", "0.1", "risk level") .. line("--beta", "2"), 1, true), e.msg)
	`, &freed)
}

// TestBoArgsDeclarationErrors: a declaration that cannot be what the
// script meant is a bad_arg error naming the option, at the script's line.
func TestBoArgsDeclarationErrors(t *testing.T) {
	for _, c := range []struct{ decl, want string }{
		{`{ {"alpha", 0.1, "a"}, {"alpha", 0.2, "b"} }`, "option 'alpha' declared twice"},
		{`{ {"alpha", 0.1, "a"}, alpha = 0.2 }`, "option 'alpha' declared twice"},
		{`{ {"alpha"} }`, "option entry [1]: 'alpha' needs a default (second), which fixes its type"},
		{`{ {0.1, "alpha"} }`, "option entry [1]: the name (first) must be a word"},
		{`{ {"two words", 1} }`, "the name (first) must be a word"},
		{`{ 5 }`, "option entry [1]: expected {name, default, help}, got number"},
		{`{ {"alpha", 0.1, 7} }`, "the help of 'alpha' (third) must be a string, got number"},
		{`{ {"alpha", 0.1, "a", "extra"} }`, "'alpha' has more than name, default and help"},
		{`{ {"alpha", 0.1, "a", typ = "number"} }`, "unknown key 'typ' in the declaration of 'alpha' (did you mean 'type'?)"},
		{`{ {"alpha", 0.1, "a", type = "string"} }`, "the default of option 'alpha' is of type number, not string"},
		{`{ {"alpha", 0.1, "a", type = "nubmer"} }`, `(did you mean "number"?)`},
		{`{ {"f", print, "a"} }`, "default of option 'f' must be a number, string, boolean or list, got function"},
		{`{ {"xs", {1, "a"}, "mixed"} }`, "default of option 'xs'"},
		{`({alpha = 0.1}, {alhpa = "risk"})`, "help for 'alhpa', which is no option (did you mean 'alpha'?)"},
		{`({ {"alpha", 0.1, "risk"} }, {alpha = "again"})`, "help of option 'alpha' given twice"},
		{`({alpha = 0.1}, {alpha = 5})`, "help of option 'alpha' must be a string, got number"},
		{`(5)`, "options table expected, got number"},
		{`({alpha = 0.1}, "help")`, "help must be a table of option = text, got string"},
	} {
		call := "bo.args" + c.decl
		if !strings.HasPrefix(c.decl, "(") {
			call = "bo.args(" + c.decl + ")"
		}
		se := scriptError(t, "local bo = require \"bo\"\narg = {[0] = \"s.lua\"}\nlocal opt = "+call+"\n")
		if se.Kind != errs.BadArg || se.Op != "bo.args" || !strings.Contains(se.Msg, c.want) {
			t.Errorf("%s: got %s %s %q, want bad_arg bo.args %q", call, se.Kind, se.Op, se.Msg, c.want)
		}
		if se.Where != "script.lua:3:" {
			t.Errorf("%s: where %q, want script.lua:3:", call, se.Where)
		}
	}
}

// TestFriendlyLayerUnknownMembers: a member bo does not have raises with
// the nearest function or module; one it has is never nil.
func TestFriendlyLayerUnknownMembers(t *testing.T) {
	var freed int
	rt := luatest.New(t, modules(&freed))
	for src, want := range map[string]string{
		"return bo.optimiser": "no function bo.optimiser (did you mean bo.optimizer?)",
		"return bo.rnu":       "no function bo.rnu (did you mean bo.run?)",
		"return bo.gpp":       "no module bo.gpp (did you mean bo.gp?)",
		"return bo.zzzzzz":    "no function or module bo.zzzzzz",
	} {
		_, err := rt.DoString(context.Background(), "local bo = require 'bo'\n"+src, "s.lua")
		if err == nil || !strings.Contains(err.Error(), "bo: bad_arg: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}
