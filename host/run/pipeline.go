package run

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/journal"
	"bohost/host/worker"
)

// The pipeline keeps evaluations in flight across iterations (issue 17).
//
// An iteration's candidates (the initial design, then one pair or one x at
// every w per BO iteration) form a group. With in_flight = D, once group g
// is told the run asks groups up to g + D: BO iterations g+1 … g+D are in
// flight together, each proposed conditioned on the ones still pending
// (bo.Optimizer.AskMore). Candidates are dispatched in ask order to at most
// Workers workers; a worker freed by a finished evaluation takes the next.
//
// What the optimiser is told, and the line in trials.jsonl, follow the ask
// order (group by group, candidate by candidate), whatever order the
// evaluations finish in: the ask schedule and every decision (failure
// policy, values the model cannot use) then depend only on the seed and D,
// so a resumed run reproduces an uninterrupted one line for line. An
// evaluation that finishes before its turn is not kept in memory only: it
// is first appended (fsynced) to completed.jsonl, from which a resume takes
// it instead of evaluating again. D = 1 is the sequential loop of earlier
// versions (no completed.jsonl is written then).
//
// The interleave schedule (all_w mode, D > 1, the default there) tells the
// in-flight x's in turns instead, one w each: candidate i of BO iteration
// g (1-based) is due at tick T(g, i) = ⌊(g−1) n_w / D⌋ + i + 1, the queue
// is ordered by (tick, iteration), and iteration g is asked once every
// candidate due by tick ⌊(g−1) n_w / D⌋ is told. In steady state D x's are
// in flight, started n_w / D ticks apart, and a new x is asked as the oldest
// finishes, conditioned on the others' told w's (a quarter, half and three
// quarters of them with D = 4) rather than on none (fifo). The ramp-up
// (one x, then a second after n_w / D of its w's, ...) leaves no worker
// idle: the queue always holds more candidates than workers. The order is a
// function of (g, i) alone, so resume and requeue rebuild it exactly.

// CompletedFile holds evaluations that finished before their turn to be
// told (docs/rundir.md).
const CompletedFile = "completed.jsonl"

// queued is a candidate asked and not told yet.
type queued struct {
	c          bo.Candidate
	group, idx int       // its iteration and index within the iteration
	next       int       // the attempt number its next evaluation gets
	got        []attempt // attempts finished before their turn (in completed.jsonl)
	running    bool
}

// final reports whether the attempt is the candidate's last one.
func (r *Run) final(res worker.Result, n int) bool {
	return res.Status == worker.StatusOK || res.Status == worker.StatusCanceled ||
		r.cfg.OnFailure != FailRetry || n > r.cfg.Retries
}

type arrival struct {
	q *queued
	a attempt
}

// enqueue adds the candidates of group g to the queue: at its end (fifo),
// or each at its tick (interleave).
func (r *Run) enqueue(g int, cs []bo.Candidate, firstIdx int) {
	r.groupLen[g] = firstIdx + len(cs)
	for i, c := range cs {
		r.queue = append(r.queue, &queued{c: c, group: g, idx: firstIdx + i, next: 1})
	}
	if r.interleave && g > 0 {
		r.sortQueue()
	}
}

// tick is when q is due under the interleave schedule (pipeline comment);
// the initial design (group 0) comes before every tick.
func (r *Run) tick(q *queued) int {
	if q.group == 0 {
		return 0
	}
	return r.askTick(q.group) + q.idx + 1
}

// askTick is the tick after which BO iteration g is asked (interleave).
func (r *Run) askTick(g int) int {
	if r.perGroup == 0 {
		r.perGroup = max(len(r.opt.WSet()), 1)
	}
	return (g - 1) * r.perGroup / r.inFlight
}

