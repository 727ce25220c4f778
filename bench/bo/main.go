// Command bo benchmarks bohost's risk-averse BO engine (host/bo) on the
// problems of ../shared/anchors/botorch and prints Markdown tables comparable
// with the anchors' summary.md.
//
//	go run ./bench/bo -problem hart6 -acq qlognei,rho_kg,sobol -nw 16,3 -alpha 0.1,0.3,0.5 -seeds 5 -iters 30
//	go run ./bench/bo -problem tutorial -acq rho_kg -seeds 3 -iters 20
//
// Alphas are given in BoTorch's convention (confidence level) as in the
// anchors; -conv bohost runs bohost's convention at the same tail (alpha
// 1 − a) instead. CPU seconds are process CPU time (getrusage) around each
// ask, so they are only per-run figures with -parallel 1.
package main

import (
	"context"
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
	acq   string
	nw    int
	alpha float64 // botorch convention
	conv  risk.Convention
	seed  int
	mode  string
}

type result struct {
	spec
	regret   map[int]float64
	final    float64
	dist     float64
	peak     string
	cpuPerIt float64
	fitWall  float64
	acqWall  float64
	wall     float64
	nTrain   int
	acqZero  int
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

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// nominal Hartmann-6 optimum (the trap)
var h6Nominal = []float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}

