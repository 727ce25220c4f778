package run

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/journal"
	"bohost/host/memctl"
	"bohost/host/monitor"
	"bohost/host/risk"
	"bohost/host/worker"
)

// Execute runs the remaining iterations and writes summary.json. It returns
// the summary and, when the run did not finish, an error: kind canceled when
// ctx ended (status interrupted), failed when too many evaluations failed in
// a row or the optimiser failed (status failed). A final checkpoint is
// written in every case.
func (r *Run) Execute(ctx context.Context) (Summary, error) {
	if r.finished != nil {
		fmt.Fprintf(r.opts.Log, "bohost run: %s is already finished (%d iterations)\n", r.dir, r.finished.Iterations)
		return *r.finished, nil
	}
	r.sessions++
	r.prog.update(r.nTold, max(r.lastDoneGroup(), 0), r.bestCVaR())
	status, reason := "finished", fmt.Sprintf("completed %d iterations", r.cfg.Iterations)
	var runErr error
	stop, err := r.pipeline(ctx)
	switch {
	case ctx.Err() != nil:
		status, reason = "interrupted", fmt.Sprintf("interrupted (%v)", context.Cause(ctx))
	case err != nil && r.isAskError(err):
		status, reason, runErr = "failed", fmt.Sprintf("the optimiser failed at iteration %d: %v", r.opt.Iteration()+1, err), err
		if r.nOK() == 0 {
			// Not the raw API's "tell the results first": say what
			// happened in the run's terms.
			reason = fmt.Sprintf("none of the %d evaluations so far succeeded, so the model has nothing to fit (the last failure: %s)", r.nTold, r.lastFailure)
			runErr = errs.New(errs.Failed, "run", "%s", reason).
				WithHint("fix the objective: trials.jsonl and events.jsonl hold every failure's error (and death certificate); try one evaluation by hand before the next run")
		}
	case err != nil:
		status, reason, runErr = "failed", err.Error(), err
	case stop != "":
		status, reason = "failed", stop
		runErr = errs.New(errs.Failed, "run", "%s", stop).WithHint("see the death certificates in trials.jsonl and events.jsonl")
	}
	if status == "interrupted" {
		runErr = errs.New(errs.Canceled, "run", "%s", reason)
	}
	if err := r.checkpoint(); err != nil {
		r.warn("warning", fmt.Sprintf("final checkpoint failed: %v (the journal is enough to resume)", err), nil)
	}
	s, serr := r.summary(ctx, status, reason)
	if serr != nil && runErr == nil {
		// The results are in the journal, but a run without its summary is
		// not finished as far as readers (and the exit code) can tell.
		runErr = errs.New(errs.IO, "run", "the run %s but summary.json could not be written: %v", status, serr).
			WithHint("trials.jsonl, iterations.jsonl and checkpoint.json hold the results; fix the directory (space, permissions) and run again: a finished run only writes its summary")
	}
	r.prog.finish(status == "finished")
	switch status {
	case "finished":
		r.event("finish", reason, nil)
	case "interrupted":
		r.event("shutdown", reason+"; final checkpoint written", nil)
	default:
		r.event("shutdown", "failed: "+reason, nil)
	}
	if serr != nil {
		status += ", but summary.json could not be written"
	}
	fmt.Fprintf(r.opts.Log, "bohost run: %s: %s (%d trials) in %s\n", status, reason, r.nTrials, r.dir)
	return s, runErr
}

