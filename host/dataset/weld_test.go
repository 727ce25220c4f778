package dataset

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"bohost/host/airline"
	"bohost/host/envfeat"
	"bohost/host/errs"
	"bohost/host/imgbuf"
)

func weldSet(t *testing.T, o SynthOptions) *Dataset {
	t.Helper()
	o.Scene = SceneWeld
	d, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWeldDeterministic(t *testing.T) {
	o := SynthOptions{N: 6, Width: 160, Height: 120, Seed: 3}
	a, b := weldSet(t, o), weldSet(t, o)
	test := weldSet(t, SynthOptions{N: 6, Width: 160, Height: 120, Seed: 3, Split: "test"})
	o.Seed = 4
	other := weldSet(t, o)
	v1, _ := Synthetic(SynthOptions{N: 6, Width: 160, Height: 120, Seed: 3})
	differ := 0
	for i := 0; i < a.Len(); i++ {
		ga, _ := a.Image(i)
		gb, _ := b.Image(i)
		if !bytes.Equal(ga.Pix, gb.Pix) || !slices.Equal(a.Item(i).Lines, b.Item(i).Lines) {
			t.Fatalf("scene %d: pixels or GT differ between identical constructions", i)
		}
		if i >= 3 {
			gt, _ := test.Image(i - 3)
			if !bytes.Equal(ga.Pix, gt.Pix) || !slices.Equal(a.Item(i).Lines, test.Item(i-3).Lines) {
				t.Errorf("scene %d differs when opened through the test split", i)
			}
		}
		if g, _ := other.Image(i); !bytes.Equal(ga.Pix, g.Pix) && !slices.Equal(a.Item(i).Lines, other.Item(i).Lines) {
			differ++
		}
		if g, _ := v1.Image(i); bytes.Equal(ga.Pix, g.Pix) {
			t.Errorf("scene %d: weld and v1 scenes are the same", i)
		}
	}
	if differ != a.Len() {
		t.Errorf("seed 3 vs 4: only %d of %d scenes differ", differ, a.Len())
	}
}

// Every size in the allowed range renders, from 32x32 to a 3264x2448 photo
// (and its portrait twin's ground truth), with ground truth inside the image.
func TestWeldSizes(t *testing.T) {
	for _, sz := range [][2]int{{32, 32}, {33, 47}, {640, 480}, {3264, 2448}, {2448, 3264}} {
		d := weldSet(t, SynthOptions{N: 1, Width: sz[0], Height: sz[1], Seed: 9, CacheImages: -1})
		it := d.Item(0)
		if len(it.Lines) == 0 {
			t.Errorf("%dx%d: no ground truth", sz[0], sz[1])
		}
		for _, s := range it.Lines {
			if min(s.X1, s.X2) < 0 || max(s.X1, s.X2) > float64(sz[0]-1) || min(s.Y1, s.Y2) < 0 || max(s.Y1, s.Y2) > float64(sz[1]-1) {
				t.Errorf("%dx%d: line outside the image: %+v", sz[0], sz[1], s)
			}
		}
		if sz[1] > sz[0] {
			continue // the portrait render costs as much as the landscape one
		}
		g, err := d.Image(0)
		if err != nil || g.W != sz[0] || g.H != sz[1] {
			t.Fatalf("%dx%d: %v", sz[0], sz[1], err)
		}
	}
}

func TestWeldOptions(t *testing.T) {
	_, err := Synthetic(SynthOptions{Scene: "welds"})
	if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), `Scene must be "", "v1" or "weld", got "welds"`) {
		t.Errorf("bad scene: %v", err)
	}
	m := func(o SynthOptions) Manifest {
		d, err := Synthetic(o)
		if err != nil {
			t.Fatal(err)
		}
		mf, _ := d.Manifest()
		return mf
	}
	o := SynthOptions{N: 2, Width: 64, Height: 48, Seed: 1}
	unset, v1 := m(o), m(SynthOptions{N: 2, Width: 64, Height: 48, Seed: 1, Scene: "v1"})
	o.Scene = SceneWeld
	weld := m(o)
	if unset.SHA256 != v1.SHA256 || unset.Version != GeneratorVersion || v1.Generator.Scene != "" {
		t.Errorf("scene v1 and unset must be the same data set: %+v %+v", unset, v1)
	}
	if weld.Version != WeldGeneratorVersion || weld.SHA256 == unset.SHA256 || weld.Generator.Scene != SceneWeld {
		t.Errorf("weld manifest: %+v", weld)
	}
}

