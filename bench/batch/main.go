// Command batch measures asynchronous batch BO (issue 17): the anchors' hart6
// problem (../shared/anchors/botorch) run through host/run with q workers
// and in_flight = q, for several q, against a simulated evaluation cost.
//
// Each evaluation runs in process (no worker processes): the dispatcher
// sleeps -cost, then returns the true objective value f(x, w). Everything
// else is the real run: the pipeline, the journal (fsynced), checkpoints,
// the per-iteration recommendation. Regret is the anchors' (best true CVaR
// minus the true CVaR of the run's recommendation, problems.TrueCVaR on the
// anchors' 64×64 w grid), from the recommendation each iteration's record
// holds; so regret is known against the evaluations told and against the
// wall time at which the iteration was told.
//
// Runs go one at a time, seed by seed, every q of a seed in a row, so that
// the wall-time ratios are measured side by side. Records (one JSON line
// per run) are appended to -out; -table prints the tables from such files.
//
//	go run ./bench/batch -mode all_w -q 1,2,4,8 -inflight1 -seeds 5 -cost 200ms -sobol -out /tmp/batch_allw.jsonl
//	go run ./bench/batch -mode pair -q 1,2,4,8 -seeds 5 -iters 100 -cost 1s -sobol -out /tmp/batch_pair.jsonl
//	go run ./bench/batch -table /tmp/batch_allw.jsonl,/tmp/batch_pair.jsonl
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"bohost/bench/internal/hart6"
	"bohost/host/bo"
	"bohost/host/problems"
	"bohost/host/risk"
	"bohost/host/run"
	"bohost/host/worker"
)

// sleeper is a worker.Dispatcher that evaluates f in process after
// sleeping cost: a simulated expensive objective whose evaluations use no
// CPU while they "run".
type sleeper struct {
	cost time.Duration
	f    func(x, w []float64) float64

	mu      sync.Mutex
	running int
	maxRun  int
	evals   int
}

func (s *sleeper) Eval(ctx context.Context, req worker.Request) worker.Result {
	s.mu.Lock()
	s.running++
	s.maxRun = max(s.maxRun, s.running)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	t := time.NewTimer(s.cost)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return worker.Result{Status: worker.StatusCanceled}
	case <-t.C:
	}
	y := s.f(req.X, req.W)
	s.mu.Lock()
	s.evals++
	s.mu.Unlock()
	return worker.Result{Status: worker.StatusOK, Y: y, Score: map[string]any{"f": y}, Seconds: s.cost.Seconds()}
}

func (s *sleeper) Close() error { return nil }

// point is the regret after an iteration was told.
type point struct {
	It     int     `json:"it"`
	N      int     `json:"n"`      // evaluations told
	T      float64 `json:"t"`      // wall seconds since the run started
	Regret float64 `json:"regret"` // best true CVaR − true CVaR of the recommendation
}

// record is one run (a line of -out).
type record struct {
	Kind     string  `json:"kind"` // "bo" or "sobol" (the baseline: Sobol search, no simulated cost)
	Mode     string  `json:"mode"`
	Acq      string  `json:"acq"`
	NW       int     `json:"n_w"`
	Alpha    float64 `json:"alpha"`
	Conv     string  `json:"conv"`
	Design   string  `json:"design"`
	Init     int     `json:"init"`
	Iters    int     `json:"iters"`
	Workers  int     `json:"workers"`
	InFlight int     `json:"in_flight"`
	Schedule string  `json:"schedule,omitempty"` // the run's (config.json); absent in records made before interleave: fifo
	Seed     int     `json:"seed"`
	CostS    float64 `json:"cost_s"`
	Evals    int     `json:"evals"`
	WallS    float64 `json:"wall_s"`
	FitS     float64 `json:"fit_s"` // sum over the BO iterations of the GP fit's wall seconds
	AcqS     float64 `json:"acq_s"` // … and the acquisition's
	MaxBusy  int     `json:"max_busy"`
	Curve    []point `json:"curve"`
	Err      string  `json:"err,omitempty"`
}

func (r record) final() float64 {
	if len(r.Curve) == 0 {
		return math.NaN()
	}
	return r.Curve[len(r.Curve)-1].Regret
}

// regretAt is the regret of the last iteration told at or before wall time
// t (NaN before the initial design is told).
func (r record) regretAt(t float64) float64 {
	v := math.NaN()
	for _, p := range r.Curve {
		if p.T <= t {
			v = p.Regret
		}
	}
	return v
}

