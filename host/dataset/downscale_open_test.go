package dataset

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenLabelsDownscale: a label file opened with Downscale 2 gives
// images of ceil(W/2) × ceil(H/2) equal to Downscale of the full-size ones,
// segments equal to the full-size ones / 2 (within 0.5 px), and a manifest
// that records the factor and hashes differently; a bad factor is an error
// naming the option.
func TestOpenLabelsDownscale(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteWeldSet(context.Background(), dir, WeldSetOptions{N: 3, Width: 640, Height: 480, Seed: 3, Format: "png"}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, WeldLabelFile)
	full, err := OpenLabels(file, LabelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	half, err := OpenLabels(file, LabelOptions{Options: Options{Downscale: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if full.Downscale() != 1 || half.Downscale() != 2 || full.Len() != half.Len() || half.Len() == 0 {
		t.Fatalf("downscale %d %d, len %d %d", full.Downscale(), half.Downscale(), full.Len(), half.Len())
	}
	for i := 0; i < half.Len(); i++ {
		fi, hi := full.Item(i), half.Item(i)
		if hi.Width != 320 || hi.Height != 240 {
			t.Fatalf("item %d is %dx%d, want 320x240", i, hi.Width, hi.Height)
		}
		g, err := half.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		fg, err := full.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Downscale(fg, 2)
		if g.W != 320 || g.H != 240 || string(g.Pix) != string(want.Pix) {
			t.Fatalf("image %d: %dx%d, or not the full-size image downscaled", i, g.W, g.H)
		}
		if len(hi.Lines) != len(fi.Lines) || len(hi.Lines) == 0 {
			t.Fatalf("item %d: %d segments, full size %d", i, len(hi.Lines), len(fi.Lines))
		}
		for k, s := range hi.Lines {
			f := fi.Lines[k]
			for _, p := range [][2]float64{{s.X1, f.X1}, {s.Y1, f.Y1}, {s.X2, f.X2}, {s.Y2, f.Y2}} {
				if math.Abs(p[0]-p[1]/2) > 0.5 {
					t.Fatalf("item %d segment %d: %+v is not %+v / 2", i, k, s, f)
				}
			}
		}
	}
	mf, err := full.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	mh, err := half.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if mf.Downscale != 0 || mh.Downscale != 2 || mf.SHA256 == mh.SHA256 {
		t.Fatalf("manifests: downscale %d %d, sha %s %s", mf.Downscale, mh.Downscale, mf.SHA256, mh.SHA256)
	}
	if m1, _ := OpenLabels(file, LabelOptions{Options: Options{Downscale: 1}}); m1 == nil {
		t.Fatal("downscale 1 refused")
	} else if m, _ := m1.Manifest(); m.SHA256 != mf.SHA256 {
		t.Fatal("downscale 1 changed the manifest")
	}
	for _, f := range []int{-1, MaxDownscale + 1} {
		_, err := OpenLabels(file, LabelOptions{Options: Options{Downscale: f}})
		if err == nil || !strings.Contains(err.Error(), "downscale must be an integer factor") {
			t.Fatalf("downscale %d: %v", f, err)
		}
	}
}