// The difficulty mix: one textured and one faint scene in every block of
// 8, so each half of the 24-image default set has both.
func TestWeldKinds(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		count := map[string][2]int{}
		for i := 0; i < 24; i++ {
			c := count[weldKind(seed, i)]
			c[i/12]++
			count[weldKind(seed, i)] = c
		}
		for _, k := range []string{weldTextured, weldFaint} {
			if c := count[k]; c[0]+c[1] != 3 || c[0] == 0 || c[1] == 0 {
				t.Errorf("seed %d: %s scenes per half %v, want 3 with at least one in each half", seed, k, c)
			}
		}
	}
	// The labelled structure of the study: near-vertical segments (88-93
	// degrees up to the view's tilt) and a near-horizontal fillet line.
	d := weldSet(t, SynthOptions{N: 8, Seed: 2})
	for i := 0; i < d.Len(); i++ {
		vert, horiz := 0, 0
		for _, s := range d.Item(i).Lines {
			a := math.Abs(math.Atan2(s.Y2-s.Y1, s.X2-s.X1) * 180 / math.Pi)
			if a > 90 {
				a = 180 - a
			}
			switch {
			case a > 80 && s.Len() > 0.08*480:
				vert++
			case a < 25 && s.Len() > 0.3*640:
				horiz++
			}
		}
		if vert < 2 || horiz < 1 {
			t.Errorf("scene %d: %d long near-vertical and %d long near-horizontal GT lines", i, vert, horiz)
		}
	}
}

// Ground truth lies on the drawn seams and edges: along every GT segment,
// the clean render (no nuisance) has a clearly higher gradient than the
// image overall. The scenes include oblique views.
func TestWeldGTOnEdges(t *testing.T) {
	g := &generator{opts: SynthOptions{N: 8, Width: 320, Height: 240, Seed: 11, Scene: SceneWeld}.withDefaults()}
	oblique := 0
	for i := 0; i < 8; i++ {
		s := g.weldSpec(i)
		if s.oblique > 0.3 {
			oblique++
		}
		img := s.render(nil, true)
		lines := g.scene(i).lines
		if len(lines) < 5 {
			t.Errorf("scene %d: only %d GT segments", i, len(lines))
		}
		on, all := gradOn(img, lines)
		for k, v := range on {
			if v < 6 || v < 3*all {
				t.Errorf("scene %d line %d %+v: mean gradient %.2f on the line, %.2f over the image", i, k, lines[k], v, all)
			}
		}
	}
	if oblique == 0 {
		t.Error("no oblique view among the scenes")
	}
}

// gradOn is the mean central-difference gradient along each segment (best
// of the 3x3 neighbourhood of each sample) and over the whole image.
func gradOn(img *imgbuf.Gray, lines []imgbuf.Segment) ([]float64, float64) {
	w, h := img.W, img.H
	grad := func(x, y int) float64 {
		if x < 1 || y < 1 || x >= w-1 || y >= h-1 {
			return 0
		}
		gx := float64(img.Pix[y*w+x+1]) - float64(img.Pix[y*w+x-1])
		gy := float64(img.Pix[(y+1)*w+x]) - float64(img.Pix[(y-1)*w+x])
		return math.Hypot(gx, gy) / 2
	}
	var all float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			all += grad(x, y)
		}
	}
	all /= float64(w * h)
	var on []float64
	for _, s := range lines {
		var sum float64
		n := int(s.Len()) + 1
		for j := 0; j <= n; j++ {
			f := float64(j) / float64(n)
			x, y := int(math.Round(s.X1+f*(s.X2-s.X1))), int(math.Round(s.Y1+f*(s.Y2-s.Y1)))
			best := 0.0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					best = max(best, grad(x+dx, y+dy))
				}
			}
			sum += best
		}
		on = append(on, sum/float64(n+1))
	}
	return on, all
}

// quiet turns every nuisance off: the baseline each nuisance is turned up from.
func quiet(s *weldSpec) {
	s.texture, s.fineGrain, s.spatter, s.ripple, s.glare = 0, 0, 0, 0, 0
	s.gain, s.contr, s.ax, s.ay, s.vig, s.spotAmp = 1, 1, 0, 0, 0, 0
	s.blur, s.motion, s.noise, s.shot = 0, 0, 0, 0
}

