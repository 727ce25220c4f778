package airline

import (
	"context"
	"runtime"
	"strconv"
	"sync"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// ImageFunc supplies image i of a batch and its ground truth. EvalMany calls
// it from several goroutines at once, so it must be safe for concurrent use
// (dataset.Dataset.Image is).
type ImageFunc func(i int) (*imgbuf.Gray, []imgbuf.Segment, error)

// EvalMany scores x on the images 0..n-1 that image supplies, one image per
// goroutine on up to workers goroutines (workers <= 0: runtime.GOMAXPROCS),
// and returns the records in index order. x is validated once, before any
// image is loaded. On failure it returns the error of the lowest failing
// index i, its message prefixed with "image i+1 of n: " (ordinal, so it
// reads the same from Go and Lua; kind and hint preserved), and stops
// handing out further images; canceling ctx does the same with kind
// canceled. Each Record's Ms is the detection time of its own image.
func (e *Evaluator) EvalMany(ctx context.Context, x []float64, n int, image ImageFunc, workers int) ([]Record, error) {
	const op = "airline.eval_many"
	if ctx == nil {
		ctx = context.Background()
	}
	if n < 0 {
		return nil, errs.New(errs.BadArg, op, "n must be >= 0, got %d", n)
	}
	if image == nil {
		return nil, errs.New(errs.BadArg, op, "image function is nil")
	}
	if _, err := checkX(op, e.space, x); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > n {
		workers = n
	}
	recs := make([]Record, n)
	errAt := make([]error, n)
	// A failure stops the feeding of new images but lets the images already
	// handed out finish (they all have lower indices than any image not yet
	// fed), so the error reported is the lowest failing index's whatever the
	// timing. Only the caller's ctx interrupts running evaluations.
	stop := make(chan struct{})
	var stopOnce sync.Once
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errAt[i] = e.evalOne(ctx, x, i, image, &recs[i])
				if errAt[i] != nil {
					stopOnce.Do(func() { close(stop) })
				}
			}
		}()
	}
	i := 0
feed:
	for ; i < n; i++ {
		select {
		case <-ctx.Done():
			break feed
		case <-stop:
			break feed
		case next <- i:
		}
	}
	close(next)
	wg.Wait()
	for j := 0; j < n; j++ {
		if errAt[j] != nil && !errs.Is(errAt[j], errs.Canceled) {
			return nil, prefixErr(op, j, n, errAt[j])
		}
	}
	for j := 0; j < n; j++ {
		if errAt[j] != nil {
			return nil, prefixErr(op, j, n, errAt[j])
		}
	}
	if i < n {
		return nil, errs.New(errs.Canceled, op, "interrupted after %d of %d images", i, n)
	}
	return recs, nil
}

// evalOne loads and scores image i, turning a panic in image into an error.
func (e *Evaluator) evalOne(ctx context.Context, x []float64, i int, image ImageFunc, rec *Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.New(errs.Internal, "airline.eval_many", "panic: %v", r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return errs.New(errs.Canceled, "airline.eval_many", "interrupted")
	}
	img, gt, err := image(i)
	if err != nil {
		return err
	}
	*rec, err = e.Eval(ctx, x, img, gt)
	return err
}

// prefixErr names image i (0-based) of n in err's message, keeping its kind and hint.
func prefixErr(op string, i, n int, err error) error {
	k := errs.Wrap(errs.Failed, op, err)
	return &errs.Error{Kind: k.Kind, Op: k.Op, Msg: "image " + strconv.Itoa(i+1) + " of " + strconv.Itoa(n) + ": " + k.Msg, Hint: k.Hint, Err: err}
}
