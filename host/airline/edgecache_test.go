package airline

import (
	"context"
	"reflect"
	"testing"

	"bohost/host/imgbuf"
)

// detectBoth runs x on img with a caching and a non-caching evaluator and
// fails unless both give the same segments.
func detectBoth(t *testing.T, cached, plain *Evaluator, x []float64, img *imgbuf.Gray, what string) {
	t.Helper()
	a, err := cached.Detect(context.Background(), x, img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := plain.Detect(context.Background(), x, img)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s: cached edge map gives %d segments, uncached %d (or they differ)", what, len(a), len(b))
	}
}

func TestEdgeCacheSameSegments(t *testing.T) {
	for _, space := range []string{SpaceAirline8, SpaceClassical} {
		cached, err := New(Options{Space: space})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := New(Options{Space: space, EdgeCacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		if plain.edges != nil {
			t.Fatal("EdgeCacheBytes < 0 must turn the cache off")
		}
		sp := cached.Space()
		xs := [][]float64{nil, make([]float64, len(sp)), make([]float64, len(sp))}
		for k, p := range sp {
			xs[1][k] = p.Lo + 0.3*(p.Hi-p.Lo) // classical: another blur sigma, so another key
			xs[2][k] = p.Lo + 0.7*(p.Hi-p.Lo)
		}
		imgs := []*imgbuf.Gray{scene(160, 120, 12, 1), scene(160, 120, 12, 2), scene(120, 160, 12, 3)}
		for round := 0; round < 3; round++ { // kept on the second, read from the cache on the third
			for i, img := range imgs {
				for j, x := range xs {
					detectBoth(t, cached, plain, x, img, space+": image "+string(rune('0'+i))+" x "+string(rune('0'+j)))
				}
			}
		}
		n, _ := cached.edges.stats()
		if space == SpaceAirline8 && n != len(imgs) {
			t.Errorf("airline8: %d maps cached for %d images (the edge map does not depend on x)", n, len(imgs))
		}
		if space == SpaceClassical && n != len(imgs)*len(xs) {
			t.Errorf("classical: %d maps cached for %d images x %d blur sigmas", n, len(imgs), len(xs))
		}
		// The same buffer with other pixels is another image.
		img := imgs[0]
		copy(img.Pix, scene(160, 120, 12, 9).Pix)
		detectBoth(t, cached, plain, nil, img, space+": a buffer overwritten with another image")
	}
}

func TestEdgeCacheBounded(t *testing.T) {
	const w, h = 160, 120
	budget := int64(w*h*4)*2 + w*h*2 // room for two maps and a half
	cached, err := New(Options{EdgeCacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(Options{EdgeCacheBytes: -1})
	var imgs []*imgbuf.Gray
	for s := uint64(1); s <= 5; s++ {
		imgs = append(imgs, scene(w, h, 10, s))
		detectBoth(t, cached, plain, nil, imgs[len(imgs)-1], "new image")
		if n, _ := cached.edges.stats(); s == 1 && n != 0 {
			t.Fatalf("an image seen once was kept (%d maps)", n)
		}
		detectBoth(t, cached, plain, nil, imgs[len(imgs)-1], "the image again")
		if n, b := cached.edges.stats(); n > 2 || b > budget || n == 0 {
			t.Fatalf("after %d images: %d maps, %d bytes held, budget %d", len(imgs), n, b, budget)
		}
	}
	detectBoth(t, cached, plain, nil, imgs[0], "an evicted image again")
	// A map larger than the budget is computed and not kept.
	small, _ := New(Options{EdgeCacheBytes: 1024})
	detectBoth(t, small, plain, nil, imgs[1], "map over the budget")
	detectBoth(t, small, plain, nil, imgs[1], "map over the budget, again")
	if n, _ := small.edges.stats(); n != 0 {
		t.Errorf("a map over the budget was kept (%d maps)", n)
	}
}
