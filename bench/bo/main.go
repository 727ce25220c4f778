// Command bo benchmarks bohost's risk-averse BO engine (host/bo) on the
// problems of ../shared/anchors/botorch and prints Markdown tables comparable
// with the anchors' summary.md.
//
//	go run ./bench/bo -problem hart6 -kernel rbf -prior gamma -acq qlognei,sobol -nw 16,3 -alpha 0.1,0.3,0.5 -seeds 5 -iters 30
//	go run ./bench/bo -problem tutorial -kernel rbf -prior gamma -acq rho_kg -seeds 3 -iters 40
//
// -alpha is in the convention of -conv: BoTorch's (confidence level, the
// anchors' convention: 0.1 averages the worst 90 %) or bohost's (the tail
// fraction: 0.1 averages the worst 10 %). CPU seconds are process CPU time
// (getrusage) around each ask, so they are per-run figures only with
// -parallel 1; the fit/acquisition split of that CPU time follows the ratio
// of the wall times bo.Diagnostics reports (exact with GOMAXPROCS=1).
//
// -csv FILE appends one row per run; -table FILE,FILE,... reads such rows
// and prints the summary tables with BoTorch's reference numbers beside
// (run each grid cell as its own process so that the peak RSS column, the
// process's VmHWM, is per cell).
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"bohost/host/acq"
	"bohost/host/bo"
	"bohost/host/gp"
	"bohost/host/problems"
	"bohost/host/risk"
)

type spec struct {
	problem string
	acq     string
	nw      int
	alpha   float64 // in conv's convention
	conv    risk.Convention
	seed    int
	mode    string
}

type result struct {
	spec
	iters    int
	regret   map[int]float64
	final    float64
	dist     float64
	peak     string
	cpuPerIt float64
	cpuFit   float64
	cpuAcq   float64
	fitWall  float64
	acqWall  float64
	wall     float64
	nTrain   int
	acqZero  int
	rss      float64
	recX     []float64
	err      error
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}

func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// vmRSS returns the process's current resident set (VmRSS, MB).
func vmRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// costHeader is the header of -costcsv: one row per reported iteration.
var costHeader = []string{"problem", "acq", "n_w", "alpha", "seed", "design", "iter", "n_train",
	"cpu_s", "fit_wall_s", "acq_wall_s", "rss_mb", "hwm_mb", "go_heap_mb"}

// reportCost prints (and appends to -costcsv) the cost of iteration it.
func reportCost(s spec, it, n int, cpu float64, d bo.Diagnostics) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, hwm, heap := vmRSS(), vmHWM(), float64(ms.HeapAlloc)/(1<<20)
	fmt.Fprintf(os.Stderr, "cost %s nw=%d a=%g seed=%d it=%d n=%d cpu=%.3fs fit=%.3fs acq=%.3fs rss=%.0fMB hwm=%.0fMB heap=%.0fMB\n",
		s.acq, s.nw, s.alpha, s.seed, it, n, cpu, d.FitSeconds, d.AcqSeconds, rss, hwm, heap)
	if *costCSV == "" {
		return
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	row := []string{s.problem, s.acq, strconv.Itoa(s.nw), f(s.alpha), strconv.Itoa(s.seed), *design, strconv.Itoa(it),
		strconv.Itoa(n), f(cpu), f(d.FitSeconds), f(d.AcqSeconds), f(rss), f(hwm), f(heap)}
	costMu.Lock()
	defer costMu.Unlock()
	if err := appendCSVWith(*costCSV, costHeader, row); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

var costMu sync.Mutex

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// nominal Hartmann-6 optimum (the trap)
var h6Nominal = []float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}