// Each nuisance moves the environment features (host/envfeat) the way it
// should: the same scene rendered with one nuisance up and down.
func TestWeldNuisancesMoveFeatures(t *testing.T) {
	type feat = []float64
	mean := func(g *imgbuf.Gray) float64 {
		var s float64
		for _, v := range g.Pix {
			s += float64(v)
		}
		return s / float64(len(g.Pix))
	}
	const (
		lc = envfeat.LocalContrast
		gs = envfeat.GradientStrength
		ed = envfeat.EdgeDensity
		sh = envfeat.Sharpness
		nl = envfeat.NoiseLevel
	)
	for _, c := range []struct {
		name string
		up   func(*weldSpec)
		// want reports what is wrong with up vs down ("" when right).
		want func(up, down feat, mu, md float64) string
	}{
		{"texture", func(s *weldSpec) { s.texture, s.scratch = 14, [2]float64{0.04, 0.15} }, func(u, d feat, _, _ float64) string {
			return more(u, d, ed, gs, lc)
		}},
		{"fine grain", func(s *weldSpec) { s.fineGrain = 4 }, func(u, d feat, _, _ float64) string { return more(u, d, lc, gs, nl) }},
		{"spatter", func(s *weldSpec) { s.spatter = 200 }, func(u, d feat, _, _ float64) string { return more(u, d, ed, gs) }},
		{"ripples", func(s *weldSpec) { s.ripple = 20 }, func(u, d feat, _, _ float64) string { return more(u, d, gs, sh) }},
		{"glare", func(s *weldSpec) { s.glare = 150 }, func(u, d feat, mu, md float64) string {
			if mu <= md {
				return fmt.Sprintf("mean %.1f <= %.1f", mu, md)
			}
			return more(u, d, lc)
		}},
		{"low light", func(s *weldSpec) { s.gain = 0.35 }, func(u, d feat, mu, md float64) string {
			if mu >= md*0.5 {
				return fmt.Sprintf("mean %.1f, want < half of %.1f", mu, md)
			}
			return more(d, u, lc, gs, ed)
		}},
		{"haze", func(s *weldSpec) { s.contr = 0.4 }, func(u, d feat, _, _ float64) string { return more(d, u, lc, gs) }},
		{"uneven light", func(s *weldSpec) { s.vig, s.ax = 0.8, 0.6 }, func(u, d feat, mu, md float64) string {
			if mu >= md {
				return fmt.Sprintf("mean %.1f >= %.1f", mu, md)
			}
			return ""
		}},
		{"sensor noise", func(s *weldSpec) { s.noise, s.shot = 6, 4 }, func(u, d feat, _, _ float64) string { return more(u, d, nl, gs, sh) }},
		{"defocus", func(s *weldSpec) { s.blur = 2 }, func(u, d feat, _, _ float64) string { return more(d, u, sh, gs) }},
		{"motion blur", func(s *weldSpec) { s.motion, s.motionAng = 6, 0.3 }, func(u, d feat, _, _ float64) string { return more(d, u, sh, gs) }},
	} {
		for i := 0; i < 2; i++ {
			render := func(tweak func(*weldSpec)) (*imgbuf.Gray, feat) {
				g := &generator{opts: SynthOptions{N: 2, Width: 320, Height: 240, Seed: 5, Scene: SceneWeld}.withDefaults(), weldTweak: tweak}
				img := g.render(i).img
				return img, envfeat.Features(img)
			}
			gd, fd := render(quiet)
			gu, fu := render(func(s *weldSpec) { quiet(s); c.up(s) })
			if msg := c.want(fu, fd, mean(gu), mean(gd)); msg != "" {
				t.Errorf("%s, scene %d: %s\n  up   %v\n  down %v", c.name, i, msg, namedFeatures(envfeat.Names, fu), namedFeatures(envfeat.Names, fd))
			}
		}
	}
}

// more reports the features of idx that are not larger in a than in b.
func more(a, b []float64, idx ...int) string {
	var bad []string
	for _, k := range idx {
		if !(a[k] > b[k]) {
			bad = append(bad, fmt.Sprintf("%s %.4g <= %.4g", envfeat.Names[k], a[k], b[k]))
		}
	}
	return strings.Join(bad, ", ")
}

// namedFeatures prints features as name=value for a failure message.
func namedFeatures(names []string, f []float64) string {
	var s []string
	for k, v := range f {
		s = append(s, fmt.Sprintf("%s=%.4g", names[k], v))
	}
	return strings.Join(s, " ")
}

// conflictSettings are the AirLine points TestWeldConflict compares: the
// loosest corner of the box (what the v1 scenes reward), the defaults, and
// a tighter edge threshold.
var conflictSettings = []struct {
	name string
	x    []float64
}{
	{"loose", []float64{-23, 0.5, 0.01, -23, 0.5, 0.01, 12, 12}},
	{"default", nil},
	{"tight", []float64{-3, 0.9, 0.03, -3, 0.6, 0.03, 12, 12}},
}

type conflictRow struct {
	name                 string
	mean, cvar10, cvar20 float64
	byKind               map[string]float64
}

