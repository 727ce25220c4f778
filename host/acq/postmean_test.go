package acq

import "testing"

// TestMeansMatchPoints: the means-only path gives points(Z).mu bit for bit
// on the dense and the grid route.
func TestMeansMatchPoints(t *testing.T) {
	t.Parallel()
	m1, X1, y1 := toy(t, 2, 12, 3)
	p1, _ := NewPost(m1, X1, y1)
	m2, X2, y2 := toyGrid(t, 2, 5, wset4, 4, false)
	p2, _ := NewPost(m2, X2, y2)
	if p1.kr != nil || p2.kr == nil {
		t.Fatal("routes not as expected")
	}
	Z := [][]float64{{0.1, 0.2, 0.3}, {0.9, 0.5, 0.1}, X2[3], X1[2], {0.4, 0.4, 0.9}}
	for r, p := range []*Post{p1, p2} {
		want := p.points(Z).mu
		got := p.means(Z)
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("route %d point %d: means %.17g, points %.17g", r, j, got[j], want[j])
			}
		}
	}
}