func run(ctx context.Context, prob problems.Problem, s spec, nInit, iters int, checkpoints map[int]bool) result {
	r := result{spec: s, iters: iters, regret: map[int]float64{}}
	space := make([][2]float64, prob.DimX)
	for i := range space {
		space[i] = [2]float64{0, 1}
	}
	wb := make([][2]float64, prob.DimW)
	for i := range wb {
		wb[i] = [2]float64{0, 1}
	}
	cfg := bo.Config{Space: space, Env: bo.Env{Bounds: wb}, Alpha: s.alpha, Convention: s.conv, NW: s.nw,
		Acquisition: s.acq, Mode: s.mode, NInitial: nInit, Seed: uint64(s.seed), Design: *design,
		Optim: acq.OptimOptions{Workers: 1, RawSamples: *rawSamples, Restarts: *restarts, Boltzmann: *boltz}, GP: gpOpts(),
		UCBBeta: *ucbBeta, RecommendFrom: *recFrom, RecommendNW: *recNW, HyperSamples: *hyperS}
	if s.problem == "tutorial" {
		cfg.Env.Select = bo.SelectSobolFresh
	}
	o, err := bo.New(cfg)
	if err != nil {
		r.err = err
		return r
	}
	best, ok := problems.BestTrueCVaR(s.problem, s.alpha, s.conv)
	if !ok {
		r.err = fmt.Errorf("no best true CVaR stored for %s alpha %g (%s)", s.problem, s.alpha, s.conv)
		return r
	}
	xstar, _ := problems.BestTrueX(s.problem, s.alpha, s.conv)
	grid := problems.GridPerDim(s.problem)
	t0 := time.Now()
	var cpu float64
	evalAll := func(c []bo.Candidate) {
		if *trace && len(c) > 0 && xstar != nil {
			seen := map[string]bool{}
			for _, cand := range c {
				if k := fmt.Sprint(cand.X); !seen[k] {
					seen[k] = true
					g := best - problems.TrueCVaR(prob, cand.X, s.alpha, s.conv, grid)
					fmt.Fprintf(os.Stderr, "trace seed=%d n=%d regret %.3f dR %.2f dN %.2f\n", s.seed, len(o.Observations()), g, dist(cand.X, xstar), dist(cand.X, h6Nominal))
				}
			}
		}
		for _, cand := range c {
			_ = o.Tell(cand, prob.F(cand.X, cand.W))
		}
	}
	c, _ := o.Ask(ctx)
	evalAll(c)
	recAt := func(it int) {
		rec, err := o.Recommend(ctx)
		if err != nil {
			r.err = err
			return
		}
		tc := problems.TrueCVaR(prob, rec.X, s.alpha, s.conv, grid)
		r.regret[it] = best - tc
		r.recX = rec.X
	}
	recAt(0)
	for it := 1; it <= iters; it++ {
		c0 := cpuSeconds()
		var c []bo.Candidate
		if *batchQ > 1 {
			c, err = o.AskMore(ctx, *batchQ) // q proposals, each conditioned on the earlier ones
		} else {
			c, err = o.Ask(ctx)
		}
		dc := cpuSeconds() - c0
		cpu += dc
		if err != nil {
			r.err = err
			return r
		}
		d := o.Diagnostics()
		r.fitWall += d.FitSeconds
		r.acqWall += d.AcqSeconds
		if tw := d.FitSeconds + d.AcqSeconds; tw > 0 {
			r.cpuFit += dc * d.FitSeconds / tw
			r.cpuAcq += dc * d.AcqSeconds / tw
		} else {
			r.cpuAcq += dc
		}
		if d.AcqValue == 0 || (s.acq == "qlognei" && d.AcqValue < -600) {
			r.acqZero++
		}
		if *costEvery > 0 && (it%*costEvery == 0 || it == 1 || it == iters) {
			reportCost(s, it, d.NTrain, dc, d)
		}
		evalAll(c)
		if checkpoints[it] {
			recAt(it)
		}
	}
	r.wall = time.Since(t0).Seconds()
	fi := float64(iters)
	r.cpuPerIt, r.cpuFit, r.cpuAcq = cpu/fi, r.cpuFit/fi, r.cpuAcq/fi
	r.fitWall /= fi
	r.acqWall /= fi
	r.final = r.regret[iters]
	r.nTrain = len(o.Observations())
	if *oracle {
		bestEv, bestX := math.Inf(1), []float64(nil)
		seen := map[string]bool{}
		for _, ob := range o.Observations() {
			k := fmt.Sprint(ob.X)
			if seen[k] {
				continue
			}
			seen[k] = true
			if g := best - problems.TrueCVaR(prob, ob.X, s.alpha, s.conv, grid); g < bestEv {
				bestEv, bestX = g, ob.X
			}
		}
		tag := "-"
		if xstar != nil && dist(bestX, xstar) < 0.15 {
			tag = "R"
		} else if s.problem == "hart6" && dist(bestX, h6Nominal) < 0.15 {
			tag = "N"
		}
		fmt.Fprintf(os.Stderr, "oracle %s nw=%d alpha=%g seed=%d: final %.4g, best evaluated %.4g %s\n", s.acq, s.nw, s.alpha, s.seed, r.regret[iters], bestEv, tag)
	}
	r.rss = vmHWM()
	if xstar != nil && r.recX != nil {
		r.dist = dist(r.recX, xstar)
		switch {
		case r.dist < 0.15:
			r.peak = "R"
		case s.problem == "hart6" && dist(r.recX, h6Nominal) < 0.15:
			r.peak = "N"
		default:
			r.peak = "-"
		}
	}
	return r
}

