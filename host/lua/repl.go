package lua

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// REPLOptions configure a REPL session.
type REPLOptions struct {
	In          io.Reader
	Out, Err    io.Writer
	Interactive bool   // line editing, prompts, history, completion (stdin is a terminal)
	HistoryFile string // "" for none
	// Interrupts delivers Ctrl-C while a chunk runs; nil uses os.Interrupt.
	Interrupts <-chan os.Signal
	// Time prints the time each chunk took (interactive only).
	Time bool
}

// REPL reads chunks, runs them and prints their results. Every line is first
// tried as "return <line>", so expressions print; a trailing ';' silences
// the results; incomplete chunks continue on ">> " lines; "?name" prints the
// doc of a registered function. Ctrl-C cancels the running chunk, not the
// session; Ctrl-D (or end of input) ends it.
type REPL struct {
	rt     *Runtime
	o      REPLOptions
	failed int
}

// NewREPL returns a REPL over rt.
func NewREPL(rt *Runtime, o REPLOptions) *REPL {
	if o.Out == nil {
		o.Out = rt.Stdout
	}
	if o.Err == nil {
		o.Err = rt.Stderr
	}
	return &REPL{rt: rt, o: o}
}

// Failed returns how many chunks raised an error.
func (r *REPL) Failed() int { return r.failed }

// Run runs the session until end of input or ctx is done.
func (r *REPL) Run(ctx context.Context) error {
	if r.o.Interactive {
		return r.runInteractive(ctx)
	}
	return r.runPiped(ctx)
}

func (r *REPL) runPiped(ctx context.Context) error {
	sc := bufio.NewScanner(r.o.In)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var pending []string
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pending = append(pending, sc.Text())
		if r.step(ctx, &pending) {
			continue
		}
	}
	if len(pending) > 0 {
		fmt.Fprintf(r.o.Err, "error: incomplete chunk at end of input:\n%s\n", strings.Join(pending, "\n"))
		r.failed++
	}
	return sc.Err()
}

func (r *REPL) runInteractive(ctx context.Context) error {
	cfg := &readline.Config{
		Prompt:                 "> ",
		HistoryFile:            r.o.HistoryFile,
		DisableAutoSaveHistory: true,
		AutoComplete:           &completer{rt: r.rt},
		InterruptPrompt:        "^C",
		EOFPrompt:              "",
		Stdout:                 r.o.Out,
		Stderr:                 r.o.Err,
	}
	if rc, ok := r.o.In.(io.ReadCloser); ok && r.o.In != os.Stdin {
		cfg.Stdin = rc
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return err
	}
	defer rl.Close()
	fmt.Fprintf(r.o.Out, "bohost REPL (Lua 5.1). ?name shows a function's doc, Tab completes, Ctrl-C cancels, Ctrl-D exits.\n")
	if _, ok := r.rt.L.GetGlobal("bo").(*glua.LTable); ok {
		fmt.Fprintf(r.o.Out, "bo is require \"bo\" (?bo lists it).\n")
	}
	var pending []string
	for {
		if len(pending) == 0 {
			rl.SetPrompt("> ")
		} else {
			rl.SetPrompt(">> ")
		}
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			pending = nil // Ctrl-C at the prompt drops the pending chunk
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			fmt.Fprintln(r.o.Out)
			return nil
		}
		if strings.TrimSpace(line) != "" {
			rl.SaveHistory(line) // every physical line, so a multi-line chunk can be recalled line by line
		}
		pending = append(pending, line)
		r.step(ctx, &pending)
	}
}

// step tries to run the pending lines. It returns true when more lines are
// needed; otherwise it clears pending.
func (r *REPL) step(ctx context.Context, pending *[]string) bool {
	src := strings.Join(*pending, "\n")
	trim := strings.TrimSpace(src)
	if trim == "" {
		*pending = nil
		return false
	}
	if len(*pending) == 1 && strings.HasPrefix(trim, "?") {
		*pending = nil
		r.help(strings.TrimSpace(trim[1:]))
		return false
	}
	silent := strings.HasSuffix(trim, ";")
	fn, err := r.rt.L.Load(strings.NewReader("return "+strings.TrimSuffix(trim, ";")), "stdin")
	if err != nil {
		fn, err = r.rt.L.Load(strings.NewReader(src), "stdin")
		if err != nil {
			if incomplete(err) {
				return true
			}
			*pending = nil
			r.failed++
			fmt.Fprintf(r.o.Err, "%s\n", fromAPIError(err).Error())
			return false
		}
	}
	*pending = nil
	r.run(ctx, fn, silent)
	return false
}