// scoreSettings scores every conflict setting on every image of d with
// AirLine's F-score (host/metric's default radius).
func scoreSettings(t *testing.T, d *Dataset, kind func(i int) string) []conflictRow {
	e, err := airline.New(airline.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rows []conflictRow
	f := make([][]float64, len(conflictSettings))
	for i := 0; i < d.Len(); i++ {
		img, err := d.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		for k, c := range conflictSettings {
			r, err := e.Eval(context.Background(), c.x, img, d.Item(i).Lines)
			if err != nil {
				t.Fatal(err)
			}
			f[k] = append(f[k], r.F)
		}
	}
	for k, c := range conflictSettings {
		row := conflictRow{name: c.name, mean: meanOf(f[k]), cvar10: cvarOf(f[k], 0.1), cvar20: cvarOf(f[k], 0.2), byKind: map[string]float64{}}
		n := map[string]int{}
		for i, v := range f[k] {
			row.byKind[kind(i)] += v
			n[kind(i)]++
		}
		for kd := range row.byKind {
			row.byKind[kd] /= float64(n[kd])
		}
		rows = append(rows, row)
	}
	return rows
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// cvarOf is the mean of the worst ceil(alpha n) values (the lower tail).
func cvarOf(v []float64, alpha float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	return meanOf(s[:max(1, int(math.Ceil(alpha*float64(len(s))-1e-9)))])
}

func logRows(t *testing.T, title string, rows []conflictRow) {
	t.Logf("%s\n  %-8s %6s %9s %9s   mean by kind", title, "setting", "mean", "CVaR 0.1", "CVaR 0.2")
	for _, r := range rows {
		var kinds []string
		for k := range r.byKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		var by []string
		for _, k := range kinds {
			by = append(by, fmt.Sprintf("%s %.3f", k, r.byKind[k]))
		}
		t.Logf("  %-8s %6.3f %9.3f %9.3f   %s", r.name, r.mean, r.cvar10, r.cvar20, strings.Join(by, ", "))
	}
}

// TestWeldConflict is the evidence that the weld scenes hold the conflict
// risk-averse tuning exists for, on make run's data set (24 scenes, seed 1,
// 640x480): the loosest settings win the mean and the moderate (easy)
// scenes, but the heavily textured scenes flood them with false lines, so
// their lower tail (CVaR 0.1, 0.2: the worst 10 %, 20 % of images) is far
// below the defaults'; tighter still loses the faint scenes. On the v1
// scenes the loosest settings win everything (no conflict). The margins
// asserted are about half of those measured (docs/data-weld.md).
func TestWeldConflict(t *testing.T) {
	d := weldSet(t, SynthOptions{N: 24, Seed: 1, CacheImages: -1})
	w := scoreSettings(t, d, func(i int) string { return weldKind(1, i) })
	logRows(t, "weld scenes (synth-weld-v1, 24 x 640x480, seed 1), F-score at r = 3 px:", w)
	loose, def, tight := w[0], w[1], w[2]
	if !(loose.mean > def.mean && loose.mean > tight.mean) {
		t.Errorf("loose must win the mean: %.3f vs default %.3f, tight %.3f", loose.mean, def.mean, tight.mean)
	}
	if gap := loose.byKind[weldModerate] - def.byKind[weldModerate]; gap < 0.025 {
		t.Errorf("loose wins the moderate scenes by %.3f, want >= 0.025", gap)
	}
	if gap := def.cvar10 - loose.cvar10; gap < 0.08 {
		t.Errorf("defaults beat loose on CVaR 0.1 by %.3f, want >= 0.08", gap)
	}
	if gap := def.cvar20 - loose.cvar20; gap < 0.05 {
		t.Errorf("defaults beat loose on CVaR 0.2 by %.3f, want >= 0.05", gap)
	}
	if gap := def.byKind[weldTextured] - loose.byKind[weldTextured]; gap < 0.25 {
		t.Errorf("defaults beat loose on textured scenes by %.3f, want >= 0.25", gap)
	}
	if gap := loose.byKind[weldFaint] - tight.byKind[weldFaint]; gap < 0.3 {
		t.Errorf("loose beats tight on faint scenes by %.3f, want >= 0.3", gap)
	}

	v1, _ := Synthetic(SynthOptions{N: 24, Seed: 1, CacheImages: -1})
	r := scoreSettings(t, v1, func(int) string { return "all" })
	logRows(t, "v1 scenes (synth-v1, same size and seed):", r)
	if !(r[0].mean > r[1].mean && r[0].cvar10 >= r[1].cvar10 && r[0].cvar20 >= r[1].cvar20) {
		t.Errorf("v1: loose no longer wins mean and tails: %+v", r)
	}
}
