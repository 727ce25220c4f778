package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bohost/host/errs"
	"bohost/host/imgbuf"
)

// segDist is the distance from p to the segment s.
func segDist(s imgbuf.Segment, px, py float64) float64 {
	dx, dy := s.X2-s.X1, s.Y2-s.Y1
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((px-s.X1)*dx+(py-s.Y1)*dy)/l2))
	}
	return math.Hypot(px-s.X1-t*dx, py-s.Y1-t*dy)
}

// TestWeldSetRoundTrip: a generated weld set, exported as images +
// ground_truth.json, reads back through OpenLabels with the same segments
// (within a pixel of the unrounded geometry), the empty labels excluded and
// counted in the manifest, the partial ones kept with fewer segments; and
// every labelled segment lies on the scene's drawn edges (the generator's
// own ground truth), so the labels are of the real geometry.
func TestWeldSetRoundTrip(t *testing.T) {
	for _, format := range []string{"png", "jpeg"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "weld")
			o := WeldSetOptions{N: 16, Width: 320, Height: 240, Seed: 7, Format: format}
			calls := 0
			o.Progress = func(done, n int) {
				calls++
				if done != calls || n != 16 {
					t.Errorf("progress(%d, %d) at call %d", done, n, calls)
				}
			}
			sum, err := WriteWeldSet(context.Background(), dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if calls != 16 || len(sum.Labels) != 16 || sum.Complete+sum.Partial+sum.Empty != 16 {
				t.Fatalf("summary %+v after %d progress calls", sum, calls)
			}
			// Two blocks of 8: one empty label per block, and at least the
			// no-collar and left-longitudinal-only labels partial.
			if sum.Empty != 2 || sum.Partial < 4 || sum.Complete == 0 {
				t.Errorf("complete %d, partial %d, empty %d: want 2 empty and >= 4 partial of 16", sum.Complete, sum.Partial, sum.Empty)
			}
			ds, err := OpenLabels(filepath.Join(dir, WeldLabelFile), LabelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := ds.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			var empty []string
			for _, l := range sum.Labels {
				if l.Kind == LabelEmpty {
					empty = append(empty, l.Stem)
				}
			}
			if m.Labels == nil || m.Labels.Excluded != sum.Empty || !slices.Equal(m.Labels.ExcludedStems, empty) ||
				m.Labels.Stems != 16 || m.Labels.Labelled != 16-sum.Empty || m.Labels.Complete > sum.Complete {
				t.Fatalf("manifest labels %+v; export: %d empty %v", m.Labels, sum.Empty, empty)
			}
			if ds.Len() != 16-sum.Empty {
				t.Fatalf("%d items, want %d", ds.Len(), 16-sum.Empty)
			}
			g := &generator{opts: o.synth().withDefaults()}
			byStem := map[string]WeldSetLabel{}
			for _, l := range sum.Labels {
				byStem[l.Stem] = l
			}
			fewer := 0
			for i := 0; i < ds.Len(); i++ {
				it := ds.Item(i)
				var k int
				if _, err := fmt.Sscanf(it.ID, "weld-%d", &k); err != nil {
					t.Fatalf("stem %q", it.ID)
				}
				_, raw := g.weldLabel(k)
				want, roles := byStem[it.ID].Points.Segments()
				if len(want) < 4 {
					fewer++
				}
				if len(it.Lines) != len(want) || it.Width != 320 || it.Height != 240 {
					t.Fatalf("%s: %d lines (%dx%d), want %d", it.ID, len(it.Lines), it.Width, it.Height, len(want))
				}
				// Each segment within a pixel of the unrounded geometry.
				ends := map[string][2]int{RoleLongiLeft: {0, 1}, RoleLongiRight: {2, 3}, RoleCollarLeft: {4, 5}, RoleFillet: {0, 2}}
				gt := g.weldScene(k).lines
				spec := g.weldSpec(k)
				for j, s := range it.Lines {
					e := ends[roles[j]]
					a, b := raw[e[0]], raw[e[1]]
					if d := math.Max(math.Hypot(s.X1-a.X, s.Y1-a.Y), math.Hypot(s.X2-b.X, s.Y2-b.Y)); d > 1 {
						t.Errorf("%s %s: %+v is %.2f px from the geometry %v-%v", it.ID, roles[j], s, d, a, b)
					}
					// On the drawn edges: its midpoint within the bead's
					// half-width (beads run along the fillet and, in some
					// scenes, the longitudinals) of a ground-truth segment.
					mx, my := (s.X1+s.X2)/2, (s.Y1+s.Y2)/2
					best := math.Inf(1)
					for _, q := range gt {
						best = math.Min(best, segDist(q, mx, my))
					}
					if tol := 0.7*spec.bead.wd + 2; best > tol {
						t.Errorf("%s %s: midpoint (%.1f, %.1f) is %.1f px from every drawn edge (tolerance %.1f)", it.ID, roles[j], mx, my, best, tol)
					}
				}
				// The study's geometry: verticals rise (upper point above),
				// near-vertical; the collar's lower point is on the fillet.
				for j, s := range it.Lines {
					if roles[j] == RoleFillet {
						continue
					}
					ang := math.Atan2(s.Y1-s.Y2, s.X2-s.X1) * 180 / math.Pi
					if s.Y2 >= s.Y1 || ang < 75 || ang > 105 {
						t.Errorf("%s %s: %+v is not a rising near-vertical (%.1f°)", it.ID, roles[j], s, ang)
					}
				}
				fil := imgbuf.Segment{X1: raw[0].X, Y1: raw[0].Y, X2: raw[2].X, Y2: raw[2].Y}
				if d := segDist(fil, raw[4].X, raw[4].Y); d > 0.5 {
					t.Errorf("%s: the collar's lower point is %.2f px off the fillet line", it.ID, d)
				}
			}
			if fewer < 2 {
				t.Errorf("only %d labelled images have fewer than 4 segments", fewer)
			}
			// weld_set.json describes the set.
			var back WeldSetSummary
			b, err := os.ReadFile(filepath.Join(dir, WeldSetFile))
			if err != nil || json.Unmarshal(b, &back) != nil || back.Generator != WeldGeneratorVersion || back.Empty != sum.Empty || back.Options.Format != format {
				t.Errorf("weld_set.json: %v %+v", err, back)
			}
			// Exporting again into the same directory is allowed (it is ours).
			o.Progress = nil
			o.N = 2
			if _, err := WriteWeldSet(context.Background(), dir, o); err != nil {
				t.Errorf("re-export into our own directory: %v", err)
			}
		})
	}
}