var (
	kernel = flag.String("kernel", "matern52", "GP kernel: matern52 (Gamma priors, BoTorch 0.11.3 as the anchors) or rbf (BoTorch >= 0.12)")
	prior  = flag.String("prior", "", "GP priors: dimscaled, gamma, none (default: the kernel's default)")

	rawSamples = flag.Int("raw", 0, "acquisition optimiser raw samples (0: default 128)")
	restarts   = flag.Int("restarts", 0, "acquisition optimiser restarts (0: default 10)")
	boltz      = flag.Bool("boltzmann", false, "pick the restarts by Boltzmann sampling (BoTorch's initialize_q_batch)")
	ucbBeta    = flag.Float64("beta", 0, "UCB multiplier of the sd (0: default 2)")
	hyperS     = flag.Int("hyper", 0, "average the acquisition over this many GP hyper-parameter posterior draws (0: MAP only)")
	recFrom    = flag.String("rec", "", "recommendation: evaluated | continuous (default: the mode's)")
	recNW      = flag.Int("recnw", 0, "w's of the recommendation's risk measure (0: the config default)")
	trace      = flag.Bool("trace", false, "print every evaluated x's true CVaR regret and distances to the robust and nominal optima (diagnostic)")
	design     = flag.String("design", bo.DesignBohost, "initial design and W set stream: bohost, or torch (BoTorch's draw_sobol_samples(seed=seed): seed s starts from the anchors' seed-s initial x's)")
	oracle     = flag.Bool("oracle", false, "also print, per run, the best true CVaR regret among the evaluated x's (diagnostic)")
	batchQ     = flag.Int("q", 1, "proposals per iteration (AskMore: each conditioned on the earlier ones as pending, all told together)")
	costEvery  = flag.Int("costevery", 0, "print CPU s, fit/acquisition wall s, RSS and peak RSS of iterations 1, k, 2k, ... and the last (0: off); with -parallel 1 only")
	costCSV    = flag.String("costcsv", "", "append the -costevery rows to this CSV file (cost vs n: go run ./bench/bo -costplot FILE=LABEL)")
)

func gpOpts() *gp.Options {
	o := gp.DefaultOptions()
	o.Restarts = 1
	o.Kernel = gp.Kernel(*kernel)
	o.Prior = gp.Prior(*prior)
	return &o
}

func meanSD(v []float64) (m, sd float64) {
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		sd += (x - m) * (x - m)
	}
	if len(v) > 1 {
		sd = math.Sqrt(sd / float64(len(v)-1))
	}
	return m, sd
}