// sortQueue orders the queue by (tick, iteration); stable, so the
// candidates of one iteration keep their order.
func (r *Run) sortQueue() {
	slices.SortStableFunc(r.queue, func(a, b *queued) int {
		if c := cmp.Compare(r.tick(a), r.tick(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.group, b.group)
	})
}

// queuedGroup reports whether a candidate of group g is still in the queue.
func (r *Run) queuedGroup(g int) bool {
	for _, q := range r.queue {
		if q.group == g {
			return true
		}
	}
	return false
}

// lastDone is the last iteration whose candidates were all told (-1: none).
// Iterations finish in order under both schedules.
func (r *Run) lastDoneGroup() int {
	if len(r.queue) > 0 {
		g := r.queue[0].group
		for _, q := range r.queue[1:] {
			g = min(g, q.group)
		}
		return g - 1
	}
	if !r.opt.Started() {
		return -1
	}
	return r.opt.Iteration()
}

// resolveInFlight fills in Config.InFlight and Config.Schedule: on resume
// the values the run was made with (1 and fifo when config.json predates
// the options), else enough iterations to keep every worker busy and, in
// all_w mode with several in flight, the interleave schedule.
func (r *Run) resolveInFlight(resume bool) {
	if resume && (r.cfg.InFlight == 0 || r.cfg.Schedule == "") {
		var rec struct {
			InFlight int    `json:"in_flight"`
			Schedule string `json:"schedule"`
		}
		if b, err := os.ReadFile(filepath.Join(r.dir, ConfigFile)); err == nil && jsonUnmarshal(b, &rec) == nil {
			if r.cfg.InFlight == 0 {
				r.cfg.InFlight = rec.InFlight
			}
			if r.cfg.Schedule == "" {
				r.cfg.Schedule = rec.Schedule
			}
		}
		r.cfg.InFlight = max(r.cfg.InFlight, 1)
		if r.cfg.Schedule == "" {
			r.cfg.Schedule = ScheduleFIFO
		}
	}
	if r.cfg.InFlight == 0 {
		per := 1
		if r.cfg.Optimizer.Mode == bo.ModeAllW {
			per = max(r.cfg.Optimizer.NW, 1)
		}
		r.cfg.InFlight = max(1, (r.cfg.Workers+per-1)/per)
	}
	r.inFlight = r.cfg.InFlight
	if r.cfg.Schedule == "" {
		r.cfg.Schedule = ScheduleFIFO
		if r.cfg.Optimizer.Mode == bo.ModeAllW && r.inFlight > 1 {
			r.cfg.Schedule = ScheduleInterleave
		}
	}
	// Interleaving needs groups of n_w candidates and more than one in
	// flight; otherwise it is the fifo order.
	r.interleave = r.cfg.Schedule == ScheduleInterleave && r.cfg.Optimizer.Mode == bo.ModeAllW && r.inFlight > 1
}

// The schedules (Config.Schedule).
const (
	ScheduleFIFO       = "fifo"
	ScheduleInterleave = "interleave"
)

// askError marks an error of the optimiser's ask (its fit or acquisition).
type askError struct{ error }

func (e askError) Unwrap() error { return e.error }

func (r *Run) isAskError(err error) bool {
	var a askError
	return errors.As(err, &a)
}

// askAhead asks what the schedule allows now: the initial design first,
// then, once group g is told, BO iterations up to g + in_flight.
func (r *Run) askAhead(ctx context.Context) error {
	if !r.opt.Started() {
		cs, err := r.opt.AskMore(ctx, 1)
		if err != nil {
			return askError{err}
		}
		r.enqueue(0, cs, 0)
		return nil
	}
	done := r.lastDoneGroup()
	if len(r.queue) > 0 && r.queue[0].group == 0 {
		return nil // BO iterations wait for the whole initial design
	}
	for r.opt.Iteration() < min(done+r.inFlight, r.cfg.Iterations) {
		if r.interleave {
			// Wait until every candidate due by the ask's tick is told.
			if len(r.queue) > 0 && r.tick(r.queue[0]) <= r.askTick(r.opt.Iteration()+1) {
				break
			}
		}
		r.kill.at("fit")
		cs, err := r.opt.AskMore(ctx, 1)
		if err != nil {
			return askError{err}
		}
		g := r.opt.Iteration()
		r.diagOf[g] = r.opt.Diagnostics()
		r.enqueue(g, cs, 0)
	}
	return nil
}

// pipeline runs evaluations until every iteration is told, ctx ends, too
// many evaluations fail in a row (stop) or something breaks (err).
func (r *Run) pipeline(ctx context.Context) (stop string, err error) {
	ectx, cancel := context.WithCancel(ctx)
	arrivals := make(chan arrival)
	var wg sync.WaitGroup
	running := 0
	defer func() {
		// Stop what runs, and keep whatever finished meanwhile: a finished
		// evaluation is never dropped (told in its turn, else completed.jsonl).
		cancel()
		go func() { wg.Wait(); close(arrivals) }()
		for a := range arrivals {
			if a.a.res.Status == worker.StatusCanceled {
				continue
			}
			if herr := r.keep(a); herr != nil && err == nil {
				err = herr
			}
		}
	}()
	dispatch := func(q *queued, pos int) {
		q.running = true
		running++
		wg.Add(1)
		// The trials.jsonl line this evaluation gets: every candidate
		// before it in the queue gets one line first (exact unless an
		// earlier candidate is retried).
		trial := r.nTrials + pos
		go func() {
			defer wg.Done()
			for n := q.next; ; n++ {
				req := worker.Request{X: q.c.X, W: q.c.W, EnvIndex: q.c.EnvIndex,
					Args: requestArgs(trial+n-q.next, q.group, q.idx, n, r.names)}
				if q.c.EnvIndex >= 0 && q.c.EnvIndex < len(r.envIDs) {
					req.EnvID = r.envIDs[q.c.EnvIndex]
				}
				res := r.disp.Eval(ectx, req)
				fin := r.final(res, n)
				arrivals <- arrival{q, attempt{res, n, fin}}
				if fin {
					return
				}
			}
		}()
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", nil
		}
		// Tell what is due, in order; asking ahead at each iteration's end.
		if stop, err := r.drain(ctx); stop != "" || err != nil {
			return stop, err
		}
		if len(r.queue) == 0 {
			if r.lastDoneGroup() >= r.cfg.Iterations {
				return "", nil
			}
			if err := r.askAhead(ctx); err != nil {
				return "", err
			}
			continue
		}
		for i, q := range r.queue {
			if running >= r.cfg.Workers {
				break
			}
			if !q.running && !q.done() {
				dispatch(q, i)
			}
		}
		if running == 0 {
			return "", errs.New(errs.Failed, "run", "nothing is running and iteration %d candidate %d has no result (the dispatcher abandoned it?)", r.queue[0].group, r.queue[0].idx)
		}
		r.kill.at("eval")
		select {
		case a := <-arrivals:
			if a.a.final {
				running--
				a.q.running = false
			}
			if a.a.res.Status == worker.StatusCanceled {
				if ctx.Err() == nil {
					return "", errs.New(errs.Failed, "run", "the dispatcher abandoned an evaluation (workers closed?)")
				}
				continue
			}
			if stop, err := r.arrive(ctx, a); stop != "" || err != nil {
				return stop, err
			}
		case <-ctx.Done():
			return "", nil
		}
	}
}

