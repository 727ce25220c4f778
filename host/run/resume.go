package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"bohost/host/bo"
	"bohost/host/errs"
	"bohost/host/journal"
	"bohost/host/version"
	"bohost/host/worker"
)

// checkpointPayload is the payload of checkpoint.json.
type checkpointPayload struct {
	Format        int             `json:"format"`
	NTrials       int             `json:"n_trials"` // lines of trials.jsonl the optimiser has seen
	Carry         int             `json:"carry"`    // retry attempts journaled for the first pending candidate
	Iteration     int             `json:"iteration"`
	BohostVersion string          `json:"bohost_version"`
	Optimizer     json.RawMessage `json:"optimizer"` // bo.State
}

// checkpoint writes checkpoint.json (the previous one becomes
// checkpoint.prev.json).
func (r *Run) checkpoint() error {
	st := r.opt.State()
	b, err := json.Marshal(st)
	if err != nil {
		return errs.New(errs.Internal, "run.checkpoint", "optimiser state is not JSON-able: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return errs.New(errs.Internal, "run.checkpoint", "%v", err)
	}
	payload := map[string]any{"format": 1, "n_trials": r.nTrials, "carry": r.carry, "iteration": st.Iteration,
		"bohost_version": version.Version, "optimizer": v}
	r.kill.at("checkpoint")
	return r.codec.Save(filepath.Join(r.dir, CheckpointFile), payload)
}

// fromPayload rebuilds the optimiser from a checkpoint payload.
func fromPayload(payload any) (*bo.Optimizer, checkpointPayload, error) {
	var cp checkpointPayload
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, cp, err
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, cp, err
	}
	if cp.Format != 1 {
		return nil, cp, fmt.Errorf("checkpoint payload format %d, want 1", cp.Format)
	}
	var st bo.State
	if err := json.Unmarshal(cp.Optimizer, &st); err != nil {
		return nil, cp, fmt.Errorf("optimiser state: %v", err)
	}
	o, err := bo.Restore(st)
	return o, cp, err
}

