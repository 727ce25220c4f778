package sobol

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"bohost/host/errs"
)

// degree returns the degree of dimension j's polynomial (0-based j); the
// van der Corput dimension counts as degree 1 (the polynomial x).
func degree(j int) int {
	if j == 0 {
		return 1
	}
	if j <= len(joeKuo) {
		return joeKuo[j-1].s
	}
	directions(j + 1)
	return polys[j-1-len(joeKuo)].s
}

func TestFirstPoints(t *testing.T) {
	t.Parallel()
	s, err := New(3, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{
		{0, 0, 0}, {0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75},
		{0.375, 0.375, 0.625}, {0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375},
	}
	got := s.Draw(len(want))
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("point %d = %v, want %v", i, got[i], want[i])
				break
			}
		}
	}
}

// reference computes point i of dimension j straight from the definition:
// m_k by the integer recurrence, then x = XOR over the bits of gray(i) of
// m_k / 2^k (natural, not incremental, evaluation).
func reference(s, a int, m0 []uint64, i uint64) float64 {
	m := append([]uint64(nil), m0...)
	for k := s; k < Bits; k++ {
		x := m[k-s] ^ m[k-s]<<s
		for j := 1; j < s; j++ {
			if a>>(s-1-j)&1 == 1 {
				x ^= m[k-j] << j
			}
		}
		m = append(m, x)
	}
	g := i ^ i>>1
	var x uint64
	for k := 0; g != 0; k, g = k+1, g>>1 {
		if g&1 == 1 {
			x ^= m[k] << (Bits - 1 - k)
		}
	}
	return float64(x) / (1 << Bits)
}

func TestAgainstDefinition(t *testing.T) {
	t.Parallel()
	s, _ := New(JoeKuoDims, false, 0)
	for i := uint64(0); i < 300; i++ {
		p := s.Next(nil)
		for j := 1; j < JoeKuoDims; j++ {
			r := joeKuo[j-1]
			if want := reference(r.s, r.a, r.m, i); p[j] != want {
				t.Fatalf("point %d dim %d = %v, definition gives %v", i, j+1, p[j], want)
			}
		}
	}
}

// TestTable checks the typed-in Joe–Kuo rows: m_k odd and below 2^k, and the
// (s, a) column is exactly the list of primitive polynomials by degree then a.
func TestTable(t *testing.T) {
	t.Parallel()
	i := 0
	for s := 1; s <= 8 && i < len(joeKuo); s++ {
		for a := 0; a < 1<<(s-1) && i < len(joeKuo); a++ {
			if !primitive(s, a) {
				continue
			}
			if r := joeKuo[i]; r.s != s || r.a != a {
				t.Fatalf("dimension %d: table has (s=%d, a=%d), primitive-polynomial order gives (%d, %d)", i+2, r.s, r.a, s, a)
			}
			i++
		}
	}
	for i, r := range joeKuo {
		if len(r.m) != r.s {
			t.Errorf("dimension %d: %d initial numbers for degree %d", i+2, len(r.m), r.s)
		}
		for k, m := range r.m {
			if m&1 == 0 || m >= 1<<(k+1) {
				t.Errorf("dimension %d: m_%d = %d is not odd and below 2^%d", i+2, k+1, m, k+1)
			}
		}
	}
	// Known counts of primitive polynomials of degree s: phi(2^s-1)/s.
	for s, want := range map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 6, 6: 6, 7: 18, 8: 16, 9: 48, 10: 60} {
		n := 0
		for a := 0; a < 1<<(s-1); a++ {
			if primitive(s, a) {
				n++
			}
		}
		if n != want {
			t.Errorf("degree %d: %d primitive polynomials, want %d", s, n, want)
		}
	}
}

// tValue returns the smallest t for which points (m bits, 2-D) form a
// (t, m, 2)-net in base 2.
func tValue(pts [][2]float64, m int) int {
	for t := 0; t <= m; t++ {
		ok := true
		for a := 0; a <= m-t && ok; a++ {
			b := m - t - a
			count := make(map[[2]int]int)
			for _, p := range pts {
				count[[2]int{int(p[0] * float64(int(1)<<a)), int(p[1] * float64(int(1)<<b))}]++
			}
			for _, c := range count {
				if c != 1<<t {
					ok = false
					break
				}
			}
			if len(count) != 1<<(m-t) {
				ok = false
			}
		}
		if ok {
			return t
		}
	}
	return m + 1
}

// TestNets: every dimension's first 2^m points are a (0, m, 1)-net, and every
// 2-D projection is a (t, m, 2)-net with t <= (s_i - 1) + (s_j - 1), scrambled
// or not.
func TestNets(t *testing.T) {
	t.Parallel()
	dims := []int{0, 1, 2, 3, 4, 5, 6, 7, 12, 19, 31, 52, 53, 60, 200}
	maxd := dims[len(dims)-1] + 1
	const m = 10
	for _, scr := range []bool{false, true} {
		s, _ := New(maxd, scr, 7)
		pts := s.Draw(1 << m)
		for _, j := range dims {
			seen := make([]bool, 1<<m)
			for _, p := range pts {
				b := int(p[j] * (1 << m))
				if seen[b] {
					t.Fatalf("scramble=%v dim %d: bin %d of 2^%d hit twice", scr, j+1, b, m)
				}
				seen[b] = true
			}
		}
		for x, j := range dims {
			for _, k := range dims[x+1:] {
				if k > 20 && j > 1 {
					continue // keep the run short: all low pairs, and high dims against dims 1, 2
				}
				p2 := make([][2]float64, len(pts))
				for i, p := range pts {
					p2[i] = [2]float64{p[j], p[k]}
				}
				bound := degree(j) - 1 + degree(k) - 1
				if tv := tValue(p2, m); tv > bound {
					t.Errorf("scramble=%v dims (%d, %d): t = %d > %d", scr, j+1, k+1, tv, bound)
				}
			}
		}
	}
	// Dimensions 1 and 2 are a (0, m, 2)-net.
	s, _ := New(2, false, 0)
	pts := s.Draw(1 << 8)
	p2 := make([][2]float64, len(pts))
	for i, p := range pts {
		p2[i] = [2]float64{p[0], p[1]}
	}
	if tv := tValue(p2, 8); tv != 0 {
		t.Errorf("dims (1, 2): t = %d, want 0", tv)
	}
}