func incomplete(err error) bool {
	var ae *glua.ApiError
	if errors.As(err, &ae) {
		var pe *parse.Error
		if errors.As(ae.Cause, &pe) {
			return pe.Pos.Line == parse.EOF
		}
		return strings.Contains(ae.Error(), "at EOF")
	}
	return false
}

func (r *REPL) run(ctx context.Context, fn *glua.LFunction, silent bool) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sigs := r.o.Interrupts
	if sigs == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		defer signal.Stop(ch)
		sigs = ch
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			cancel(errors.New("Ctrl-C"))
		case <-done:
		}
	}()
	start := time.Now()
	vals, err := r.rt.Call(cctx, fn)
	if err != nil {
		r.failed++
		se := fromAPIError(err)
		fmt.Fprintf(r.o.Err, "%s\n", se.Error())
		if se.Traceback != "" && se.Kind != "canceled" {
			fmt.Fprintf(r.o.Err, "%s\n", se.Traceback)
		}
		return
	}
	if !silent && len(vals) > 0 {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = Inspect(r.rt.L, v, 3)
		}
		fmt.Fprintln(r.o.Out, strings.Join(parts, "\t"))
	}
	if r.o.Time && r.o.Interactive {
		if d := time.Since(start); d > 500*time.Millisecond {
			fmt.Fprintf(r.o.Err, "(%.2fs)\n", d.Seconds())
		}
	}
}

func (r *REPL) help(name string) {
	if name == "" {
		mods := append(r.rt.LuaModuleNames(), r.rt.ModuleNames()...)
		fmt.Fprintf(r.o.Out, "modules: %s\n?name shows the doc of a function, e.g. ?bo.run or ?mem.stats; Tab completes names\n", strings.Join(mods, ", "))
		return
	}
	if d, ok := r.rt.LookupDoc(name); ok {
		fmt.Fprint(r.o.Out, FormatDoc(d))
		return
	}
	if mod, ok := r.rt.HelpModule(name); ok {
		fmt.Fprintf(r.o.Out, "%s:\n", mod)
		for _, d := range r.rt.ModuleDocs(mod) {
			fmt.Fprintf(r.o.Out, "  %s\n", d.Sig)
		}
		return
	}
	var near []string
	for _, d := range r.rt.Docs() {
		if strings.Contains(d.Name, name) {
			near = append(near, d.Name)
		}
	}
	if len(near) > 0 && len(near) < 20 {
		fmt.Fprintf(r.o.Out, "no doc for %q; matching: %s\n", name, strings.Join(near, ", "))
		return
	}
	fmt.Fprintf(r.o.Out, "no doc for %q\n", name)
}