// TestWeldLabelDeterministicAnySize: labels are a pure function of (seed,
// index, size): the same twice, scaled with the image between 640x480 and
// the study's 3264x2448 (and its portrait twin), inside the image, with the
// study's partial and empty labels in every block of 8.
func TestWeldLabelDeterministicAnySize(t *testing.T) {
	small := SynthOptions{Seed: 11, Width: 640, Height: 480}
	full := SynthOptions{Seed: 11, Width: 3264, Height: 2448}
	kinds := map[string]int{}
	for i := 0; i < 40; i++ {
		a, ka := WeldLabel(full, i)
		b, kb := WeldLabel(full, i)
		if a != b || ka != kb {
			t.Fatalf("scene %d: two calls differ", i)
		}
		kinds[ka]++
		s, _ := WeldLabel(small, i)
		for k := range weldKeys {
			pa, ps := a.at(k), s.at(k)
			if (pa.X == 0) != (ps.X == 0) {
				continue // a point at the image's edge may be in one frame and out of the other
			}
			if pa.X == 0 {
				continue
			}
			// Geometry is drawn in fractions of the frame: scaled by about
			// 3263/639 (the rounding at 640x480, times the scale, and
			// 0.2 % between the frame's W and the pixel grid's W-1).
			sx, sy := 3263.0/639, 2447.0/479
			if math.Abs(float64(pa.X)-float64(ps.X)*sx) > 2*sx+2 || math.Abs(float64(pa.Y)-float64(ps.Y)*sy) > 2*sy+2 {
				t.Errorf("scene %d %s: %v at 3264x2448, %v at 640x480", i, weldKeys[k], *pa, *ps)
			}
			if pa.X < 1 || pa.X > 3263 || pa.Y < 0 || pa.Y > 2447 {
				t.Errorf("scene %d %s: %v outside the image", i, weldKeys[k], *pa)
			}
		}
		if o := (SynthOptions{Seed: 12, Width: 3264, Height: 2448}); i < 8 {
			if c, _ := WeldLabel(o, i); c == a && ka != LabelEmpty {
				t.Errorf("scene %d: seeds 11 and 12 give the same label", i)
			}
		}
	}
	if kinds[LabelEmpty] != 5 || kinds[LabelPartial] < 10 || kinds[LabelComplete] < 15 {
		t.Errorf("40 labels: %v; want 5 empty (one per block of 8), >= 10 partial, >= 15 complete", kinds)
	}
	// The portrait twin labels inside its own frame.
	for i := 0; i < 8; i++ {
		p, _ := WeldLabel(SynthOptions{Seed: 11, Width: 2448, Height: 3264}, i)
		for k := range weldKeys {
			if pt := p.at(k); pt.X != 0 && (pt.X > 2447 || pt.Y > 3263 || pt.Y < 0) {
				t.Errorf("portrait scene %d %s: %v outside the image", i, weldKeys[k], *pt)
			}
		}
	}
}

