package bo

import (
	"slices"

	"bohost/host/internal/num"
)

// gridRows is all_w training data arranged as an x × W grid (x-major, each
// x's rows in W-set order, x's in order of first evaluation), so the GP
// takes its Kronecker route whatever order the results were told in.
type gridRows struct {
	fitX [][]float64 // the x's told at every w: what the hyper-parameters are fitted on
	fitY []float64
	X    [][]float64 // fitX, then the partly told x's at every w
	y    []float64   // their y's; rows miss are to be imputed
	miss []int
}

// grid arranges the training rows X, y (trainData's) as a grid when they
// are all_w data on the current W set whose untold cells are all pending:
// x's whose results are still coming in (asynchronous runs tell each w as
// it finishes) keep their told w's in the posterior, their pending w's
// imputed (acq.Impute), instead of sending the GP to its dense route. It
// returns false, leaving the data as they are, when the rows already form
// the grid in order (the sequential loop: nothing changes), when a cell is
// missing without being pending (a skipped failure) or repeated, when
// fewer than two x's are complete, or when x's are partly told and the
// acquisition is UCB or EI (the constant liar conditions on those cells).
func (o *Optimizer) grid(X [][]float64, y []float64) (gridRows, bool) {
	if o.cfg.Mode != ModeAllW || len(o.wset) < 2 || len(X) == 0 {
		return gridRows{}, false
	}
	nw := len(o.wset)
	wAt := make(map[string]int, nw)
	for i, w := range o.wset {
		wAt[num.Key(w)] = i
	}
	type group struct {
		x     []float64
		cells []int // row of each w, −1 when untold
		told  int
	}
	var groups []*group
	byX := map[string]*group{}
	inOrder := true
	for r, row := range X {
		xk, wk := num.Key(row[:o.dx]), num.Key(row[o.dx:])
		i, ok := wAt[wk]
		if !ok {
			return gridRows{}, false
		}
		g := byX[xk]
		if g == nil {
			g = &group{x: row[:o.dx], cells: slices.Repeat([]int{-1}, nw)}
			byX[xk] = g
			groups = append(groups, g)
		}
		if g.cells[i] >= 0 {
			return gridRows{}, false
		}
		if r != (len(groups)-1)*nw+i {
			inOrder = false
		}
		g.cells[i] = r
		g.told++
	}
	pend := map[string]bool{}
	for _, c := range o.pending {
		pend[num.Key(o.toInternal(c.X))+num.Key(c.W)] = true
	}
	var out gridRows
	var partial []*group
	for _, g := range groups {
		if g.told == nw {
			for _, r := range g.cells {
				out.fitX = append(out.fitX, X[r])
				out.fitY = append(out.fitY, y[r])
			}
			continue
		}
		for i, r := range g.cells {
			if r < 0 && !pend[num.Key(g.x)+num.Key(o.wset[i])] {
				return gridRows{}, false
			}
		}
		partial = append(partial, g)
	}
	if (inOrder && len(partial) == 0) || len(out.fitY) < 2*nw {
		return gridRows{}, false
	}
	if len(partial) > 0 && (o.cfg.Acquisition == AcqUCB || o.cfg.Acquisition == AcqEI) {
		// Their constant liar tells the pending cells the lowest y; an
		// imputed (believed) value there would contradict it.
		return gridRows{}, false
	}
	out.X, out.y = slices.Clone(out.fitX), slices.Clone(out.fitY)
	for _, g := range partial {
		for i, r := range g.cells {
			if r < 0 {
				out.miss = append(out.miss, len(out.y))
				out.X = append(out.X, append(slices.Clone(g.x), o.wset[i]...))
				out.y = append(out.y, 0)
				continue
			}
			out.X = append(out.X, X[r])
			out.y = append(out.y, y[r])
		}
	}
	return out, true
}
