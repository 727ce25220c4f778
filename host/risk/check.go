package risk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxSuggestNW bounds the search for a separating n_w in CheckAlphas.
const maxSuggestNW = 1 << 16

// estimator identifies the CVaR estimator at (n, alpha): two alphas with the
// same key give the same function of the n values.
func estimator(n int, alpha float64, conv Convention) (key, desc string, worst bool) {
	k, frac := Tail(n, alpha, conv)
	switch {
	case k == 0 || (k == 1 && frac == 0):
		return "worst", "the worst case", true
	case k == n && frac == 0:
		return "mean", "the plain mean", false
	case frac == 0:
		return strconv.Itoa(k), fmt.Sprintf("the mean of the %d worst of %d", k, n), false
	}
	key = strconv.Itoa(k) + "+" + strconv.FormatFloat(frac, 'g', 12, 64)
	return key, fmt.Sprintf("the %d worst plus %.3g of the next, of %d", k, frac, n), false
}

// collapsed reports whether alpha's CVaR at n is the worst case although the
// user asked for more than the single worst value.
func collapsed(n int, alpha float64, conv Convention) bool {
	k, _ := Tail(n, alpha, conv)
	if conv == BoTorch {
		return k == 1 && alpha < 1 // BoTorch's alpha = 1 is the worst case by definition
	}
	return k == 0 // alpha*n < 1: the tail is less than one sample
}

// CheckAlphas checks a sweep of CVaR alphas at n_w = nw under conv and
// returns human-readable warnings:
//   - an alpha outside (0, 1], or listed twice (it is then ignored);
//   - an alpha whose CVaR at nw is just the worst case: alpha*nw < 1 under
//     Bohost, k = 1 with alpha < 1 under BoTorch;
//   - a group of alphas that give the same estimator at nw (they would
//     optimise one objective several times);
//   - under BoTorch, that alpha is the confidence level when some alpha is
//     below 0.5 (bohost's tail fraction a is BoTorch's 1 - a).
//
// suggestNW is the smallest n_w >= 1 at which the valid alphas all give
// pairwise different estimators and none collapses to the worst case; it is
// 0 when there is no valid alpha or none exists up to 65536. It may be below
// nw when nw already separates the alphas.
//
// Example: alphas 0.1..0.5 at nw = 3 give the worst case for 0.1, 0.2, 0.3
// under Bohost (suggestNW = 10), and under BoTorch the plain mean for
// 0.1..0.3 and the mean of the 2 worst for 0.4, 0.5 (suggestNW = 9).
func CheckAlphas(alphas []float64, nw int, conv Convention) (warnings []string, suggestNW int) {
	if conv == "" {
		conv = Bohost
	}
	if err := checkConv("risk.CheckAlphas", conv, false); err != nil {
		return []string{err.Error()}, 0
	}
	var valid []float64
	for i, a := range alphas {
		if checkAlpha("", a) != nil {
			warnings = append(warnings, fmt.Sprintf("alphas[%d] = %v is outside (0, 1]; ignored", i, a))
			continue
		}
		if slices.Contains(valid, a) {
			warnings = append(warnings, fmt.Sprintf("alpha %v is listed twice; counted once", a))
			continue
		}
		valid = append(valid, a)
	}
	if len(valid) == 0 {
		return warnings, 0
	}
	if nw < 1 {
		warnings = append(warnings, fmt.Sprintf("n_w must be at least 1, got %d", nw))
	} else {
		warnings = append(warnings, separation(valid, nw, conv)...)
	}
	if conv == BoTorch && slices.Min(valid) < 0.5 {
		warnings = append(warnings, fmt.Sprintf(
			"convention botorch: alpha is the confidence level, so alpha %v averages the worst %.0f%%; "+
				"for the worst-fraction reading use convention bohost (bohost alpha a = botorch 1 - a)",
			slices.Min(valid), 100*(1-slices.Min(valid))))
	}
	for n := 1; n <= maxSuggestNW; n++ {
		if len(separation(valid, n, conv)) == 0 {
			return warnings, n
		}
	}
	return warnings, 0
}

// separation returns the collapse and same-estimator warnings at n.
func separation(alphas []float64, n int, conv Convention) []string {
	var out []string
	type group struct {
		desc   string
		alphas []string
	}
	var order []string
	groups := map[string]*group{}
	for _, a := range alphas {
		if collapsed(n, a, conv) {
			if conv == BoTorch {
				out = append(out, fmt.Sprintf(
					"alpha %v at n_w = %d: BoTorch averages 1 value, so CVaR is the worst case", a, n))
			} else {
				out = append(out, fmt.Sprintf(
					"alpha %v at n_w = %d: alpha*n_w = %.3g < 1, so CVaR is the worst case", a, n, a*float64(n)))
			}
		}
		key, desc, _ := estimator(n, a, conv)
		g, ok := groups[key]
		if !ok {
			g = &group{desc: desc}
			groups[key] = g
			order = append(order, key)
		}
		g.alphas = append(g.alphas, strconv.FormatFloat(a, 'g', -1, 64))
	}
	for _, key := range order {
		g := groups[key]
		if len(g.alphas) > 1 {
			out = append(out, fmt.Sprintf("alphas %s give the same estimator at n_w = %d (%s, convention %s)",
				strings.Join(g.alphas, ", "), n, g.desc, conv))
		}
	}
	return out
}
