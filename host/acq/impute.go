package acq

import (
	"gonum.org/v1/gonum/mat"

	"bohost/host/errs"
	"bohost/host/gp"
	"bohost/host/internal/linalg"
)

// Impute overwrites y[i] for every i in miss with the posterior mean of
// y_i given the other rows, E[y_M | y_O], under the fitted model m's
// hyper-parameters, noise and jitter (the values in y at miss are ignored).
//
// It lets a data set with a few cells still being evaluated keep the grid
// route: bo fills the untold w's of an x whose other w's are told, so the
// rows form an x × W grid again. The posterior mean anywhere is then exactly
// the one given the told rows alone (the imputed values are their own
// conditional means), and the variance at the imputed cells is the kriging
// believer's. With A = (K + σ²I)⁻¹ on all rows, E[r_M | r_O] =
// −A_MM⁻¹ A_MO r_O (standardised residuals r), which costs |M| + 1 solves
// with A: on the grid route O(n (n_x + n_w)) each.
func Impute(m *gp.Model, X [][]float64, y []float64, miss []int) error {
	const op = "acq.Impute"
	if len(miss) == 0 {
		return nil
	}
	if m == nil || !m.Fitted() {
		return errs.New(errs.BadState, op, "the GP model is not fitted")
	}
	ym, ys := m.YTransform()
	c0 := m.Hyper().Mean
	in := make([]bool, len(y))
	for _, i := range miss {
		if i < 0 || i >= len(y) || in[i] {
			return errs.New(errs.BadArg, op, "missing row %d out of range or repeated (%d rows)", i, len(y))
		}
		in[i] = true
		y[i] = ym + ys*c0 // standardised residual 0
	}
	if len(miss) == len(y) {
		return nil // nothing told: the prior mean
	}
	p, err := NewPost(m, X, y)
	if err != nil {
		return err
	}
	n, k := len(y), len(miss)
	r := make([]float64, n)
	for i := range r {
		if !in[i] {
			r[i] = (y[i]-ym)/ys - c0
		}
	}
	p.solve(r) // A r with r_M = 0: (A r)_M = A_MO r_O
	b := make([]float64, k)
	for a, i := range miss {
		b[a] = r[i]
	}
	amm := mat.NewSymDense(k, nil)
	e := make([]float64, n)
	for a, i := range miss {
		clear(e)
		e[i] = 1
		p.solve(e)
		for c := 0; c <= a; c++ {
			amm.SetSym(a, c, e[miss[c]])
		}
	}
	var ch mat.Cholesky
	if _, ok := linalg.Chol(&ch, amm, 0); !ok {
		return errs.New(errs.NotPD, op, "the precision block of the %d missing rows is not positive definite", k)
	}
	var sol mat.VecDense
	if err := ch.SolveVecTo(&sol, mat.NewVecDense(k, b)); err != nil {
		return errs.New(errs.NotPD, op, "%v", err)
	}
	for a, i := range miss {
		y[i] = ym + ys*(c0-sol.AtVec(a))
	}
	return nil
}