// regretAtN is the regret after the first iteration with at least n
// evaluations told.
func (r record) regretAtN(n int) float64 {
	for _, p := range r.Curve {
		if p.N >= n {
			return p.Regret
		}
	}
	return math.NaN()
}

type setup struct {
	prob   problems.Problem
	mode   string
	nw     int
	alpha  float64
	conv   risk.Convention
	design string
	init   int
	iters  int
	rec    string
}

var keep = flag.String("keep", "", "keep each run's directory under this folder (default: a temporary one, removed)")

var schedule = flag.String("schedule", "", "fifo or interleave: the order of the evaluations of x's in flight (default: the run's, interleave for all_w with in_flight > 1)")

// sched is the schedule a record's cell is keyed by: "" when at most one
// iteration is in flight (both orders are the same), fifo for records made
// before the schedule was recorded.
func (r record) sched() string {
	switch {
	case r.InFlight <= 1:
		return ""
	case r.Schedule == "":
		return run.ScheduleFIFO
	}
	return r.Schedule
}

// runOne makes one run in a fresh temporary directory.
func runOne(ctx context.Context, s setup, acqName string, workers, inFlight, seed int, cost time.Duration) record {
	kind := "bo"
	if acqName == bo.AcqSobol {
		kind = "sobol"
	}
	rec := record{Kind: kind, Mode: s.mode, Acq: acqName, NW: s.nw, Alpha: s.alpha, Conv: string(s.conv), Design: s.design,
		Init: s.init, Iters: s.iters, Workers: workers, InFlight: inFlight, Seed: seed, CostS: cost.Seconds()}
	dir, err := os.MkdirTemp(*keep, fmt.Sprintf("%s-%s-q%d-f%d-s%d-", s.mode, acqName, workers, inFlight, seed))
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	if *keep == "" {
		defer os.RemoveAll(dir)
	}
	box := hart6.UnitBox
	cfg := run.Config{
		Dir: dir,
		Optimizer: bo.Config{Space: box(s.prob.DimX), Env: bo.Env{Bounds: box(s.prob.DimW)}, Alpha: s.alpha, Convention: s.conv,
			NW: s.nw, Acquisition: acqName, Mode: s.mode, NInitial: s.init, Seed: uint64(seed), Design: s.design, GP: hart6.GP(),
			RecommendFrom: s.rec},
		Objective: json.RawMessage(`{"bench_batch": {}}`), Iterations: s.iters, Workers: workers, InFlight: inFlight,
		TimeoutS: -1, Schedule: *schedule,
	}
	disp := &sleeper{cost: cost, f: s.prob.F}
	var its []run.Iteration
	opts := run.Options{MonitorInterval: -1,
		NewDispatcher: func(context.Context, worker.Options) (worker.Dispatcher, error) { return disp, nil },
		OnIteration: func(_ *run.Run, it run.Iteration) error {
			its = append(its, it)
			return nil
		}}
	t0 := time.Now()
	_, err = run.Do(ctx, cfg, opts)
	rec.WallS = time.Since(t0).Seconds()
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	rec.Evals, rec.MaxBusy = disp.evals, disp.maxRun
	if c, err := run.ReadConfig(dir); err == nil {
		rec.Schedule = c.Schedule
	}
	best, ok := problems.BestTrueCVaR(s.prob.Name, s.alpha, s.conv)
	if !ok {
		rec.Err = fmt.Sprintf("no best true CVaR stored for %s alpha %g (%s)", s.prob.Name, s.alpha, s.conv)
		return rec
	}
	grid := problems.GridPerDim(s.prob.Name)
	for _, it := range its {
		rec.FitS += it.FitS
		rec.AcqS += it.AcqS
		r := math.NaN()
		if it.RecommendedXVec != nil {
			r = best - problems.TrueCVaR(s.prob, it.RecommendedXVec, s.alpha, s.conv, grid)
		}
		rec.Curve = append(rec.Curve, point{It: it.Iteration, N: it.NTrials, T: it.ElapsedS, Regret: r})
	}
	return rec
}

