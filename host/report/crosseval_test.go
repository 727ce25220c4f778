package report

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// heldOut returns n per-image scores of a baseline recommendation: a
// spread of easy and hard images.
func heldOut(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 11))
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.3 + 0.6*rng.Float64()
	}
	return v
}

// crossSweep writes a sweep of the reference (unless noRef) and alphas 0.1
// and 0.5, seeds 1–3, each with holdout.json scores from score(role, seed).
func crossSweep(t *testing.T, noRef bool, score func(alpha float64, ref bool, seed int64) []float64) string {
	t.Helper()
	sweep := filepath.Join(t.TempDir(), "sweep")
	for seed := int64(1); seed <= 3; seed++ {
		if !noRef {
			writeFakeRun(t, sweep, fakeSpec{reference: true, seed: seed, iterations: 3, complete: true,
				finalCVaR: 0.5, finalMean: 0.5, scores: []float64{0.4, 0.5, 0.6}, holdout: score(1, true, seed)})
		}
		for _, a := range []float64{0.1, 0.5} {
			writeFakeRun(t, sweep, fakeSpec{alpha: a, seed: seed, iterations: 3, complete: true,
				finalCVaR: 0.4, finalMean: 0.5, scores: []float64{0.4, 0.5, 0.6}, holdout: score(a, false, seed)})
		}
	}
	return sweep
}