// resume restores the optimiser from the checkpoint (or rebuilds it from
// config.json and the journal) and re-tells the journaled trials the
// checkpoint has not seen.
func (r *Run) resume(ctx context.Context, fresh *bo.Optimizer) error {
	trials, err := ReadTrials(r.dir)
	if err != nil {
		return err
	}
	r.nTrials = len(trials)
	for _, t := range trials {
		if t.Status == worker.StatusOK {
			r.consecutive = 0
		} else {
			r.failures[t.Status]++
			r.consecutive++
			r.lastFailure = fmt.Sprintf("trial %d: %s: %s", t.Trial, t.Status, deref(t.Error))
		}
	}
	journal.ReadAll(filepath.Join(r.dir, IterationsFile), func(line []byte) error {
		var it Iteration
		if json.Unmarshal(line, &it) == nil && it.Iteration >= r.lastIterRec {
			r.lastIterRec = it.Iteration
			itc := it
			r.last = &itc
		}
		return nil
	})
	var o *bo.Optimizer
	skip := 0
	from := "config.json and trials.jsonl (no checkpoint yet)"
	ld, err := r.codec.Latest(r.dir)
	switch {
	case err == nil:
		if ld.Warning != nil {
			r.warn("checkpoint_fallback", fmt.Sprintf("%s; resuming from %s and trials.jsonl", ld.Warning.String(), filepath.Base(ld.Path)), nil)
		}
		oo, cp, perr := fromPayload(ld.Payload)
		switch {
		case perr != nil:
			r.warn("checkpoint_fallback", fmt.Sprintf("%s is unusable (%v); rebuilding the optimiser from config.json and trials.jsonl", filepath.Base(ld.Path), perr), nil)
		case cp.NTrials > len(trials):
			r.warn("checkpoint_fallback", fmt.Sprintf("%s has seen %d trials but trials.jsonl holds %d; rebuilding the optimiser from config.json and trials.jsonl", filepath.Base(ld.Path), cp.NTrials, len(trials)), nil)
		default:
			o, skip, r.carry = oo, cp.NTrials, cp.Carry
			from = fmt.Sprintf("%s (iteration %d, %d trials) and trials.jsonl", filepath.Base(ld.Path), cp.Iteration, cp.NTrials)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		r.warn("checkpoint_fallback", fmt.Sprintf("%v; rebuilding the optimiser from config.json and trials.jsonl", err), nil)
		from = "config.json and trials.jsonl (no usable checkpoint)"
	}
	if o == nil {
		o, skip, r.carry = fresh, 0, 0
	}
	if r.forced && !sameConfig(o.Config(), fresh.Config()) {
		// The optimiser's configuration changed: exact resume is impossible.
		// Warm-start a fresh optimiser with every journaled result.
		o, err = warmStart(fresh, trials)
		if err != nil {
			return err
		}
		r.opt = o
		r.warn("warning", "forced resume with a changed optimiser configuration: the journal's results were told to a new optimiser (exact reproducibility no longer holds)", nil)
	} else {
		r.opt = o
		if err := r.replay(ctx, trials, skip); err != nil {
			if !r.forced {
				return err
			}
			r.warn("warning", fmt.Sprintf("%v; forced: warm-starting a new optimiser from the journal", err), nil)
			if r.opt, err = warmStart(fresh, trials); err != nil {
				return err
			}
		}
	}
	for _, t := range trials {
		if t.Tell != "retry" {
			r.nTold++
		}
	}
	if err := r.unspool(); err != nil {
		return err
	}
	msg := fmt.Sprintf("resumed from %s: %d trials, iteration %d of %d", from, len(trials), r.opt.Iteration(), r.cfg.Iterations)
	if r.forced {
		msg += "; forced over changed " + fmt.Sprint(r.forceDiffs)
	}
	r.eventExtra("resume", msg, nil, r.sessionExtra())
	fmt.Fprintf(r.opts.Log, "bohost run: %s\n", msg)
	if r.lastDoneGroup() >= r.cfg.Iterations && len(r.queue) == 0 {
		var s Summary
		if b, err := os.ReadFile(filepath.Join(r.dir, SummaryFile)); err == nil && json.Unmarshal(b, &s) == nil && s.Status == "finished" {
			r.finished = &s
		}
	}
	return nil
}

func sameConfig(a, b bo.Config) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func warmStart(o *bo.Optimizer, trials []Trial) (*bo.Optimizer, error) {
	for _, t := range trials {
		if t.Told == nil || (t.Tell != "ok" && t.Tell != "worst") {
			continue
		}
		c := bo.Candidate{X: t.XVec, W: t.W, EnvIndex: t.EnvIndex}
		err := o.Tell(c, *t.Told)
		if errs.Is(err, errs.BadValue) {
			// A value an older bohost accepted that the model cannot use.
			err = o.TellFailed(c, bo.FailSkip)
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func sameVec(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(a[i] == 0 && b[i] == 0) {
			return false
		}
	}
	return true
}

func (r *Run) mismatch(t Trial, c bo.Candidate) error {
	return errs.New(errs.BadState, "run.resume",
		"trials.jsonl line %d (iteration %d, x %v, env %d) does not match the optimiser's proposal (x %v, env %d): the journal was written by another configuration or bohost version",
		t.Trial+1, t.Iteration, t.XVec, t.EnvIndex, c.X, c.EnvIndex).WithHint("force the resume to warm-start a new optimiser from the journal, or use a new run directory")
}

func matches(t Trial, c bo.Candidate) bool {
	return sameVec(t.XVec, c.X) && sameVec(t.W, c.W) && t.EnvIndex == c.EnvIndex
}

// replay re-tells trials[i:] (the checkpoint's optimiser has seen the
// first i) by asking the optimiser again on the run's schedule (pipeline.go:
// the initial design, then, as each iteration is told, the iterations up to
// in_flight ahead), checking that every proposal is the journaled one.
// What is asked and not in the journal stays queued: those evaluations run
// (or come from completed.jsonl) when the run continues.
func (r *Run) replay(ctx context.Context, trials []Trial, i int) error {
	r.requeue(trials[:i])
	if err := r.askAhead(ctx); err != nil {
		return err
	}
	for ; i < len(trials); i++ {
		t := trials[i]
		if len(r.queue) == 0 {
			return errs.New(errs.BadState, "run.resume",
				"trials.jsonl line %d (iteration %d, x %v) was not proposed: the optimiser has no candidate in flight there; the journal was written by another configuration or bohost version",
				t.Trial+1, t.Iteration, t.XVec).WithHint("force the resume to warm-start a new optimiser from the journal, or use a new run directory")
		}
		q := r.queue[0]
		if !matches(t, q.c) {
			return r.mismatch(t, q.c)
		}
		if t.Tell == "retry" {
			r.carry, q.next = t.Attempt, t.Attempt+1
			continue
		}
		r.carry = 0
		if err := r.tellJournaled(q.c, t); err != nil {
			return err
		}
		r.queue = r.queue[1:]
		if r.queuedGroup(q.group) {
			if r.interleave {
				if err := r.askAhead(ctx); err != nil {
					return err
				}
			}
			continue
		}
		if q.group > r.lastIterRec {
			r.writeIteration(ctx, q.group)
		}
		if err := r.askAhead(ctx); err != nil {
			return err
		}
	}
	return nil
}

// requeue rebuilds the queue from the optimiser's pending candidates (a
// restored checkpoint's) and the trials it has seen: each pending
// candidate's iteration, its index in it, and the attempt it is at.
func (r *Run) requeue(seen []Trial) {
	r.queue = nil
	told := map[int]int{}
	for _, t := range seen {
		if t.Tell != "retry" {
			told[t.Iteration]++
		}
	}
	pend, at := r.opt.Pending()
	for k, c := range pend {
		g := at[k]
		idx := told[g]
		told[g]++
		r.groupLen[g] = told[g]
		r.queue = append(r.queue, &queued{c: c, group: g, idx: idx, next: 1})
	}
	if r.interleave {
		r.sortQueue()
	}
	if len(r.queue) > 0 {
		r.queue[0].next = r.carry + 1
	}
}

// tellJournaled tells the optimiser what trial t's line says it was told.
func (r *Run) tellJournaled(c bo.Candidate, t Trial) error {
	switch t.Tell {
	case "ok":
		if t.Y == nil {
			return errs.New(errs.BadState, "run.resume", "trials.jsonl line %d has tell \"ok\" but no y", t.Trial+1)
		}
		return r.opt.Tell(c, *t.Y)
	case bo.FailWorst, bo.FailSkip:
		return r.opt.TellFailed(c, t.Tell)
	}
	return errs.New(errs.BadState, "run.resume", "trials.jsonl line %d has an unknown tell %q", t.Trial+1, t.Tell)
}
