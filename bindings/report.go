package bindings

import (
	"fmt"
	"image/color"
	"math"

	"bohost/host/errs"
	"bohost/host/imgbuf"
	"bohost/host/lua"
	"bohost/host/report"

	glua "github.com/yuin/gopher-lua"
)

// Report is bohost.report: the figures of bohost report, and the helpers
// behind them for scripts that draw their own (line, band, box, scatter,
// image overlay).
type Report struct{}

const figureType = "bohost.report.Figure"

func (Report) Name() string { return "bohost.report" }

func (Report) Open(rt *lua.Runtime) *glua.LTable {
	series := func(name string, draw func(f *report.Figure, L *glua.LState, label string)) lua.Func {
		return lua.Func{Name: name, Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*report.Figure](L, 1, "Figure:"+name, figureType)
			draw(f, L, L.CheckString(2))
			if err := f.Err(); err != nil {
				return lua.Raise(L, "Figure:"+name, err)
			}
			L.Push(L.Get(1))
			return 1
		}}
	}
	floats := func(L *glua.LState, n int, what string) []float64 {
		xs, err := lua.ToFloats(L.Get(n), what)
		if err != nil {
			lua.Raise(L, "report", err)
		}
		return xs
	}
	line := series("line", func(f *report.Figure, L *glua.LState, s string) { f.Line(s, floats(L, 3, "x"), floats(L, 4, "y")) })
	line.Sig, line.Desc = "fig:line(name, x, y) -> fig", "a named line"
	band := series("band", func(f *report.Figure, L *glua.LState, s string) {
		f.Band(s, floats(L, 3, "x"), floats(L, 4, "lo"), floats(L, 5, "hi"))
	})
	band.Sig, band.Desc = "fig:band(name, x, lo, hi) -> fig", "a shaded band between lo and hi (same colour as the line of that name)"
	scatter := series("scatter", func(f *report.Figure, L *glua.LState, s string) { f.Scatter(s, floats(L, 3, "x"), floats(L, 4, "y")) })
	scatter.Sig, scatter.Desc = "fig:scatter(name, x, y) -> fig", "named scatter points"
	box := series("box", func(f *report.Figure, L *glua.LState, s string) { f.Box(s, floats(L, 3, "values")) })
	box.Sig, box.Desc = "fig:box(name, values) -> fig", "a box plot of values; the i-th box sits at x = i"
	vline := series("vline", func(f *report.Figure, L *glua.LState, s string) { f.VLine(s, float64(L.CheckNumber(3))) })
	vline.Sig, vline.Desc = "fig:vline(name, x) -> fig", "a vertical marker line (e.g. a worker death)"
	segments := series("segments", func(f *report.Figure, L *glua.LState, s string) { f.Segments(s, segmentsArg(L, 3)) })
	segments.Sig, segments.Desc = "fig:segments(name, {{x1,y1,x2,y2}, ...}) -> fig", "line segments over an image figure"

	rt.NewType(figureType, "Figure", []lua.Func{line, band, scatter, box, vline, segments,
		{Name: "color", Sig: "fig:color(name, \"#rrggbb\") -> fig", Desc: "sets a series' colour", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*report.Figure](L, 1, "Figure:color", figureType)
			c, err := parseColor(L.CheckString(3))
			if err != nil {
				return lua.Raise(L, "Figure:color", err)
			}
			f.SetColor(L.CheckString(2), c)
			L.Push(L.Get(1))
			return 1
		}},
		{Name: "range", Sig: "fig:range(xmin, xmax [, ymin, ymax]) -> fig", Desc: "fixes axis ranges (nil: from the data)", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*report.Figure](L, 1, "Figure:range", figureType)
			num := func(i int) float64 {
				if v, ok := L.Get(i).(glua.LNumber); ok {
					return float64(v)
				}
				return math.NaN()
			}
			f.SetXRange(num(2), num(3))
			f.SetYRange(num(4), num(5))
			L.Push(L.Get(1))
			return 1
		}},
		{Name: "label", Sig: "fig:label(x, y, text) -> fig", Desc: "a text label at (x, y)", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*report.Figure](L, 1, "Figure:label", figureType)
			f.Label(float64(L.CheckNumber(2)), float64(L.CheckNumber(3)), L.CheckString(4))
			L.Push(L.Get(1))
			return 1
		}},
		{Name: "save", Sig: "fig:save(path [, width_in=6, height_in=4]) -> path", Desc: "writes the figure; the format follows the extension (.png, .svg, .pdf)", Fn: func(L *glua.LState) int {
			f := lua.CheckObject[*report.Figure](L, 1, "Figure:save", figureType)
			p := L.CheckString(2)
			if err := f.SaveInches(p, float64(L.OptNumber(3, 6)), float64(L.OptNumber(4, 4))); err != nil {
				return lua.Raise(L, "Figure:save", err)
			}
			L.Push(glua.LString(p))
			return 1
		}},
	}, func(v any) string { return "bohost.report.Figure" })

	return rt.Funcs("report", []lua.Func{
		{Name: "figure", Sig: "report.figure{title=, xlabel=, ylabel=} -> fig", Desc: "a new figure for lines, bands, boxes and scatter points", Fn: func(L *glua.LState) int {
			o := lua.CheckOpts(L, 1, "report.figure", "title", "xlabel", "ylabel")
			L.Push(lua.NewObject(L, figureType, report.NewFigure(o.String("title", ""), o.String("xlabel", ""), o.String("ylabel", ""))))
			return 1
		}},
		{Name: "image", Sig: "report.image(path [, title]) -> fig", Desc: "a figure showing an image, to draw segments over", Fn: func(L *glua.LState) int {
			img, err := report.LoadImage(L.CheckString(1))
			if err != nil {
				return lua.Raise(L, "report.image", err)
			}
			L.Push(lua.NewObject(L, figureType, report.NewImageFigure(L.OptString(2, ""), img)))
			return 1
		}},
		{Name: "overlay", Sig: "report.overlay(image_path, {name = segments, ...}, out [, title])", Desc: "draws named sets of segments over an image and saves it", Fn: func(L *glua.LState) int {
			sets := map[string][]imgbuf.Segment{}
			t := L.CheckTable(2)
			t.ForEach(func(k, v glua.LValue) {
				L.Push(v)
				sets[k.String()] = segmentsArg(L, L.GetTop())
				L.Pop(1)
			})
			var err error
			if title := L.OptString(4, ""); title != "" {
				err = report.OverlayTitled(L.CheckString(1), title, sets, L.CheckString(3))
			} else {
				err = report.Overlay(L.CheckString(1), sets, L.CheckString(3))
			}
			if err != nil {
				return lua.Raise(L, "report.overlay", err)
			}
			return 0
		}},
		{Name: "generate", Sig: "report.generate(dirs, {out=, format={\"png\",\"svg\"}, band=\"std\"}) -> {out=, files=, warnings=, headline=}", Desc: "the whole bohost report from run or sweep directories", Fn: func(L *glua.LState) int {
			var dirs []string
			switch v := L.Get(1).(type) {
			case glua.LString:
				dirs = []string{string(v)}
			case *glua.LTable:
				for i := 1; i <= v.Len(); i++ {
					dirs = append(dirs, v.RawGetInt(i).String())
				}
			default:
				return lua.ArgError(L, "report.generate", 1, "a directory or a list of directories expected, got %s", lua.TypeName(v))
			}
			o := lua.CheckOpts(L, 2, "report.generate", "out", "format", "band")
			opts := report.Options{Out: o.String("out", ""), Band: o.String("band", "std")}
			if ft := o.Table("format"); ft != nil {
				for i := 1; i <= ft.Len(); i++ {
					opts.Formats = append(opts.Formats, ft.RawGetInt(i).String())
				}
			}
			res, err := report.Generate(luaCtx(L), dirs, opts)
			if err != nil {
				return lua.Raise(L, "report.generate", err)
			}
			var warns []string
			for _, w := range res.Warnings {
				warns = append(warns, w.String())
			}
			out := map[string]any{"out": res.Out, "files": res.Files, "warnings": warns}
			if res.Headline != "" {
				out["headline"] = res.Headline // the plain sentence at the top of summary.md
			}
			L.Push(lua.FromGo(L, out))
			return 1
		}},
	})
}

func segmentsArg(L *glua.LState, n int) []imgbuf.Segment {
	m, err := lua.ToMatrix(L.Get(n), "segments")
	if err != nil {
		lua.Raise(L, "report", err)
	}
	out := make([]imgbuf.Segment, len(m))
	for i, r := range m {
		if len(r) != 4 {
			lua.Raisef(L, errs.BadArg, "report", "segments[%d] must be {x1, y1, x2, y2}, got %d values", i+1, len(r))
		}
		out[i] = imgbuf.Segment{X1: r[0], Y1: r[1], X2: r[2], Y2: r[3]}
	}
	return out
}

func parseColor(s string) (color.Color, error) {
	var r, g, b uint8
	if len(s) == 7 && s[0] == '#' {
		if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err == nil {
			return color.RGBA{r, g, b, 255}, nil
		}
	}
	return nil, errs.New(errs.BadArg, "", "colour must be \"#rrggbb\", got %q", s)
}