func g3(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

var csvHeader = []string{"problem", "acq", "n_w", "alpha", "conv", "kernel", "prior", "seed", "iters", "n_train",
	"cpu_s_iter", "cpu_fit_s_iter", "cpu_acq_s_iter", "fit_wall_s_iter", "acq_wall_s_iter",
	"regret0", "regret10", "regret20", "regret_final", "peak", "dist_xstar", "acq_zero_iters", "peak_rss_mb", "wall_s",
	"design"}

func (r result) row() []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	return []string{r.problem, r.acq, strconv.Itoa(r.nw), f(r.alpha), string(r.conv), *kernel, *prior, strconv.Itoa(r.seed),
		strconv.Itoa(r.iters), strconv.Itoa(r.nTrain), f(r.cpuPerIt), f(r.cpuFit), f(r.cpuAcq), f(r.fitWall), f(r.acqWall),
		f(r.regret[0]), f(r.regret[10]), f(r.regret[20]), f(r.final), r.peak, f(r.dist), strconv.Itoa(r.acqZero), f(r.rss), f(r.wall),
		*design}
}

func main() {
	problem := flag.String("problem", "hart6", "hart6 | tutorial")
	acqs := flag.String("acq", "qlognei", "comma list: rho_kg,qlognei,qnei,ucb,ei,ts,random,sobol")
	nws := flag.String("nw", "16", "comma list of n_w")
	alphas := flag.String("alpha", "0.7", "comma list of alphas in the convention of -conv")
	convs := flag.String("conv", "botorch", "comma list: botorch (confidence level, the anchors') or bohost (tail fraction)")
	seeds := flag.Int("seeds", 5, "seeds seed0..seed0+seeds-1")
	seed0 := flag.Int("seed0", 0, "first seed")
	iters := flag.Int("iters", 30, "BO iterations")
	ninit := flag.Int("init", 0, "initial design (0: 5 for hart6, 8 for tutorial)")
	mode := flag.String("mode", "", "pair | all_w (default: all_w for hart6, pair for tutorial)")
	par := flag.Int("parallel", 1, "runs in parallel (CPU s/iter only meaningful with 1)")
	perSeed := flag.Bool("perseed", true, "print the per-seed table")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile (pprof) to this file")
	memProf := flag.String("memprofile", "", "write an allocation profile (pprof, allocs) to this file at the end")
	csvOut := flag.String("csv", "", "append one CSV row per run to this file")
	table := flag.String("table", "", "comma list of CSV files written by -csv: print the summary tables and exit")
	costSpec := flag.String("costplot", "", "FILE=LABEL[/q],...: -costcsv files to print the cost-vs-n table of (and plot with -costfig), then exit; /q: proposals per iteration")
	costAt := flag.String("costat", "224,448,896,1664", "n's of the -costplot table (the row with the nearest n)")
	costFig := flag.String("costfig", "", "with -costplot: write the cost-vs-n figure (.png, .svg or .pdf)")
	flag.Parse()
	if *costSpec != "" {
		if err := costPlot(*costSpec, *costAt, *costFig); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *table != "" {
		if err := printTables(strings.Split(*table, ",")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	var prob problems.Problem
	switch *problem {
	case "hart6":
		prob = problems.Hart6Env()
		if *ninit == 0 {
			*ninit = 5
		}
		if *mode == "" {
			*mode = bo.ModeAllW
		}
	case "tutorial":
		prob = problems.BraninTutorial()
		if *ninit == 0 {
			*ninit = 8
		}
		if *mode == "" {
			*mode = bo.ModePair
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown -problem", *problem)
		os.Exit(2)
	}
	var specs []spec
	for _, a := range strings.Split(*acqs, ",") {
		for _, n := range strings.Split(*nws, ",") {
			nw, _ := strconv.Atoi(n)
			for _, al := range strings.Split(*alphas, ",") {
				alpha, _ := strconv.ParseFloat(al, 64)
				for _, cv := range strings.Split(*convs, ",") {
					for sd := *seed0; sd < *seed0+*seeds; sd++ {
						specs = append(specs, spec{problem: *problem, acq: a, nw: nw, alpha: alpha, conv: risk.Convention(cv), seed: sd, mode: *mode})
					}
				}
			}
		}
	}
	checkpoints := map[int]bool{10: true, 20: true, *iters: true}
	results := make([]result, len(specs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, *par)
	ctx := context.Background()
	for i, s := range specs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = run(ctx, prob, s, *ninit, *iters, checkpoints)
			r := results[i]
			fmt.Fprintf(os.Stderr, "done %s nw=%d a=%g %s seed=%d final=%.4g peak=%s cpu/it=%.3f err=%v\n",
				s.acq, s.nw, s.alpha, s.conv, s.seed, r.final, r.peak, r.cpuPerIt, r.err)
			if *csvOut != "" && r.err == nil {
				mu.Lock()
				if err := appendCSV(*csvOut, r.row()); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if *memProf != "" {
		if f, err := os.Create(*memProf); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}

	fmt.Printf("### bohost %s (%s mode, %d init, %d iters, kernel %s, GOMAXPROCS=%d, parallel=%d)\n\n", *problem, *mode, *ninit, *iters, *kernel, runtime.GOMAXPROCS(0), *par)
	var rows [][]string
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintln(os.Stderr, "error:", r.err)
			continue
		}
		rows = append(rows, r.row())
	}
	summarize(rows, *perSeed)
}

func appendCSV(path string, row []string) error { return appendCSVWith(path, csvHeader, row) }

// appendCSVWith appends row to the CSV file path, writing header first when
// the file is new.
func appendCSVWith(path string, header, row []string) error {
	_, err := os.Stat(path)
	isNew := os.IsNotExist(err)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if isNew {
		_ = w.Write(header)
	}
	_ = w.Write(row)
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printTables(files []string) error {
	var rows [][]string
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			return err
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", fn, err)
		}
		for _, r := range recs {
			if len(r) == len(csvHeader)-1 && r[0] != "problem" {
				r = append(r, bo.DesignBohost) // written before the design column existed
			}
			if len(r) == len(csvHeader) && r[0] != "problem" {
				rows = append(rows, r)
			}
		}
	}
	summarize(rows, true)
	return nil
}

// ref is a BoTorch reference cell (anchors/botorch/summary.md; CPU s/iter,
// MB, final regret mean ± sd over 3 seeds, robust-peak count).
type ref struct {
	fit, acq, rss, final, sd float64
	peak                     string
}

var botorchRef = map[string]ref{
	"hart6/qlognei/16/0.1": {1.96, 6.56, 820, 0.0933, 0.082, "1/3"},
	"hart6/qlognei/16/0.3": {2.1, 5.93, 818, 0.127, 0.11, "1/3"},
	"hart6/qlognei/16/0.5": {1.81, 6.15, 874, 0.153, 0.13, "1/3"},
	"hart6/qlognei/3/0.1":  {0.377, 0.999, 474, 0.185, 0.16, "1/3"},
	"hart6/qlognei/3/0.3":  {0.314, 0.849, 440, 0.227, 0.19, "1/3"},
	"hart6/qlognei/3/0.5":  {0.372, 1.02, 455, 0.232, 0.028, "1/3"},
	"hart6/qnei/16/0.1":    {1.92, 1.25, 753, 0.492, 0.38, "0/3"},
	"hart6/qnei/16/0.3":    {1.75, 1.52, 744, 0.641, 0.47, "0/3"},
	"hart6/qnei/16/0.5":    {2.14, 1.08, 708, 0.401, 0.23, "0/3"},
	"hart6/qnei/3/0.1":     {0.271, 0.159, 482, 0.757, 0.71, "0/3"},
	"hart6/qnei/3/0.3":     {0.341, 0.163, 469, 0.805, 0.76, "0/3"},
	"hart6/qnei/3/0.5":     {0.408, 0.216, 469, 0.564, 0.27, "0/3"},
	// tutorial: q = 2 per iteration (2 evaluations), 20 iterations
	"tutorial/rho_kg/16/0.7": {0.219, 13.59, 902, 0.00329, 0.0029, "3/3"},
}

// summarize prints the grouped table and the per-seed lines for CSV rows.
func summarize(rows [][]string, perSeed bool) {
	col := map[string]int{}
	for i, h := range csvHeader {
		col[h] = i
	}
	num := func(r []string, h string) float64 { v, _ := strconv.ParseFloat(r[col[h]], 64); return v }
	type key struct{ problem, acq, nw, alpha, conv, kernel, prior, design string }
	groups := map[key][][]string{}
	var keys []key
	for _, r := range rows {
		k := key{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[col["design"]]}
		if k.design == bo.DesignTorch {
			k.acq += " (torch design)"
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	ms := func(v []float64) string { m, s := meanSD(v); return g3(m) + " ± " + g3(s) }
	fmt.Println("| problem | acq | n_w | alpha | conv | seeds | CPU s/iter fit | acq | **fit+acq** | BoTorch fit+acq | **ratio** | peak RSS MB (BoTorch) | regret it10 | it20 | **final** | BoTorch final | robust peak (BoTorch) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, k := range keys {
		g := groups[k]
		var cf, ca, ct, r10, r20, fin, rss []float64
		peaks := 0
		for _, r := range g {
			cf, ca, ct = append(cf, num(r, "cpu_fit_s_iter")), append(ca, num(r, "cpu_acq_s_iter")), append(ct, num(r, "cpu_s_iter"))
			r10, r20, fin = append(r10, num(r, "regret10")), append(r20, num(r, "regret20")), append(fin, num(r, "regret_final"))
			rss = append(rss, num(r, "peak_rss_mb"))
			if r[col["peak"]] == "R" {
				peaks++
			}
		}
		maxRSS := 0.0
		for _, v := range rss {
			maxRSS = math.Max(maxRSS, v)
		}
		bt, ratio, btFin, btPeak, btRSS := "—", "—", "—", "—", "—"
		if rf, ok := botorchRef[k.problem+"/"+strings.TrimSuffix(k.acq, " (torch design)")+"/"+k.nw+"/"+k.alpha]; ok && k.conv == string(risk.BoTorch) {
			tot := rf.fit + rf.acq
			m, _ := meanSD(ct)
			bt = fmt.Sprintf("%s + %s = %s", g3(rf.fit), g3(rf.acq), g3(tot))
			ratio = fmt.Sprintf("**%.0f×**", tot/m)
			btFin = g3(rf.final) + " ± " + g3(rf.sd)
			btPeak = rf.peak
			btRSS = g3(rf.rss)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %.0f (%s) | %s | %s | **%s** | %s | %d/%d (%s) |\n",
			k.problem, k.acq, k.nw, k.alpha, k.conv, len(g), g3(mean(cf)), g3(mean(ca)), ms(ct), bt, ratio, maxRSS, btRSS,
			ms(r10), ms(r20), ms(fin), btFin, peaks, len(g), btPeak)
	}
	if !perSeed {
		return
	}
	fmt.Println()
	fmt.Println("Per-seed final regret (R = within 0.15 of the robust optimum x*, N = within 0.15 of the nominal optimum, - elsewhere):")
	fmt.Println()
	for _, k := range keys {
		g := groups[k]
		sort.SliceStable(g, func(i, j int) bool { return num(g[i], "seed") < num(g[j], "seed") })
		var parts []string
		for _, r := range g {
			parts = append(parts, fmt.Sprintf("s%s %s %s", r[col["seed"]], g3(num(r, "regret_final")), r[col["peak"]]))
		}
		fmt.Printf("- %s %s n_w=%s alpha=%s %s: %s\n", k.problem, k.acq, k.nw, k.alpha, k.conv, strings.Join(parts, "; "))
	}
}

func mean(v []float64) float64 { m, _ := meanSD(v); return m }