func run(ctx context.Context, prob problems.Problem, name string, s spec, nInit, iters int, checkpoints map[int]bool) result {
	r := result{spec: s, regret: map[int]float64{}}
	space := make([][2]float64, prob.DimX)
	for i := range space {
		space[i] = [2]float64{0, 1}
	}
	wb := make([][2]float64, prob.DimW)
	for i := range wb {
		wb[i] = [2]float64{0, 1}
	}
	alpha := s.alpha
	if s.conv == risk.Bohost {
		alpha = 1 - s.alpha
	}
	cfg := bo.Config{Space: space, Env: bo.Env{Bounds: wb}, Alpha: alpha, Convention: s.conv, NW: s.nw,
		Acquisition: s.acq, Mode: s.mode, NInitial: nInit, Seed: uint64(s.seed),
		Optim: acq.OptimOptions{Workers: 1}, GP: gpOpts()}
	if name == "tutorial" {
		cfg.Env.Select = bo.SelectSobolFresh
	}
	o, err := bo.New(cfg)
	if err != nil {
		r.err = err
		return r
	}
	best, _ := problems.BestTrueCVaR(name, s.alpha, risk.BoTorch)
	xstar, _ := problems.BestTrueX(name, s.alpha, risk.BoTorch)
	grid := problems.GridPerDim(name)
	t0 := time.Now()
	var cpu float64
	evalAll := func(c []bo.Candidate) {
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
		tc := problems.TrueCVaR(prob, rec.X, alpha, s.conv, grid)
		r.regret[it] = best - tc
		r.recX = rec.X
	}
	recAt(0)
	for it := 1; it <= iters; it++ {
		c0 := cpuSeconds()
		c, err := o.Ask(ctx)
		cpu += cpuSeconds() - c0
		if err != nil {
			r.err = err
			return r
		}
		d := o.Diagnostics()
		r.fitWall += d.FitSeconds
		r.acqWall += d.AcqSeconds
		if d.AcqValue == 0 || (s.acq == "qlognei" && d.AcqValue < -600) {
			r.acqZero++
		}
		evalAll(c)
		if checkpoints[it] {
			recAt(it)
		}
	}
	r.wall = time.Since(t0).Seconds()
	r.cpuPerIt = cpu / float64(iters)
	r.fitWall /= float64(iters)
	r.acqWall /= float64(iters)
	r.final = r.regret[iters]
	r.nTrain = len(o.Observations())
	if xstar != nil && r.recX != nil {
		r.dist = dist(r.recX, xstar)
		switch {
		case r.dist < 0.15:
			r.peak = "R"
		case name == "hart6" && dist(r.recX, h6Nominal) < 0.15:
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
)

func gpOpts() *gp.Options {
	o := gp.DefaultOptions()
	o.Restarts = 1
	o.Kernel = gp.Kernel(*kernel)
	o.Prior = gp.Prior(*prior)
	return &o
}

func mean(v []float64) (m, sd float64) {
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

func main() {
	problem := flag.String("problem", "hart6", "hart6 | tutorial")
	acqs := flag.String("acq", "qlognei", "comma list: rho_kg,qlognei,qnei,ucb,ei,random,sobol")
	nws := flag.String("nw", "16", "comma list of n_w")
	alphas := flag.String("alpha", "0.7", "comma list of alphas in BoTorch's convention (confidence level)")
	convs := flag.String("conv", "botorch", "comma list: botorch,bohost (bohost runs alpha 1-a in its own convention)")
	seeds := flag.Int("seeds", 5, "seeds 0..seeds-1")
	seed0 := flag.Int("seed0", 0, "first seed")
	iters := flag.Int("iters", 30, "BO iterations")
	ninit := flag.Int("init", 0, "initial design (0: 5 for hart6, 8 for tutorial)")
	mode := flag.String("mode", "", "pair | all_w (default: all_w for hart6, pair for tutorial)")
	par := flag.Int("parallel", 1, "runs in parallel (CPU s/iter only meaningful with 1)")
	perSeed := flag.Bool("perseed", true, "print the per-seed table")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile (pprof) to this file")
	flag.Parse()
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
						specs = append(specs, spec{acq: a, nw: nw, alpha: alpha, conv: risk.Convention(cv), seed: sd, mode: *mode})
					}
				}
			}
		}
	}
	checkpoints := map[int]bool{10: true, 20: true, *iters: true}
	results := make([]result, len(specs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, *par)
	ctx := context.Background()
	for i, s := range specs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = run(ctx, prob, *problem, s, *ninit, *iters, checkpoints)
			r := results[i]
			fmt.Fprintf(os.Stderr, "done %s nw=%d a=%g %s seed=%d final=%.4g peak=%s cpu/it=%.3f err=%v\n",
				s.acq, s.nw, s.alpha, s.conv, s.seed, r.final, r.peak, r.cpuPerIt, r.err)
		}()
	}
	wg.Wait()

	fmt.Printf("### bohost %s (%s mode, %d init, %d iters, GOMAXPROCS=%d, parallel=%d)\n\n", *problem, *mode, *ninit, *iters, runtime.GOMAXPROCS(0), *par)
	fmt.Println("| acq | n_w | alpha (botorch) | conv | seeds | CPU s/iter (fit+acq) | fit wall s/iter | acq wall s/iter | regret it10 | it20 | final | found robust peak | acq ≈ 0 iters |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	type key struct {
		acq   string
		nw    int
		alpha float64
		conv  risk.Convention
	}
	groups := map[key][]result{}
	var keys []key
	for _, r := range results {
		k := key{r.acq, r.nw, r.alpha, r.conv}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range keys {
		g := groups[k]
		var cpu, fw, aw, r10, r20, fin, az []float64
		peaks := 0
		for _, r := range g {
			if r.err != nil {
				fmt.Fprintln(os.Stderr, "error:", r.err)
				continue
			}
			cpu, fw, aw = append(cpu, r.cpuPerIt), append(fw, r.fitWall), append(aw, r.acqWall)
			r10, r20, fin = append(r10, r.regret[10]), append(r20, r.regret[20]), append(fin, r.final)
			az = append(az, float64(r.acqZero))
			if r.peak == "R" {
				peaks++
			}
		}
		if len(fin) == 0 {
			continue
		}
		ms := func(v []float64) string { m, s := mean(v); return g3(m) + " ± " + g3(s) }
		fmt.Printf("| %s | %d | %g | %s | %d | %s | %s | %s | %s | %s | %s | %d/%d | %s |\n",
			k.acq, k.nw, k.alpha, k.conv, len(fin), ms(cpu), ms(fw), ms(aw), ms(r10), ms(r20), ms(fin), peaks, len(fin), ms(az))
	}
	if *perSeed {
		fmt.Println()
		fmt.Println("Per-seed final regret (R = within 0.15 of the robust optimum x*, N = within 0.15 of the nominal optimum, - elsewhere):")
		fmt.Println()
		sort.SliceStable(results, func(i, j int) bool { return results[i].seed < results[j].seed })
		for _, k := range keys {
			var parts []string
			for _, r := range results {
				if (key{r.acq, r.nw, r.alpha, r.conv}) == k {
					parts = append(parts, fmt.Sprintf("s%d %s %s", r.seed, g3(r.final), r.peak))
				}
			}
			fmt.Printf("- %s n_w=%d alpha=%g %s: %s\n", k.acq, k.nw, k.alpha, k.conv, strings.Join(parts, "; "))
		}
	}
	fmt.Printf("\npeak RSS (VmHWM) %.1f MB\n", vmHWM())
}