func generate(t *testing.T, sweep string) (*Result, string) {
	t.Helper()
	res, err := Generate(context.Background(), []string{sweep}, Options{Out: filepath.Join(t.TempDir(), "report"), Formats: []string{"png"}})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(res.Out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	return res, string(md)
}

func crossRow(t *testing.T, res *Result, label string) *CrossRow {
	t.Helper()
	for _, r := range res.Cross.Rows {
		if r.Label == label {
			return r
		}
	}
	t.Fatalf("no cross-evaluation row %q", label)
	return nil
}

// liftTail scores 40 held-out images with noise of sd noise per seed and
// alpha; alpha 0.1's recommendation lifts the images below 0.5 by 0.15 and
// costs cost on the others.
func liftTail(noise, cost float64) func(alpha float64, ref bool, seed int64) []float64 {
	return func(alpha float64, ref bool, seed int64) []float64 {
		v := heldOut(40, 7)
		rng := rand.New(rand.NewPCG(uint64(seed), math.Float64bits(alpha)))
		for i := range v {
			v[i] += noise * rng.NormFloat64()
			if alpha == 0.1 {
				if v[i] < 0.5 {
					v[i] += 0.15
				} else {
					v[i] -= cost
				}
			}
		}
		return v
	}
}

// TestCrossEvalLowerTailShows: alpha 0.1's recommendation lifts the worst
// images of the held-out split (below 0.5) by 0.15 and costs 0.01 on the others; the
// sentence at the top reports a positive change with a CI above zero.
func TestCrossEvalLowerTailShows(t *testing.T) {
	sweep := crossSweep(t, false, liftTail(0.01, 0.01))
	res, md := generate(t, sweep)
	c := res.Cross
	if c.Source != CrossHoldout || !c.HasReference || c.Baseline != ReferenceLabel || len(c.Images) != 40 {
		t.Fatalf("cross-evaluation: source %s, reference %v, baseline %q, %d images", c.Source, c.HasReference, c.Baseline, len(c.Images))
	}
	r := crossRow(t, res, "α = 0.1")
	if r.PairedSeeds != 3 || r.DTail == nil || !(r.DTail.Lo > 0) || !(r.DTail.Est > 0.1) {
		t.Fatalf("alpha 0.1 against the reference: %d seeds, tail %+v", r.PairedSeeds, r.DTail)
	}
	if !(r.DMean.Est < 0.05) {
		t.Errorf("mean difference %+v", r.DMean)
	}
	first := strings.SplitN(md, "\n\n", 3)[1]
	for _, want := range []string{"Risk aversion (alpha 0.1) changed the held-out lower tail (CVaR 0.1 of per-image F) by +0.", "against the risk-neutral reference", "; the mean by "} {
		if !strings.Contains(first, want) {
			t.Errorf("first paragraph lacks %q:\n%s", want, first)
		}
	}
	if res.Headline == "" || !strings.Contains(first, res.Headline) {
		t.Errorf("Headline %q is not the first paragraph %q", res.Headline, first)
	}
	// The reference is named as such, never as alpha 1.
	if !strings.Contains(md, "| "+ReferenceLabel+" |") || strings.Contains(md, "α = 1 ") || strings.Contains(md, "α=1") || strings.Contains(md, "| 1 | bohost") {
		t.Errorf("summary.md does not label the reference %q everywhere:\n%s", ReferenceLabel, md)
	}
	for _, f := range []string{"holdout.png", "holdout_diff.png", "holdout.csv"} {
		nonEmpty(t, filepath.Join(res.Out, f))
	}
}

// TestCrossEvalIdenticalIsIndistinguishable: every recommendation scores the
// same on every image: the sentence says the alphas are indistinguishable.
func TestCrossEvalIdenticalIsIndistinguishable(t *testing.T) {
	sweep := crossSweep(t, false, func(float64, bool, int64) []float64 { return heldOut(25, 3) })
	res, md := generate(t, sweep)
	if !strings.HasPrefix(res.Headline, "Alphas are indistinguishable on this data (") {
		t.Fatalf("headline %q", res.Headline)
	}
	if !strings.Contains(md, "**"+res.Headline+"**") {
		t.Errorf("summary.md lacks the headline")
	}
	for _, r := range res.Cross.Rows {
		if r.Baseline {
			continue
		}
		for _, d := range []*Diff{r.DMean, r.DTail, r.DOwn} {
			if d == nil || d.Est != 0 || d.Lo != 0 || d.Hi != 0 {
				t.Errorf("%s: difference %+v, want exactly 0", r.Label, d)
			}
		}
	}
}

// TestCrossEvalDeterministic: two reports of the same sweep agree byte for
// byte in their tables.
func TestCrossEvalDeterministic(t *testing.T) {
	sweep := crossSweep(t, false, func(alpha float64, _ bool, seed int64) []float64 {
		v := heldOut(30, uint64(seed))
		for i := range v {
			v[i] += 0.05 * alpha * float64(i%3)
		}
		return v
	})
	r1, md1 := generate(t, sweep)
	r2, md2 := generate(t, sweep)
	if md1 != md2 {
		t.Error("summary.md differs between two reports of the same sweep")
	}
	c1, _ := os.ReadFile(filepath.Join(r1.Out, "holdout.csv"))
	c2, _ := os.ReadFile(filepath.Join(r2.Out, "holdout.csv"))
	if len(c1) == 0 || string(c1) != string(c2) {
		t.Error("holdout.csv differs between two reports of the same sweep")
	}
}

// TestCrossEvalNoReference: an older sweep (alphas only) still reports,
// against the largest alpha, and says so; one without holdout.json falls
// back to final_eval and says it is in-sample.
func TestCrossEvalNoReference(t *testing.T) {
	sweep := crossSweep(t, true, func(alpha float64, _ bool, seed int64) []float64 { return heldOut(20, uint64(seed)) })
	res, md := generate(t, sweep)
	if res.Cross.HasReference || res.Cross.Baseline != "α = 0.5" {
		t.Fatalf("baseline %q (reference %v), want α = 0.5", res.Cross.Baseline, res.Cross.HasReference)
	}
	if !strings.Contains(res.Headline, "against the largest alpha (α = 0.5; this sweep has no risk-neutral reference)") {
		t.Errorf("headline %q does not say there is no reference", res.Headline)
	}
	if !strings.Contains(md, "no risk-neutral reference") {
		t.Errorf("summary.md does not say there is no reference")
	}

	old, _ := fakeSweep(t) // no reference, no holdout.json, one crashed run
	res, _ = generate(t, old)
	if res.Cross == nil || res.Cross.Source != CrossFinalEval || !strings.Contains(res.Headline, "in-sample") {
		t.Fatalf("old sweep: cross %+v, headline %q", res.Cross, res.Headline)
	}
}

// TestPairedBootstrapCoverage: in a simulated sweep with a known difference
// (alpha's recommendation = reference + delta + seed effect + image noise),
// the 95 % interval covers delta in about 95 % of data sets, and the same
// rng seed gives the same interval.
func TestPairedBootstrapCoverage(t *testing.T) {
	const delta, sets, nSeeds, nImg = 0.03, 200, 5, 40
	gen := rand.New(rand.NewPCG(1, 2))
	covered := 0
	for k := 0; k < sets; k++ {
		a, b := make([][]float64, nSeeds), make([][]float64, nSeeds)
		img := make([]float64, nImg)
		for i := range img {
			img[i] = 0.3 + 0.6*gen.Float64()
		}
		for s := range a {
			u := 0.01 * gen.NormFloat64()
			a[s], b[s] = make([]float64, nImg), make([]float64, nImg)
			for i := range img {
				b[s][i] = img[i] + 0.03*gen.NormFloat64()
				a[s][i] = img[i] + delta + u + 0.03*gen.NormFloat64()
			}
		}
		d := PairedBootstrap(a, b, []func([]float64) float64{meanOf}, 1000, rand.New(rand.NewPCG(bootstrapSeed, 0)))[0]
		if d.Lo <= delta && delta <= d.Hi {
			covered++
		}
		if k == 0 {
			again := PairedBootstrap(a, b, []func([]float64) float64{meanOf}, 1000, rand.New(rand.NewPCG(bootstrapSeed, 0)))[0]
			if again != d {
				t.Fatalf("same rng seed, different interval: %+v, %+v", d, again)
			}
		}
	}
	if c := float64(covered) / sets; c < 0.85 || c > 0.995 {
		t.Errorf("coverage %.3f of the true difference, want about 0.95", c)
	}
	t.Logf("coverage %d/%d", covered, sets)
}

// TestCrossEvalSaysWhetherTailCostTheMean: with a distinguishable tail gain,
// the headline says plainly whether the mean paid for it.
func TestCrossEvalSaysWhetherTailCostTheMean(t *testing.T) {
	for _, c := range []struct {
		name string
		cost float64 // taken from alpha 0.1's images above the tail
		want string
	}{
		{"free", 0, "no trade-off appeared: the mean did not fall distinguishably."},
		{"paid", 0.08, "the trade-off a risk-averse choice makes: a better tail for a lower mean."},
	} {
		t.Run(c.name, func(t *testing.T) {
			sweep := crossSweep(t, false, liftTail(0.005, c.cost))
			res, _ := generate(t, sweep)
			if !strings.HasPrefix(res.Headline, "Risk aversion (alpha 0.1) changed the held-out lower tail") || !strings.HasSuffix(res.Headline, c.want) {
				t.Fatalf("headline %q, want it to end %q", res.Headline, c.want)
			}
		})
	}
}

// TestCrossEvalReferenceFellShort: alpha 0.1 beats the reference on the
// held-out mean and tail and on the tuning images' mean (the reference's own
// objective): the headline blames the reference's optimisation, not risk
// aversion. With the reference ahead on the tuning mean, the same held-out
// scores read as a risk effect.
func TestCrossEvalReferenceFellShort(t *testing.T) {
	for _, c := range []struct {
		refTuning float64
		want      string
	}{
		{0.45, "Alphas are indistinguishable from the risk-neutral reference as risk choices on this data: alpha 0.1's recommendation is ahead on the held-out mean too ("},
		{0.55, "Risk aversion (alpha 0.1) changed the held-out lower tail"},
	} {
		sweep := filepath.Join(t.TempDir(), "sweep")
		for seed := int64(1); seed <= 3; seed++ {
			base := heldOut(40, 7)
			better := make([]float64, len(base))
			for i, v := range base {
				better[i] = v + 0.05 + 0.001*float64(seed)
				if v < 0.5 {
					better[i] += 0.1
				}
			}
			writeFakeRun(t, sweep, fakeSpec{reference: true, seed: seed, iterations: 3, complete: true,
				finalCVaR: c.refTuning, finalMean: c.refTuning, scores: []float64{0.4, 0.5, 0.6}, holdout: base})
			writeFakeRun(t, sweep, fakeSpec{alpha: 0.1, seed: seed, iterations: 3, complete: true,
				finalCVaR: 0.4, finalMean: 0.5, scores: []float64{0.4, 0.5, 0.6}, holdout: better})
		}
		res, _ := generate(t, sweep)
		if !strings.HasPrefix(res.Headline, c.want) {
			t.Errorf("reference tuning mean %.2f: headline %q, want it to start %q", c.refTuning, res.Headline, c.want)
		}
	}
}