func TestScrambledUniform(t *testing.T) {
	t.Parallel()
	s, _ := New(8, true, 42)
	const n = 1 << 12
	pts := s.Draw(n)
	for j := range 8 {
		var mean, m2 float64
		zero := true
		for _, p := range pts {
			mean += p[j]
			m2 += p[j] * p[j]
			if p[j] < 0 || p[j] >= 1 {
				t.Fatalf("dim %d: %v outside [0, 1)", j, p[j])
			}
			if p[j] != 0 {
				zero = false
			}
		}
		mean /= n
		m2 /= n
		// One point in each of 2^12 bins bounds the mean error by 2^-13.
		if math.Abs(mean-0.5) > 1.0/(1<<13) || math.Abs(m2-1.0/3) > 2.0/(1<<12) || zero {
			t.Errorf("dim %d: mean %v, E[u^2] %v; want 0.5 and 1/3", j, mean, m2)
		}
	}
	// Scrambling moves the first point off the origin.
	if pts[0][0] == 0 && pts[0][1] == 0 {
		t.Errorf("scrambled first point is the origin")
	}
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	a, _ := New(5, true, 3)
	b, _ := New(5, true, 3)
	c, _ := New(5, true, 4)
	pa, pb, pc := a.Draw(100), b.Draw(100), c.Draw(100)
	same := true
	for i := range pa {
		for j := range pa[i] {
			if pa[i][j] != pb[i][j] {
				t.Fatalf("same seed, point %d differs", i)
			}
			if pa[i][j] != pc[i][j] {
				same = false
			}
		}
	}
	if same {
		t.Errorf("seeds 3 and 4 give the same points")
	}
}

func TestSeek(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, scr := range []bool{false, true} {
		ref, _ := New(6, scr, 9)
		all := ref.Draw(2000)
		s, _ := New(6, scr, 9)
		for range 50 {
			i := rng.Uint64N(2000)
			s.Seek(i)
			if s.Index() != i {
				t.Fatalf("Index after Seek(%d) = %d", i, s.Index())
			}
			p := s.Next(nil)
			for j := range p {
				if p[j] != all[i][j] {
					t.Fatalf("scramble=%v: Seek(%d)+Next = %v, want %v", scr, i, p, all[i])
				}
			}
			// Continuing after a Seek follows the sequence.
			q := s.Next(nil)
			for j := range q {
				if i+1 < 2000 && q[j] != all[i+1][j] {
					t.Fatalf("scramble=%v: point after Seek(%d) = %v, want %v", scr, i, q, all[i+1])
				}
			}
		}
		// Far out: Seek(i-1)+2×Next agrees with Seek(i)+Next.
		i := uint64(1)<<40 + 12345
		s.Seek(i - 1)
		s.Next(nil)
		p := s.Next(nil)
		s.Seek(i)
		q := s.Next(nil)
		for j := range p {
			if p[j] != q[j] {
				t.Fatalf("scramble=%v: point 2^40+12345 differs between Seek and Next", scr)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, d := range []int{0, -1, MaxDim + 1} {
		if _, err := New(d, false, 0); !errs.Is(err, errs.BadArg) {
			t.Errorf("New(%d) error = %v, want bad_arg", d, err)
		}
	}
}

func TestNormal(t *testing.T) {
	t.Parallel()
	const n, d = 1024, 4
	z := Normal(d, n, 11)
	z2 := Normal(d, n, 11)
	for j := range d {
		var mean, v float64
		for i := range z {
			if math.IsInf(z[i][j], 0) || math.IsNaN(z[i][j]) || z[i][j] != z2[i][j] {
				t.Fatalf("sample %d,%d = %v (second draw %v)", i, j, z[i][j], z2[i][j])
			}
			mean += z[i][j]
			v += z[i][j] * z[i][j]
		}
		mean /= n
		v /= n
		if math.Abs(mean) > 0.01 || math.Abs(v-1) > 0.03 {
			t.Errorf("dim %d: mean %v, second moment %v; want 0, 1", j, mean, v)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	for _, d := range []int{2, 8, 64} {
		b.Run("dim="+strconv.Itoa(d), func(b *testing.B) {
			s, _ := New(d, true, 1)
			dst := make([]float64, d)
			for b.Loop() {
				if s.Index() == 1<<30 {
					s.Seek(0)
				}
				s.Next(dst)
			}
		})
	}
}

func BenchmarkDraw1024(b *testing.B) {
	for _, d := range []int{8, 64} {
		b.Run("dim="+strconv.Itoa(d), func(b *testing.B) {
			for b.Loop() {
				s, _ := New(d, true, 1)
				s.Draw(1024)
			}
		})
	}
}

func BenchmarkNormal128x32(b *testing.B) {
	for b.Loop() {
		Normal(32, 128, 1)
	}
}