// RequestArgs is what a run tells an objective about an evaluation besides
// x and w (worker.Request.Args): its trial (the trials.jsonl line it is
// expected to get, 0-based: exact unless an earlier candidate is retried),
// iteration, candidate and attempt (1-based), and the parameters' names.
// Under the interleave schedule, an x asked after an evaluation started
// may take turns before it, which shifts the trial too.
// Built-in objectives ignore it; an external evaluator receives it
// (docs/evaluators.md).
type RequestArgs struct {
	Trial     int      `json:"trial"`
	Iteration int      `json:"iteration"`
	Candidate int      `json:"candidate"`
	Attempt   int      `json:"attempt"`
	Names     []string `json:"names"`
}

func requestArgs(trial, iteration, candidate, attempt int, names []string) []byte {
	b, _ := json.Marshal(RequestArgs{Trial: trial, Iteration: iteration, Candidate: candidate, Attempt: attempt, Names: names})
	return b
}

// done reports whether q's last attempt has arrived.
func (q *queued) done() bool { return len(q.got) > 0 && q.got[len(q.got)-1].final }

// arrive takes a finished attempt: recorded now when it is its candidate's
// turn, else kept (see keep) until then.
func (r *Run) arrive(ctx context.Context, a arrival) (string, error) {
	if len(r.queue) > 0 && r.queue[0] == a.q && len(a.q.got) == 0 {
		return r.record(ctx, a.q, a.a)
	}
	return "", r.keep(a)
}