// TestWeldSetFullSize exports one scene at the study's 3264x2448 (JPEG, as
// the study's photographs) and reads it back; skipped with -short.
func TestWeldSetFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a 3264x2448 scene (about 2 s)")
	}
	dir := t.TempDir()
	sum, err := WriteWeldSet(context.Background(), dir, WeldSetOptions{N: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := OpenLabels(filepath.Join(dir, WeldLabelFile), LabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2-sum.Empty {
		t.Fatalf("%d items; summary %+v", ds.Len(), sum)
	}
	for i := 0; i < ds.Len(); i++ {
		g, err := ds.Image(i)
		if err != nil || g.W != 3264 || g.H != 2448 {
			t.Fatalf("image %d: %v", i, err)
		}
	}
}

// TestWeldSetRefuses: bad options name themselves; a label file that an
// export did not write is never replaced; a canceled export writes no label
// file.
func TestWeldSetRefuses(t *testing.T) {
	for _, c := range []struct {
		o    WeldSetOptions
		want string
	}{
		{WeldSetOptions{N: -1}, "n must be"},
		{WeldSetOptions{Width: 8}, "width must be"},
		{WeldSetOptions{Height: 5000}, "height must be"},
		{WeldSetOptions{Format: "gif"}, "format must be"},
		{WeldSetOptions{Format: "png", Quality: 90}, "quality is for JPEG"},
		{WeldSetOptions{Quality: 101}, "quality must be"},
	} {
		_, err := WriteWeldSet(context.Background(), t.TempDir(), c.o)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want bad_arg %q", c.o, err, c.want)
		}
	}
	dir := t.TempDir()
	theirs := filepath.Join(dir, WeldLabelFile)
	os.WriteFile(theirs, []byte(`{"x": {"coordinates": {}}}`), 0o644)
	if _, err := WriteWeldSet(context.Background(), dir, WeldSetOptions{N: 1, Width: 64, Height: 48}); !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "not replacing") {
		t.Errorf("over a foreign label file: %v", err)
	}
	if b, _ := os.ReadFile(theirs); string(b) != `{"x": {"coordinates": {}}}` {
		t.Errorf("the foreign label file changed: %s", b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir = t.TempDir()
	if _, err := WriteWeldSet(ctx, dir, WeldSetOptions{N: 3, Width: 64, Height: 48}); !errs.Is(err, errs.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, WeldLabelFile)); err == nil {
		t.Error("a canceled export wrote the label file")
	}
}