func appendRecord(path string, r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readRecords(files []string) ([]record, error) {
	var out []record
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", fn, err)
			}
			if r.Err == "" {
				out = append(out, r)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	return out, nil
}

func meanSD(v []float64) (m, sd float64) {
	var n float64
	for _, x := range v {
		if !math.IsNaN(x) {
			m += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	m /= n
	for _, x := range v {
		if !math.IsNaN(x) {
			sd += (x - m) * (x - m)
		}
	}
	if n > 1 {
		sd = math.Sqrt(sd / (n - 1))
	} else {
		sd = 0
	}
	return m, sd
}

func g3(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func ms(v []float64) string {
	for _, x := range v {
		if math.IsNaN(x) {
			return "—"
		}
	}
	m, s := meanSD(v)
	return g3(m) + " ± " + g3(s)
}

// problemKey groups runs of one problem setting (every q, and the Sobol
// baseline of that setting).
type problemKey struct {
	mode  string
	nw    int
	alpha float64
	cost  float64
	iters int
	init  int
}

type cellKey struct {
	kind, acq         string
	workers, inFlight int
	sched             string
}

// inFlightLabel is the in_flight column: the count, and the schedule when
// several iterations are in flight.
func (ck cellKey) inFlightLabel() string {
	if ck.sched == "" {
		return strconv.Itoa(ck.inFlight)
	}
	return fmt.Sprintf("%d (%s)", ck.inFlight, ck.sched)
}

// printTables prints the acceptance tables of the records.
func printTables(recs []record, fracs []float64) {
	byProb := map[problemKey]map[cellKey][]record{}
	var probs []problemKey
	cellOrder := map[problemKey][]cellKey{}
	for _, r := range recs {
		pk := problemKey{r.Mode, r.NW, r.Alpha, r.CostS, r.Iters, r.Init}
		if r.Kind == "sobol" {
			pk.cost = -1 // the baseline has no cost; matched to every cost below
		}
		if byProb[pk] == nil {
			byProb[pk] = map[cellKey][]record{}
			probs = append(probs, pk)
		}
		ck := cellKey{r.Kind, r.Acq, r.Workers, r.InFlight, r.sched()}
		if _, ok := byProb[pk][ck]; !ok {
			cellOrder[pk] = append(cellOrder[pk], ck)
		}
		byProb[pk][ck] = append(byProb[pk][ck], r)
	}
	for _, pk := range probs {
		if pk.cost < 0 {
			continue
		}
		cells := byProb[pk]
		order := cellOrder[pk]
		sort.SliceStable(order, func(i, j int) bool {
			a, b := order[i], order[j]
			if a.acq != b.acq {
				return a.acq < b.acq
			}
			if a.inFlight == 1 && a.workers == 1 {
				return b.inFlight != 1 || b.workers != 1
			}
			if b.inFlight == 1 && b.workers == 1 {
				return false
			}
			if (a.inFlight > 1) != (b.inFlight > 1) {
				return a.inFlight > 1
			}
			return a.workers < b.workers
		})
		sob := byProb[problemKey{pk.mode, pk.nw, pk.alpha, -1, pk.iters, pk.init}]
		var sobRecs []record
		for ck, rs := range sob {
			if ck.kind == "sobol" {
				sobRecs = append(sobRecs, rs...)
			}
		}
		any0 := cells[order[0]][0]
		fmt.Printf("### hart6, %s mode, n_w %d, alpha %g (%s), %d initial %s + %d iterations (%d evaluations), simulated cost %gs per evaluation\n\n",
			pk.mode, pk.nw, pk.alpha, any0.Conv, pk.init, map[bool]string{true: "x's", false: "pairs"}[pk.mode == bo.ModeAllW],
			pk.iters, any0.Evals, pk.cost)
		// the reference: q = 1 (workers 1, in_flight 1) of each acquisition
		ref := func(acq string) []record { return cells[cellKey{"bo", acq, 1, 1, ""}] }
		wall := func(rs []record) []float64 {
			var v []float64
			for _, r := range rs {
				v = append(v, r.WallS)
			}
			return v
		}
		// wall-time checkpoints: fractions of q = 1's mean wall time
		var ts []float64
		var w1 float64
		for _, ck := range order {
			if ck.workers == 1 && ck.inFlight == 1 && ck.kind == "bo" {
				w1, _ = meanSD(wall(cells[ck]))
				break
			}
		}
		for _, f := range fracs {
			ts = append(ts, f*w1)
		}
		fmt.Print("| acquisition | workers = q | in_flight | seeds | evaluations | **final regret** (mean ± sd) | vs q = 1 | wall s (mean ± sd) | **speed-up** vs q = 1 | fit + acq s per run | evaluation s per worker | workers busy |")
		for i, t := range ts {
			fmt.Printf(" regret at %s s (%g × q = 1's wall) |", g3(t), fracs[i])
		}
		fmt.Println()
		fmt.Print("|---|---|---|---|---|---|---|---|---|---|---|---|")
		for range ts {
			fmt.Print("---|")
		}
		fmt.Println()
		for _, ck := range order {
			rs := cells[ck]
			var fin, fa []float64
			busy := 0.0
			for _, r := range rs {
				fin = append(fin, r.final())
				fa = append(fa, r.FitS+r.AcqS)
				busy += float64(r.Evals) * r.CostS / (float64(r.Workers) * r.WallS)
			}
			busy /= float64(len(rs))
			mf, _ := meanSD(fin)
			vs, sp := "—", "—"
			if rr := ref(ck.acq); len(rr) > 0 {
				var f1 []float64
				for _, r := range rr {
					f1 = append(f1, r.final())
				}
				m1, _ := meanSD(f1)
				vs = fmt.Sprintf("%+.0f %%", 100*(mf/m1-1))
				wq, _ := meanSD(wall(rs))
				wr, _ := meanSD(wall(rr))
				sp = fmt.Sprintf("%.2f×", wr/wq)
			}
			evalPerWorker := g3(float64(rs[0].Evals) * rs[0].CostS / float64(rs[0].Workers))
			fmt.Printf("| %s | %d | %s | %d | %d | **%s** | %s | %s | **%s** | %s | %s | %.0f %% |",
				ck.acq, ck.workers, ck.inFlightLabel(), len(rs), rs[0].Evals, ms(fin), vs, ms(wall(rs)), sp, ms(fa), evalPerWorker, 100*busy)
			for _, t := range ts {
				var v []float64
				for _, r := range rs {
					v = append(v, r.regretAt(t))
				}
				fmt.Printf(" %s |", ms(v))
			}
			fmt.Println()
		}
		if rr := ref(order[0].acq); len(rr) > 0 {
			// what the serial loop spends besides evaluating and asking
			var other []float64
			for _, r := range rr {
				other = append(other, r.WallS-float64(r.Evals)*r.CostS-r.FitS-r.AcqS)
			}
			defer fmt.Printf("q = 1 (%s): wall − evaluations × cost − fit − acq = %s s per run (the recommendation after each iteration, journal fsyncs, checkpoints, GC).\n\n",
				order[0].acq, ms(other))
		}
		if len(sobRecs) > 0 {
			var fin []float64
			for _, r := range sobRecs {
				fin = append(fin, r.final())
			}
			fmt.Printf("| Sobol search (no cost) | — | — | %d | %d | **%s** | — | — | — | — | — | — |", len(sobRecs), sobRecs[0].Evals, ms(fin))
			for range ts {
				fmt.Print(" — |")
			}
			fmt.Println()
		}
		// regret vs evaluations
		var ns []int
		its := []int{0, pk.iters / 4, pk.iters / 2, 3 * pk.iters / 4, pk.iters}
		for _, it := range its {
			for _, p := range any0.Curve {
				if p.It == it {
					ns = append(ns, p.N)
				}
			}
		}
		fmt.Println()
		fmt.Print("Regret vs evaluations (mean ± sd over seeds):\n\n| acquisition | workers = q | in_flight |")
		for _, n := range ns {
			fmt.Printf(" n = %d |", n)
		}
		fmt.Println()
		fmt.Print("|---|---|---|")
		for range ns {
			fmt.Print("---|")
		}
		fmt.Println()
		row := func(name, wk, fl string, rs []record) {
			fmt.Printf("| %s | %s | %s |", name, wk, fl)
			for _, n := range ns {
				var v []float64
				for _, r := range rs {
					v = append(v, r.regretAtN(n))
				}
				fmt.Printf(" %s |", ms(v))
			}
			fmt.Println()
		}
		for _, ck := range order {
			row(ck.acq, strconv.Itoa(ck.workers), ck.inFlightLabel(), cells[ck])
		}
		if len(sobRecs) > 0 {
			row("Sobol search", "—", "—", sobRecs)
		}
		fmt.Println()
		fmt.Println("Per-seed final regret:")
		fmt.Println()
		for _, ck := range order {
			rs := append([]record(nil), cells[ck]...)
			sort.Slice(rs, func(i, j int) bool { return rs[i].Seed < rs[j].Seed })
			var parts []string
			for _, r := range rs {
				parts = append(parts, fmt.Sprintf("s%d %s (%.0f s)", r.Seed, g3(r.final()), r.WallS))
			}
			fmt.Printf("- %s, q = %d, in_flight %s: %s\n", ck.acq, ck.workers, ck.inFlightLabel(), strings.Join(parts, "; "))
		}
		if len(sobRecs) > 0 {
			sort.Slice(sobRecs, func(i, j int) bool { return sobRecs[i].Seed < sobRecs[j].Seed })
			var parts []string
			for _, r := range sobRecs {
				parts = append(parts, fmt.Sprintf("s%d %s", r.Seed, g3(r.final())))
			}
			fmt.Printf("- Sobol search: %s\n", strings.Join(parts, "; "))
		}
		fmt.Println()
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func main() {
	mode := flag.String("mode", bo.ModeAllW, "all_w (the anchors' hart6: one x at every w of the W set per iteration) or pair (one (x, w) per iteration)")
	acqs := flag.String("acq", "", "comma list of acquisitions (default: qlognei for all_w, rho_kg for pair)")
	nw := flag.Int("nw", 16, "n_w, the size of the W set")
	alpha := flag.Float64("alpha", 0.3, "CVaR alpha in the convention of -conv")
	conv := flag.String("conv", string(risk.BoTorch), "botorch (the anchors' confidence level) or bohost (tail fraction)")
	design := flag.String("design", bo.DesignTorch, "initial design: torch (the anchors' seed-s initial x's) or bohost")
	ninit := flag.Int("init", 0, "initial design: x's (all_w) or pairs (pair); 0: 5 for all_w (the anchors'), 14 for pair")
	iters := flag.Int("iters", 0, "BO iterations after the initial design (0: 30 for all_w, the anchors', 100 for pair)")
	qs := flag.String("q", "1,2,4,8", "comma list of q: workers = in_flight = q")
	inflight1 := flag.Bool("inflight1", false, "also run workers = q with in_flight 1 for each q > 1 (all_w: one iteration's n_w evaluations already keep q workers busy)")
	seeds := flag.Int("seeds", 5, "seeds seed0 … seed0+seeds-1")
	seed0 := flag.Int("seed0", 0, "first seed")
	cost := flag.Duration("cost", 200*time.Millisecond, "simulated cost of one evaluation (a sleep)")
	sobolBase := flag.Bool("sobol", false, "also run Sobol search (same evaluations, no cost) per seed")
	recFrom := flag.String("rec", "", "recommendation: evaluated | continuous (default: the mode's)")
	out := flag.String("out", "", "append one JSON line per run to this file (required unless -table)")
	table := flag.String("table", "", "comma list of -out files: print the tables and exit")
	fracsS := flag.String("wallat", "0.125,0.25,0.5,1", "wall-time checkpoints of the table, as fractions of q = 1's mean wall time")
	flag.Parse()
	fracs, err := parseFloats(*fracsS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-wallat:", err)
		os.Exit(2)
	}
	if *table != "" {
		recs, err := readRecords(strings.Split(*table, ","))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		printTables(recs, fracs)
		return
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "-out FILE is required (the records; -table FILE prints the tables)")
		os.Exit(2)
	}
	qv, err := parseInts(*qs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-q:", err)
		os.Exit(2)
	}
	s := setup{prob: problems.Hart6Env(), mode: *mode, nw: *nw, alpha: *alpha, conv: risk.Convention(*conv), design: *design,
		init: *ninit, iters: *iters, rec: *recFrom}
	switch s.mode {
	case bo.ModeAllW:
		if s.init == 0 {
			s.init = 5
		}
		if s.iters == 0 {
			s.iters = 30
		}
		if *acqs == "" {
			*acqs = bo.AcqQLogNEI
		}
	case bo.ModePair:
		if s.init == 0 {
			s.init = 14
		}
		if s.iters == 0 {
			s.iters = 100
		}
		if *acqs == "" {
			*acqs = bo.AcqRhoKG
		}
	default:
		fmt.Fprintln(os.Stderr, "-mode must be all_w or pair")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	do := func(acqName string, workers, inFlight, seed int, c time.Duration) {
		r := runOne(ctx, s, acqName, workers, inFlight, seed, c)
		fmt.Fprintf(os.Stderr, "%s %s seed=%d workers=%d in_flight=%d cost=%gs: evals=%d wall=%.1fs fit+acq=%.1fs final regret=%.4g max busy=%d %s\n",
			s.mode, acqName, seed, workers, inFlight, c.Seconds(), r.Evals, r.WallS, r.FitS+r.AcqS, r.final(), r.MaxBusy, r.Err)
		if err := appendRecord(*out, r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if ctx.Err() != nil {
			os.Exit(130)
		}
	}
	for seed := *seed0; seed < *seed0+*seeds; seed++ {
		if *sobolBase {
			do(bo.AcqSobol, 1, 1, seed, 0)
		}
		for _, a := range strings.Split(*acqs, ",") {
			for _, q := range qv {
				do(a, q, q, seed, *cost)
				if *inflight1 && q > 1 {
					do(a, q, 1, seed, *cost)
				}
			}
		}
	}
	recs, err := readRecords([]string{*out})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	printTables(recs, fracs)
}