// keep puts an attempt in completed.jsonl (fsynced) and memory, to be told
// in its turn. Shutting down, every attempt goes this way: telling it now
// could come before an ask the schedule puts first (the ask that follows
// an iteration's end), and the resumed run tells it in its place.
func (r *Run) keep(a arrival) error {
	if err := r.spool(a.q, a.a); err != nil {
		return err
	}
	a.q.got = append(a.q.got, a.a)
	return nil
}

// drain records the attempts that arrived before their turn and are due.
func (r *Run) drain(ctx context.Context) (string, error) {
	for len(r.queue) > 0 && len(r.queue[0].got) > 0 {
		q := r.queue[0]
		a := q.got[0]
		q.got = q.got[1:]
		if stop, err := r.record(ctx, q, a); stop != "" || err != nil {
			return stop, err
		}
	}
	return "", nil
}

// record writes the attempt's line to trials.jsonl and, when it is the
// candidate's last, tells the optimiser; at an iteration's end it writes the
// iteration's record, runs the hooks and asks ahead.
func (r *Run) record(ctx context.Context, q *queued, a attempt) (string, error) {
	t := r.trial(q.group, q.idx, q.c, a)
	if err := r.trials.Append(t); err != nil {
		return "", err
	}
	r.nTrials++
	r.kill.at("journal")
	q.next = a.n + 1
	if t.Tell == "retry" {
		r.carry = a.n
	} else {
		r.carry = 0
		if err := r.tellJournaled(q.c, t); err != nil {
			return "", err
		}
		r.queue = r.queue[1:]
		r.nTold++
		r.kill.at("tell")
	}
	if stop := r.countFailure(t, q, a); stop != "" {
		return stop, nil
	}
	r.prog.update(r.nTold, q.group, r.bestCVaR())
	if t.Tell == "retry" {
		return "", nil
	}
	if r.queuedGroup(q.group) {
		if r.interleave {
			return "", r.askAhead(ctx) // an ask may be due mid-iteration
		}
		return "", nil
	}
	// The iteration's last candidate is told.
	if err := r.finishIteration(ctx, q.group); err != nil {
		return "", err
	}
	return "", r.askAhead(ctx)
}

// countFailure keeps the failure counters and returns a stop reason when
// too many evaluations failed in a row.
func (r *Run) countFailure(t Trial, q *queued, a attempt) string {
	if t.Status == worker.StatusOK {
		r.consecutive = 0
		return ""
	}
	r.failures[t.Status]++
	r.consecutive++
	msg := fmt.Sprintf("trial %d (iteration %d, env %d, attempt %d): %s: %s", t.Trial, q.group, q.c.EnvIndex, a.n, t.Status, deref(t.Error))
	r.lastFailure = fmt.Sprintf("trial %d: %s: %s", t.Trial, t.Status, deref(t.Error))
	if t.Death == nil { // deaths are logged by the pool's OnDeath
		r.event("warning", msg, nil)
	}
	r.prog.logf("bohost run: %s", msg)
	if r.consecutive > r.cfg.MaxConsecutiveFailures {
		return fmt.Sprintf("%d evaluations failed in a row (max_consecutive_failures = %d); the last: %s",
			r.consecutive, r.cfg.MaxConsecutiveFailures, msg)
	}
	return ""
}

