package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"bohost/host/report"
)

// costRun is one -costcsv file: its label and rows (n, CPU s, fit and
// acquisition wall s, peak RSS MB) in file order.
type costRun struct {
	label              string
	q                  int // proposals per iteration (label suffix "/q")
	n                  []float64
	cpu, fit, acq, hwm []float64
}

// readCost reads a -costcsv file written by -costevery.
func readCost(path, label string) (costRun, error) {
	r := costRun{label: label, q: 1}
	if i := strings.LastIndex(label, "/"); i >= 0 {
		q, err := strconv.Atoi(label[i+1:])
		if err != nil || q < 1 {
			return r, fmt.Errorf("-costplot label %q: the part after / must be the proposals per iteration", label)
		}
		r.label, r.q = label[:i], q
	}
	f, err := os.Open(path)
	if err != nil {
		return r, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 || len(recs[0]) != len(costHeader) {
		return r, fmt.Errorf("%s: not a -costcsv file", path)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, rec := range recs[1:] {
		v := func(h string) float64 { x, _ := strconv.ParseFloat(rec[col[h]], 64); return x }
		r.n = append(r.n, v("n_train"))
		r.cpu = append(r.cpu, v("cpu_s"))
		r.fit = append(r.fit, v("fit_wall_s"))
		r.acq = append(r.acq, v("acq_wall_s"))
		r.hwm = append(r.hwm, v("hwm_mb"))
	}
	return r, nil
}

// costPlot reads the -costcsv files of spec ("FILE=LABEL[/q],..."), prints
// the cost-vs-n table at the n's of at (the row with the nearest n) and,
// when fig is not empty, writes the figure (CPU s per iteration on a log
// scale, and peak RSS, against n).
func costPlot(spec, at, fig string) error {
	var runs []costRun
	for _, part := range strings.Split(spec, ",") {
		file, label, ok := strings.Cut(part, "=")
		if !ok {
			label = file
		}
		r, err := readCost(file, label)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	var targets []float64
	for _, s := range strings.Split(at, ",") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("-costat: %w", err)
		}
		targets = append(targets, v)
	}
	fmt.Println("| run | n | CPU s / iteration | per proposal | fit wall s | acq wall s | peak RSS MB |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range runs {
		for _, t := range targets {
			best := -1
			for i, n := range r.n {
				if best < 0 || math.Abs(n-t) < math.Abs(r.n[best]-t) {
					best = i
				}
			}
			if best < 0 {
				continue
			}
			fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %.0f |\n", r.label, r.n[best], g3(r.cpu[best]),
				g3(r.cpu[best]/float64(r.q)), g3(r.fit[best]), g3(r.acq[best]), r.hwm[best])
		}
	}
	if fig == "" {
		return nil
	}
	cpu := report.NewFigure("CPU per BO iteration (log scale)", "training points n = x's × n_w", "log10 CPU s per iteration")
	mem := report.NewFigure("Peak RSS of the process", "training points n = x's × n_w", "peak RSS (MB)")
	dash := []vg.Length{vg.Points(4), vg.Points(3)}
	for _, f := range []*report.Figure{cpu, mem} {
		for _, t := range []string{"target (5 s)", "target (100 MB)"} {
			f.SetColor(t, report.Gray)
			f.SetDashes(t, dash)
		}
		f.SetXRange(0, 1700)
	}
	for _, r := range runs {
		lc := make([]float64, len(r.cpu))
		for i, c := range r.cpu {
			lc[i] = math.Log10(math.Max(c, 1e-3))
		}
		cpu.Line(r.label, r.n, lc)
		mem.Line(r.label, r.n, r.hwm)
	}
	cpu.Line("target (5 s)", []float64{0, 1700}, []float64{math.Log10(5), math.Log10(5)})
	mem.Line("target (100 MB)", []float64{0, 1700}, []float64{100, 100})
	return report.SaveGrid(fig, 9*vg.Inch, 4*vg.Inch, "", 2, cpu, mem)
}