// FormatDoc renders one doc as ?name and bohost help NAME show it: the
// signature, the description indented, and the details below it.
func FormatDoc(d Doc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  %s\n", d.Sig, d.Desc)
	if d.More != "" {
		for _, l := range strings.Split(d.More, "\n") {
			if l == "" {
				b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// Inspect renders a value for the REPL: strings quoted inside tables,
// userdata through __tostring, tables to the given depth.
func Inspect(L *glua.LState, v glua.LValue, depth int) string {
	var b strings.Builder
	inspect(L, &b, v, depth, false)
	return b.String()
}

func inspect(L *glua.LState, b *strings.Builder, v glua.LValue, depth int, nested bool) {
	switch x := v.(type) {
	case glua.LString:
		if nested {
			b.WriteString(strconv.Quote(string(x)))
		} else {
			b.WriteString(string(x))
		}
	case *glua.LTable:
		if mt, ok := L.GetMetatable(x).(*glua.LTable); ok && mt.RawGetString("__tostring") != glua.LNil {
			b.WriteString(L.ToStringMeta(x).String())
			return
		}
		if depth <= 0 {
			b.WriteString("{...}")
			return
		}
		b.WriteString("{")
		n := x.Len()
		count := 0
		for i := 1; i <= n; i++ {
			if count > 0 {
				b.WriteString(", ")
			}
			if count >= 20 {
				fmt.Fprintf(b, "... (%d items)", n)
				break
			}
			inspect(L, b, x.RawGetInt(i), depth-1, true)
			count++
		}
		keys := []string{}
		other := map[string]glua.LValue{}
		x.ForEach(func(k, val glua.LValue) {
			if kn, ok := k.(glua.LNumber); ok && float64(kn) >= 1 && float64(kn) <= float64(n) && float64(kn) == float64(int(kn)) {
				return
			}
			ks := k.String()
			if _, ok := k.(glua.LString); !ok {
				ks = "[" + ks + "]"
			}
			keys = append(keys, ks)
			other[ks] = val
		})
		sort.Strings(keys)
		for i, k := range keys {
			if count > 0 {
				b.WriteString(", ")
			}
			if i >= 30 {
				fmt.Fprintf(b, "... (%d keys)", len(keys))
				break
			}
			b.WriteString(k)
			b.WriteString(" = ")
			inspect(L, b, other[k], depth-1, true)
			count++
		}
		b.WriteString("}")
	default:
		b.WriteString(L.ToStringMeta(v).String())
	}
}

// completer completes globals, module members (t.field) and methods of
// userdata (obj:method). A module's table offers its documented members
// too, so bo. offers bo.mem before bo.mem was first used.
type completer struct{ rt *Runtime }

// Complete returns the completions of the word before the end of line, as
// whole words ("bo.args", "opt:ask"): what Tab offers there.
func (r *REPL) Complete(line string) []string {
	c := &completer{rt: r.rt}
	word := lastWord(line)
	sep := strings.LastIndexAny(word, ".:")
	var out []string
	for _, cand := range c.candidates(word) {
		out = append(out, word[:sep+1]+cand)
	}
	return out
}

func lastWord(s string) string {
	i := len(s)
	for i > 0 {
		ch := s[i-1]
		if ch == '_' || ch == '.' || ch == ':' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			i--
			continue
		}
		break
	}
	return s[i:]
}

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	word := lastWord(string(line[:pos]))
	cands := c.candidates(word)
	out := make([][]rune, 0, len(cands))
	sep := strings.LastIndexAny(word, ".:")
	prefix := word[sep+1:]
	for _, cand := range cands {
		out = append(out, []rune(cand[len(prefix):]))
	}
	return out, len([]rune(prefix))
}

func (c *completer) candidates(word string) []string {
	L := c.rt.L
	sep := strings.LastIndexAny(word, ".:")
	var keys []string
	if sep < 0 {
		keys = tableKeys(L.Get(glua.GlobalsIndex).(*glua.LTable))
		keys = append(keys, "require", "local", "function", "return", "while", "repeat", "until", "then", "else", "elseif", "end")
	} else {
		base := c.resolve(word[:sep])
		if base == nil {
			return nil
		}
		if word[sep] == ':' {
			if ud, ok := base.(*glua.LUserData); ok {
				if mt, ok := ud.Metatable.(*glua.LTable); ok {
					if m, ok := mt.RawGetString("methods").(*glua.LTable); ok {
						keys = tableKeys(m)
					}
				}
			}
		} else if t, ok := base.(*glua.LTable); ok {
			keys = tableKeys(t)
			if mod := c.moduleOf(t); mod != "" {
				c.rt.LoadAll()
				keys = append(keys, c.rt.members(mod)...)
			}
		}
	}
	prefix := word[sep+1:]
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// loaded is package.loaded.
func (c *completer) loaded() *glua.LTable {
	L := c.rt.L
	t, _ := L.GetField(L.GetField(L.Get(glua.GlobalsIndex), "package"), "loaded").(*glua.LTable)
	return t
}

// moduleOf names the module whose table t is ("bo", "bohost.mem"), or "".
func (c *completer) moduleOf(t *glua.LTable) string {
	loaded := c.loaded()
	if loaded == nil {
		return ""
	}
	name := ""
	loaded.ForEach(func(k, v glua.LValue) {
		if ks, ok := k.(glua.LString); ok && v == t && name == "" {
			name = string(ks)
		}
	})
	return name
}

func (c *completer) resolve(path string) glua.LValue {
	L := c.rt.L
	var cur glua.LValue = L.Get(glua.GlobalsIndex)
	for i, p := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == ':' }) {
		t, ok := cur.(*glua.LTable)
		if !ok {
			return nil
		}
		cur = t.RawGetString(p)
		if cur != glua.LNil {
			continue
		}
		loaded := c.loaded()
		if loaded == nil {
			return nil
		}
		if i == 0 { // a module not assigned to a global: bo.<Tab> before bo = require "bo"
			cur = loaded.RawGetString(p)
		} else if mod := c.moduleOf(t); mod != "" {
			// a documented member not loaded yet, such as bo.mem (bo.MODULE)
			c.rt.LoadAll()
			if d, ok := c.rt.templated(mod + "." + p); ok && d.Module == mod {
				cur = loaded.RawGetString("bohost." + p)
			}
		}
		if cur == glua.LNil {
			return nil
		}
	}
	return cur
}

func tableKeys(t *glua.LTable) []string {
	var out []string
	t.ForEach(func(k, _ glua.LValue) {
		if s, ok := k.(glua.LString); ok {
			out = append(out, string(s))
		}
	})
	return out
}