// spool appends an attempt that finished before its turn to
// completed.jsonl (fsynced), so that a resume tells it instead of
// evaluating it again.
func (r *Run) spool(q *queued, a attempt) error {
	if r.completed == nil {
		w, err := journal.Open(filepath.Join(r.dir, CompletedFile), &journal.Options{TruncateTorn: true})
		if err != nil {
			return err
		}
		r.completed = w
	}
	t := r.rawTrial(q.group, q.idx, q.c, a)
	t.Trial = -1
	return r.completed.Append(t)
}

// rawTrial is an attempt's record without what the optimiser is told.
func (r *Run) rawTrial(group, idx int, c bo.Candidate, a attempt) Trial {
	res := a.res
	t := Trial{Trial: r.nTrials, Iteration: group, Candidate: idx, Time: now(), ElapsedS: r.elapsed(), X: r.named(c.X), XVec: c.X, W: c.W,
		EnvIndex: c.EnvIndex, Status: res.Status, Attempt: a.n, Score: res.Score, Seconds: res.Seconds, Worker: res.Worker,
		PID: res.PID, PeakRSSBytes: res.PeakRSSBytes, ErrorKind: res.ErrorKind, Death: res.Death}
	if c.EnvIndex >= 0 && c.EnvIndex < len(r.envIDs) {
		t.EnvID = r.envIDs[c.EnvIndex]
	}
	if res.Error != "" {
		e := res.Error
		t.Error = &e
	}
	if res.Status == worker.StatusOK {
		t.Y = ptr(res.Y)
	}
	return t
}

// unspool reads completed.jsonl into the queue: the attempts of queued
// candidates that finished before their turn and are not in trials.jsonl.
func (r *Run) unspool() error {
	p := filepath.Join(r.dir, CompletedFile)
	if !fileExists(p) {
		return nil
	}
	byKey := map[[2]int]*queued{}
	for _, q := range r.queue {
		byKey[[2]int{q.group, q.idx}] = q
	}
	_, err := journal.ReadAll(p, func(line []byte) error {
		var t Trial
		if err := jsonUnmarshal(line, &t); err != nil {
			return err
		}
		q := byKey[[2]int{t.Iteration, t.Candidate}]
		if q == nil || t.Attempt < q.next || (len(q.got) > 0 && t.Attempt <= q.got[len(q.got)-1].n) {
			return nil // told already, or a duplicate
		}
		if !matches(t, q.c) {
			return errs.New(errs.BadState, "run.resume", "%s: iteration %d candidate %d (x %v, env %d) is not the optimiser's proposal (x %v, env %d)",
				CompletedFile, t.Iteration, t.Candidate, t.XVec, t.EnvIndex, q.c.X, q.c.EnvIndex).
				WithHint("the file belongs to another configuration; move it away to evaluate those candidates again")
		}
		res := worker.Result{Status: t.Status, Score: t.Score, Seconds: t.Seconds, Worker: t.Worker, PID: t.PID,
			PeakRSSBytes: t.PeakRSSBytes, ErrorKind: t.ErrorKind, Death: t.Death, Error: deref(t.Error)}
		if t.Y != nil {
			res.Y = *t.Y
		} else if f, ok := t.Score["f"].(float64); ok && t.Status == worker.StatusOK {
			res.Y = f
		}
		q.got = append(q.got, attempt{res, t.Attempt, r.final(res, t.Attempt)})
		return nil
	})
	if err != nil {
		return err
	}
	// The next evaluation of a candidate continues its attempt count.
	for _, q := range r.queue {
		if n := len(q.got); n > 0 {
			q.next = q.got[n-1].n + 1
		}
	}
	return nil
}
