package run

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a bar with ETA and the best CVaR on a terminal, and plain
// log lines otherwise.
type progress struct {
	w           io.Writer
	bar         *progressbar.ProgressBar
	done, total int
}

func newProgress(w io.Writer, bar, terminal bool, total, done int) *progress {
	p := &progress{w: w, done: done, total: total}
	if bar && terminal && w != io.Discard {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("bo"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetItsString("evals"),
			progressbar.OptionShowIts(),
		)
		p.bar.Set(done)
	}
	return p
}

// update moves the bar to done told evaluations.
func (p *progress) update(done, iter int, best *float64) {
	if p.bar == nil {
		return
	}
	d := fmt.Sprintf("iter %d", iter)
	if best != nil {
		d += fmt.Sprintf(" best CVaR %.4g", *best)
	}
	p.bar.Describe(d)
	p.bar.Set(done)
	p.done = done
}

// logf prints a line: above the bar on a terminal, plainly otherwise.
func (p *progress) logf(format string, a ...any) {
	if p.bar != nil {
		p.bar.Clear()
		fmt.Fprintf(p.w, format+"\n", a...)
		p.bar.RenderBlank()
		return
	}
	fmt.Fprintf(p.w, format+"\n", a...)
}

// iteration logs the per-iteration line when there is no bar.
func (p *progress) iteration(it Iteration, total int) {
	if p.bar != nil {
		return
	}
	line := fmt.Sprintf("bohost run: iteration %d, %d trials", it.Iteration, it.NTrials)
	if it.PosteriorCVaR != nil {
		line += fmt.Sprintf(", posterior CVaR %.4g", *it.PosteriorCVaR)
	}
	if it.BestObservedCVaR != nil {
		line += fmt.Sprintf(", best observed CVaR %.4g", *it.BestObservedCVaR)
	}
	fmt.Fprintln(p.w, line)
}

// finish ends the bar: at 100 % when the run completed; otherwise it is
// replaced by a line saying where the run stopped (the bar's last drawing
// may be older than its count, and it must not claim what was not done).
func (p *progress) finish(complete bool) {
	if p.bar == nil {
		return
	}
	if complete {
		p.bar.Finish()
		fmt.Fprintln(p.w)
		return
	}
	p.bar.Clear()
	p.bar.Exit()
	pct := 0
	if p.total > 0 {
		pct = 100 * p.done / p.total
	}
	fmt.Fprintf(p.w, "bo %d%% (%d/%d evals): stopped before the end\n", pct, p.done, p.total)
}
