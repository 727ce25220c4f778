package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"bohost/host/dataset"
	"bohost/host/errs"
)

// `bohost data weld --out DIR [--n 40] [--width 3264] [--height 2448]
// [--seed 1] [--format jpeg|png] [--quality 92]`: a generated weld set in
// the welding study's label format (dataset.WriteWeldSet).
func init() {
	register(&Command{
		Name:    "data",
		Summary: "Write a data set to files. data weld: N weld scenes (the weld scene generator, synth-weld-v1) as JPEG or PNG images plus ground_truth.json in the welding study's label format (12 coordinates per stem, some labels partial or empty, as OpenLabels and --data read them) and weld_set.json describing them; deterministic from (seed, index, size).",
		Usage:   "bohost data weld --out DIR [--n 40] [--width 3264] [--height 2448] [--seed 1] [--format jpeg|png] [--quality 92]",
		Run:     dataMain,
	})
}

func dataMain(env *Env, args []string) int {
	const usage = "usage: bohost data weld --out DIR [--n 40] [--width 3264] [--height 2448] [--seed 1] [--format jpeg|png] [--quality 92]"
	if len(args) == 0 || args[0] != "weld" {
		what := "no data set kind"
		if len(args) > 0 {
			what = fmt.Sprintf("unknown data set kind %q", args[0])
		}
		return usageError(env, "data: %s (%s)", what, usage)
	}
	fs := flag.NewFlagSet("data weld", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "output directory")
	n := fs.Int("n", dataset.DefaultWeldSetN, "number of images")
	width := fs.Int("width", dataset.DefaultWeldSetWidth, "image width")
	height := fs.Int("height", dataset.DefaultWeldSetHeight, "image height")
	seed := fs.Uint64("seed", 1, "generator seed")
	format := fs.String("format", "jpeg", "jpeg or png")
	quality := fs.Int("quality", 0, "JPEG quality (default 92)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(env, "data weld: %v (%s)", err, usage)
	}
	if fs.NArg() > 0 {
		return usageError(env, "data weld: unexpected argument %q (%s)", fs.Arg(0), usage)
	}
	if *out == "" {
		return usageError(env, "data weld: --out DIR is required (%s)", usage)
	}
	o := dataset.WeldSetOptions{N: *n, Width: *width, Height: *height, Seed: *seed, Format: strings.ToLower(*format), Quality: *quality}
	if err := o.Validate(); err != nil {
		msg := err.Error()
		if e, ok := err.(*errs.Error); ok {
			msg = "--" + e.Msg // "n must be in ..." names the flag
		}
		return usageError(env, "data weld: %s", msg)
	}
	o.Progress = func(done, total int) {
		fmt.Fprintf(env.Stderr, "\rdata weld: %d/%d images", done, total)
		if done == total {
			fmt.Fprintln(env.Stderr)
		}
	}
	ctx, got, stop := commandContext(env)
	defer stop()
	sum, err := dataset.WriteWeldSet(ctx, *out, o)
	if s := got(); s != nil {
		return interrupted(env, "data weld", s, "; no label file was written (run it again)")
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "bohost: data weld: %v\n", err)
		return ExitScriptError
	}
	lf := filepath.Join(*out, dataset.WeldLabelFile)
	fmt.Fprintf(env.Stdout, "data weld: %d images of %dx%d (%s) in %s; labels: %d complete, %d partial, %d empty (excluded when read)\n",
		len(sum.Labels), sum.Options.Width, sum.Options.Height, sum.Options.Format, filepath.Join(*out, "images"), sum.Complete, sum.Partial, sum.Empty)
	fmt.Fprintf(env.Stdout, "label file: %s (use it as --data %s, or airline.dataset{labels = %q})\n", lf, lf, lf)
	return ExitOK
}
