package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"bohost/host/report"
)

func init() {
	register(&Command{
		Name:    "report",
		Summary: "Draw thesis-ready figures and tables (convergence, risk-return trade-off, per-image score distributions, parameter traces, overlays, memory) from run or sweep directories alone. Incomplete or crashed runs still contribute what they have; what is missing is listed.",
		Usage:   "bohost report SWEEP_DIR... [--out DIR] [--format png,svg,pdf] [--band std|minmax]",
		Run:     reportMain,
	})
}

func reportMain(env *Env, args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "output directory (default: FIRST_DIR/report)")
	format := fs.String("format", "png,svg", "comma-separated formats: png, svg, pdf")
	band := fs.String("band", "std", "spread over seeds: std or minmax")
	var dirs []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return usageError(env, "report: %v (usage: bohost report SWEEP_DIR... [--out DIR] [--format png,svg,pdf])", err)
		}
		rest = fs.Args()
		if len(rest) > 0 {
			dirs = append(dirs, rest[0])
			rest = rest[1:]
		}
	}
	if len(dirs) == 0 {
		return usageError(env, "report: give at least one run or sweep directory")
	}
	var formats []string
	for _, f := range strings.Split(*format, ",") {
		if f = strings.TrimSpace(f); f != "" {
			formats = append(formats, f)
		}
	}
	ctx, got, stop := commandContext(env)
	defer stop()
	res, err := report.Generate(ctx, dirs, report.Options{Out: *out, Formats: formats, Band: *band})
	if s := got(); s != nil {
		return interrupted(env, "report", s, "; the report directory may be incomplete (run bohost report again)")
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "bohost: report: %v\n", err)
		return ExitScriptError
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w.String())
	}
	fmt.Fprintf(env.Stdout, "report: %d runs, %d alphas, %d files written to %s\n", len(res.Runs), len(res.Alphas), len(res.Files), res.Out)
	if res.Headline != "" {
		fmt.Fprintln(env.Stdout, res.Headline)
	}
	fmt.Fprintf(env.Stdout, "open %s/summary.md first; figures: holdout, holdout_diff, convergence, tradeoff, scores, params, runs/*/system and overlays\n", res.Out)
	return ExitOK
}