// attempt is one finished evaluation attempt of a candidate.
type attempt struct {
	res   worker.Result
	n     int
	final bool
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// trial builds the journal line of an attempt and decides what the
// optimiser is told (Trial.Tell, Trial.Told) under the failure policy.
func (r *Run) trial(group, idx int, c bo.Candidate, a attempt) Trial {
	res := a.res
	t := r.rawTrial(group, idx, c, a)
	t.Y = nil
	if res.Status == worker.StatusOK {
		if t.Score == nil {
			t.Score = map[string]any{"f": res.Y}
		}
		if err := r.opt.CheckY(res.Y); err != nil {
			// A value the model cannot use (-math.huge, -1e200, an absurd
			// outlier) is a failed evaluation: the score stays in the
			// record, the optimiser is told what the failure policy says.
			e := fmt.Sprintf("objective returned a value the model cannot use: %v", err)
			t.Status, t.Error, t.ErrorKind = worker.StatusFailed, &e, errs.BadValue
			return r.failedTell(t, a)
		}
		t.Y, t.Told, t.Tell = ptr(res.Y), ptr(res.Y), "ok"
		return t
	}
	return r.failedTell(t, a)
}

// failedTell decides what the optimiser is told about a failed attempt
// under the failure policy (Trial.Tell, Trial.Told).
func (r *Run) failedTell(t Trial, a attempt) Trial {
	policy := r.cfg.OnFailure
	if policy == FailRetry {
		if !a.final {
			t.Tell = "retry"
			return t
		}
		policy = r.cfg.RetryFallback
	}
	t.Tell = policy
	if policy == FailWorst {
		// bo's rule: the worst y the model uses, or a skip when there is none.
		var worst *float64
		if y, ok := r.opt.WorstY(); ok {
			worst = &y
		}
		t.Told = worst
		if worst == nil {
			t.Tell = FailSkip
			if !r.warnedNoWorst {
				r.warnedNoWorst = true
				r.warn("warning", fmt.Sprintf("trial %d failed before any evaluation succeeded: on_failure = \"worst\" tells a failure the worst score seen so far, and there is none yet, so this failure is left out of the model (tell \"skip\" in trials.jsonl); failures after the first success are told the worst score", t.Trial), nil)
			}
		}
	}
	return t
}

func (r *Run) bestCVaR() *float64 {
	if r.last != nil {
		return r.last.BestObservedCVaR
	}
	return nil
}

// finishIteration writes the iteration record, samples the monitor, runs
// the hooks and writes the checkpoint.
func (r *Run) finishIteration(ctx context.Context, iter int) error {
	r.warnOutliers()
	it := r.writeIteration(ctx, iter)
	r.kill.at("iteration")
	if !r.opts.KeepMemory {
		memctl.Collect() // what stays resident between iterations is what monitor.csv shows
	}
	if r.mon != nil {
		r.mon.Sample(iter)
	}
	r.prog.iteration(it, r.cfg.Iterations)
	if err := r.hooks(ctx, iter, it); err != nil {
		return err
	}
	if r.cfg.CheckpointEvery > 0 && iter%r.cfg.CheckpointEvery == 0 {
		if err := r.checkpoint(); err != nil {
			r.warn("warning", fmt.Sprintf("checkpoint failed: %v (the journal is enough to resume)", err), nil)
		}
	}
	return nil
}

func (r *Run) hooks(ctx context.Context, iter int, it Iteration) error {
	call := func(name string, fn func() error) error {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// The run is being stopped (a signal, a closed stdout the hook
			// printed to): the hook's error is the interruption's, not the
			// hook's; the loop records the run as interrupted.
			return nil
		}
		msg := fmt.Sprintf("%s hook failed at iteration %d: %v", name, iter, err)
		r.warn("hook_error", msg, nil)
		if r.opts.HookErrorsFatal {
			return errs.New(errs.Failed, "run.hook", "%s", msg)
		}
		return nil
	}
	if r.opts.OnIteration != nil {
		if err := call("on_iteration", func() error { return r.opts.OnIteration(r, it) }); err != nil {
			return err
		}
	}
	if iter > 0 {
		ks := make([]int, 0, len(r.opts.Every))
		for k := range r.opts.Every {
			ks = append(ks, k)
		}
		sortInts(ks)
		for _, k := range ks {
			if k > 0 && iter%k == 0 {
				fn := r.opts.Every[k]
				if err := call(fmt.Sprintf("every[%d]", k), func() error { return fn(r) }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeIteration appends the iteration's line to iterations.jsonl.
func (r *Run) writeIteration(ctx context.Context, iter int) Iteration {
	d, ok := r.diagOf[iter]
	if !ok {
		d = r.opt.Diagnostics()
	}
	delete(r.diagOf, iter)
	it := Iteration{Iteration: iter, Time: now(), ElapsedS: r.elapsed(), NTrials: r.nTrials, BestObservedCVaR: r.bestObservedCVaR()}
	if iter > 0 {
		it.FitS, it.AcqS, it.AcqValue = d.FitSeconds, d.AcqSeconds, ptr(d.AcqValue)
	}
	if rec, err := r.opt.Recommend(ctx); err == nil {
		it.RecommendedX, it.RecommendedXVec = r.named(rec.X), rec.X
		it.PosteriorCVaR, it.PosteriorMean = ptr(rec.CVaR), ptr(rec.Mean)
	} else {
		it.RecommendError = err.Error()
	}
	if err := r.iters.Append(it); err != nil {
		r.warn("warning", fmt.Sprintf("cannot write iterations.jsonl: %v", err), nil)
	}
	r.lastIterRec = iter
	r.last = &it
	return it
}

// summary writes summary.json (and the final evaluation of a finished
// airline run).
func (r *Run) summary(ctx context.Context, status, reason string) (Summary, error) {
	oc := r.cfg.Optimizer
	s := Summary{Status: status, Reason: reason, Iterations: max(r.lastDoneGroup(), 0), Trials: r.nTrials, Alpha: oc.Alpha,
		Convention: string(oc.Convention), NW: oc.NW, Seed: oc.Seed, Acquisition: oc.Acquisition, Failures: r.failures,
		WallS: r.elapsed(), Dir: r.dir, Sessions: r.sessions, BestObservedCVaR: r.bestObservedCVaR()}
	if prev, err := readSummary(r.dir); err == nil {
		s.Sessions += prev.Sessions
	}
	// Sessions that were killed never wrote a summary: count every session
	// that opened the directory (its start or resume event).
	s.Sessions = max(s.Sessions, r.countSessions())
	rctx := context.WithoutCancel(ctx)
	if rec, err := r.opt.Recommend(rctx); err == nil {
		s.RecommendedX, s.RecommendedXVec, s.PosteriorCVaR = r.named(rec.X), rec.X, ptr(rec.CVaR)
		if status == "finished" && r.air != nil {
			fe, err := r.finalEval(ctx, rec.X)
			if err != nil {
				r.warn("warning", fmt.Sprintf("final evaluation failed: %v", err), nil)
			}
			s.FinalEval = fe
		}
	}
	if rows, err := monitor.ReadCSV(filepath.Join(r.dir, MonitorFile)); err == nil {
		for _, row := range rows {
			s.PeakRSSBytes = max(s.PeakRSSBytes, row.HostRSS)
		}
	}
	if r.mon != nil {
		s.PeakRSSBytes = max(s.PeakRSSBytes, r.mon.Peak())
	}
	if err := writeJSONAtomic(filepath.Join(r.dir, SummaryFile), s); err != nil {
		r.warn("warning", fmt.Sprintf("cannot write summary.json: %v", err), nil)
		return s, err
	}
	return s, nil
}

// countSessions counts the sessions that opened the run directory: its
// start and resume events.
func (r *Run) countSessions() int {
	n := 0
	journal.ReadAll(filepath.Join(r.dir, EventsFile), func(line []byte) error {
		var e struct {
			Event string `json:"event"`
		}
		if json.Unmarshal(line, &e) == nil && (e.Event == "start" || e.Event == "resume") {
			n++
		}
		return nil
	})
	return n
}

func readSummary(dir string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return s, err
	}
	return s, jsonUnmarshal(b, &s)
}

// finalEval scores x on every environment in the workers and writes the
// best and worst images.
func (r *Run) finalEval(ctx context.Context, x []float64) (*FinalEval, error) {
	n, err := r.air.Len()
	if err != nil {
		return nil, err
	}
	res := make([]worker.Result, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.cfg.Workers)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			res[i] = r.disp.Eval(ctx, worker.Request{X: x, EnvIndex: i, EnvID: r.air.EnvID(i), Args: []byte(`{"lines":true}`)})
		}(i)
	}
	wg.Wait()
	fe := &FinalEval{}
	var ok []float64
	best, worst := -1, -1
	for i, rr := range res {
		fe.EnvIDs = append(fe.EnvIDs, r.air.EnvID(i))
		if rr.Status != worker.StatusOK {
			fe.Scores = append(fe.Scores, nil)
			fe.Failed++
			continue
		}
		fe.Scores = append(fe.Scores, ptr(rr.Y))
		ok = append(ok, rr.Y)
		if ngt, _ := rr.Score["n_gt"].(float64); ngt == 0 {
			continue // no ground truth: not a candidate for best/worst
		}
		if best < 0 || rr.Y > res[best].Y {
			best = i
		}
		if worst < 0 || rr.Y < res[worst].Y {
			worst = i
		}
	}
	if len(ok) > 0 {
		if c, err := risk.CVaR(ok, r.cfg.Optimizer.Alpha, r.cfg.Optimizer.Convention); err == nil {
			fe.CVaR = ptr(c)
		}
		m := 0.0
		for _, v := range ok {
			m += v
		}
		fe.Mean = ptr(m / float64(len(ok)))
	}
	if fe.Failed > 0 {
		r.warn("warning", fmt.Sprintf("final evaluation: %d of %d environments failed", fe.Failed, n), nil)
	}
	var firstErr error
	for _, p := range []struct {
		i    int
		name string
		dst  **EnvImage
	}{{best, "best", &fe.Best}, {worst, "worst", &fe.Worst}} {
		if p.i < 0 {
			continue
		}
		ei, err := r.envImage(p.i, p.name, res[p.i])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		*p.dst = ei
	}
	return fe, firstErr
}

func (r *Run) envImage(i int, name string, res worker.Result) (*EnvImage, error) {
	img, item, err := r.air.Image(i)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(r.dir, FinalDir), 0o755); err != nil {
		return nil, errs.New(errs.IO, "run.final", "%v", err)
	}
	rel := filepath.Join(FinalDir, name+".png")
	g := &image.Gray{Pix: img.Pix, Stride: img.W, Rect: image.Rect(0, 0, img.W, img.H)}
	f, err := os.Create(filepath.Join(r.dir, rel))
	if err != nil {
		return nil, errs.New(errs.IO, "run.final", "%v", err)
	}
	err = png.Encode(f, g)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errs.New(errs.IO, "run.final", "writing %s: %v", rel, err)
	}
	ei := &EnvImage{EnvID: r.air.EnvID(i), Image: filepath.ToSlash(rel), Score: res.Y, Lines: [][4]float64{}, GT: [][4]float64{}}
	if ls, ok := res.Score["lines"].([]any); ok {
		for _, l := range ls {
			if v, ok := l.([]any); ok && len(v) == 4 {
				var s [4]float64
				for k := range s {
					s[k], _ = v[k].(float64)
				}
				ei.Lines = append(ei.Lines, s)
			}
		}
	}
	for _, g := range item.Lines {
		ei.GT = append(ei.GT, [4]float64{g.X1, g.Y1, g.X2, g.Y2})
	}
	return ei, nil
}

// warnOutliers warns, once per session, about each successful observation
// the model has come to treat as an outlier (bo.Optimizer.Outliers): a value
// told before there was a scale to judge it by.
func (r *Run) warnOutliers() {
	obs := r.opt.Observations()
	for _, i := range r.opt.Outliers() {
		if r.outliersWarned[i] {
			continue
		}
		if r.outliersWarned == nil {
			r.outliersWarned = map[int]bool{}
		}
		r.outliersWarned[i] = true
		ob := obs[i]
		worst, _ := r.opt.WorstY()
		r.warn("warning", fmt.Sprintf("the evaluation at x = %v, w = %v returned y = %g, an outlier of the successful evaluations since told: the model uses %g (the worst other value) in its place; trials.jsonl keeps the value (optimizer.outlier_factor sets the limit)", ob.X, ob.W, ob.Y, worst), nil)
	}
}

// nOK counts the successful evaluations told to the optimiser.
func (r *Run) nOK() int {
	n := 0
	for _, ob := range r.opt.Observations() {
		if ob.How == "ok" {
			n++
		}
	}
	return n
}
