package sobol

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"bohost/host/errs"
)

const (
	// Bits is the number of bits of every coordinate: points lie on the grid
	// k * 2^-52, and a sequence holds 2^52 points.
	Bits = 52
	// MaxDim is the largest supported dimension.
	MaxDim = 21201
	// extSeed seeds the initial direction numbers of dimensions > JoeKuoDims.
	extSeed = 0x5eb01d1ec7
)

var (
	dirMu sync.Mutex
	dirs  [][]uint64 // unscrambled direction numbers V_1..V_Bits per dimension, as Bits-bit integers
	polys []poly     // primitive polynomials after the last Joe–Kuo one, generated on demand
	ext   *rand.Rand
)

// poly is x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1, with a_1 the top bit of a.
type poly struct{ s, a int }

// directions returns the direction numbers of the first dim dimensions.
func directions(dim int) [][]uint64 {
	dirMu.Lock()
	defer dirMu.Unlock()
	if len(dirs) == 0 {
		v := make([]uint64, Bits)
		for k := range v {
			v[k] = 1 << (Bits - 1 - k) // van der Corput: m_k = 1
		}
		dirs = append(dirs, v)
		for _, r := range joeKuo {
			dirs = append(dirs, expand(r.s, r.a, r.m))
		}
		ext = rand.New(rand.NewPCG(extSeed, extSeed>>7))
	}
	for len(dirs) < dim {
		p := nextPoly()
		m := make([]uint64, p.s)
		for k := range m {
			// m_k odd in [1, 2^(k+1)), deterministic.
			m[k] = ext.Uint64N(1<<k)<<1 | 1
		}
		dirs = append(dirs, expand(p.s, p.a, m))
	}
	return dirs[:dim]
}

// expand runs the Sobol recurrence
//
//	m_k = 2 a_1 m_(k-1) ^ 4 a_2 m_(k-2) ^ ... ^ 2^(s-1) a_(s-1) m_(k-s+1) ^ 2^s m_(k-s) ^ m_(k-s)
//
// and returns V_k = m_k * 2^(Bits-k) for k = 1..Bits.
func expand(s, a int, m []uint64) []uint64 {
	v := make([]uint64, Bits)
	for k := 0; k < s && k < Bits; k++ {
		v[k] = m[k] << (Bits - 1 - k)
	}
	for k := s; k < Bits; k++ {
		x := v[k-s] ^ v[k-s]>>s
		for j := 1; j < s; j++ {
			if a>>(s-1-j)&1 == 1 {
				x ^= v[k-j]
			}
		}
		v[k] = x
	}
	return v
}

// nextPoly returns the next primitive polynomial after the last one used,
// in Joe and Kuo's order (by degree, then by a).
func nextPoly() poly {
	last := poly{joeKuo[len(joeKuo)-1].s, joeKuo[len(joeKuo)-1].a}
	if len(polys) > 0 {
		last = polys[len(polys)-1]
	}
	s, a := last.s, last.a+1
	for {
		for ; a < 1<<(s-1); a++ {
			if primitive(s, a) {
				p := poly{s, a}
				polys = append(polys, p)
				return p
			}
		}
		s, a = s+1, 0
	}
}

// primitive reports whether x^s + (a<<1) + 1 is primitive over GF(2): x has
// multiplicative order exactly 2^s - 1 modulo the polynomial.
func primitive(s, a int) bool {
	p := uint64(1)<<s | uint64(a)<<1 | 1
	order := uint64(1)<<s - 1
	if s == 1 {
		return true // x + 1
	}
	if powmod(2, order, p, s) != 1 {
		return false
	}
	n := order
	for q := uint64(2); q*q <= n; q++ {
		if n%q != 0 {
			continue
		}
		for n%q == 0 {
			n /= q
		}
		if powmod(2, order/q, p, s) == 1 {
			return false
		}
	}
	if n > 1 && powmod(2, order/n, p, s) == 1 {
		return false
	}
	return true
}

// mulmod multiplies polynomials x and y modulo p of degree s.
func mulmod(x, y, p uint64, s int) uint64 {
	var r uint64
	for y != 0 {
		if y&1 == 1 {
			r ^= x
		}
		y >>= 1
		x <<= 1
		if x>>s&1 == 1 {
			x ^= p
		}
	}
	return r
}

func powmod(x, e, p uint64, s int) uint64 {
	r := uint64(1)
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, x, p, s)
		}
		x = mulmod(x, x, p, s)
		e >>= 1
	}
	return r
}

// Seq is a Sobol sequence in [0, 1)^dim, generated in Gray-code order. A Seq
// is not safe for concurrent use.
type Seq struct {
	dim    int
	v      [][]uint64 // direction numbers, scrambled when requested
	shift  []uint64   // digital shift (zero when unscrambled)
	x      []uint64   // the next point, as nbits-bit integers
	index  uint64     // the index of the next point
	nbits  uint       // bits per coordinate: Bits, or TorchBits for NewTorch
	scale  float64    // 2^-nbits
	f32At0 bool       // point 0 rounded to float32, as torch's SobolEngine returns it
}

// New returns a Sobol sequence of dimension dim in [1, MaxDim]. With
// scramble, the direction numbers get a random linear matrix scramble and the
// points a random digital shift (as torch's SobolEngine(scramble=True)), drawn
// deterministically from seed; without it, seed is ignored and the first
// point is the origin.
func New(dim int, scramble bool, seed uint64) (*Seq, error) {
	if dim < 1 || dim > MaxDim {
		return nil, errs.New(errs.BadArg, "sobol.New", "dim must be in [1, %d], got %d", MaxDim, dim)
	}
	base := directions(dim)
	s := &Seq{dim: dim, v: base, shift: make([]uint64, dim), x: make([]uint64, dim), nbits: Bits, scale: 1.0 / (1 << Bits)}
	if scramble {
		rng := rand.New(rand.NewPCG(seed, 0x50b01)) // stream constant: "sobol"
		s.v = make([][]uint64, dim)
		var rows [Bits]uint64
		for j := range dim {
			// Lower-triangular binary matrix with unit diagonal, in
			// most-significant-bit-first order: output bit i depends on
			// input bits 0..i, so the net structure is kept.
			for i := range Bits {
				diag := uint64(1) << (Bits - 1 - i)
				above := ^(diag<<1 - 1) & (1<<Bits - 1) // more significant bits
				rows[i] = rng.Uint64()&above | diag
			}
			vj := make([]uint64, Bits)
			for k, d := range base[j] {
				var out uint64
				for i := range Bits {
					out |= uint64(bits.OnesCount64(rows[i]&d)&1) << (Bits - 1 - i)
				}
				vj[k] = out
			}
			s.v[j] = vj
			s.shift[j] = rng.Uint64() & (1<<Bits - 1)
		}
	}
	copy(s.x, s.shift)
	return s, nil
}

// Dim returns the dimension.
func (s *Seq) Dim() int { return s.dim }

// Index returns the index of the next point: the number of points drawn
// since New, or the position set by Seek.
func (s *Seq) Index() uint64 { return s.index }

// Seek positions the sequence so that the next point is point i (0-based).
// Seek(i) followed by Next gives the same point as drawing i+1 points from a
// fresh sequence. It panics if i >= 2^Bits (2^TorchBits for NewTorch).
func (s *Seq) Seek(i uint64) {
	if i >= 1<<s.nbits {
		panic(fmt.Sprintf("sobol: Seek(%d) beyond 2^%d points", i, s.nbits))
	}
	g := i ^ i>>1
	for j := range s.dim {
		x := s.shift[j]
		for b := g; b != 0; b &= b - 1 {
			x ^= s.v[j][bits.TrailingZeros64(b)]
		}
		s.x[j] = x
	}
	s.index = i
}

// Next stores the next point in dst, reused when it has room for Dim values,
// and returns it. It panics after 2^Bits points (2^TorchBits for NewTorch).
func (s *Seq) Next(dst []float64) []float64 {
	if cap(dst) >= s.dim {
		dst = dst[:s.dim]
	} else {
		dst = make([]float64, s.dim)
	}
	if s.index >= 1<<s.nbits {
		panic("sobol: sequence exhausted")
	}
	for j, x := range s.x {
		dst[j] = float64(x) * s.scale
	}
	if s.f32At0 && s.index == 0 {
		for j, v := range dst {
			dst[j] = float64(float32(v))
		}
	}
	s.index++
	if s.index < 1<<s.nbits {
		c := bits.TrailingZeros64(s.index)
		for j := range s.x {
			s.x[j] ^= s.v[j][c]
		}
	}
	return dst
}

// Draw returns the next n points as an n × Dim matrix (rows share one
// backing array).
func (s *Seq) Draw(n int) [][]float64 {
	if n <= 0 {
		return [][]float64{}
	}
	back := make([]float64, n*s.dim)
	out := make([][]float64, n)
	for i := range out {
		out[i] = s.Next(back[i*s.dim : (i+1)*s.dim : (i+1)*s.dim])
	}
	return out
}

// Normal returns n standard-normal base samples of dimension dim: the first
// n points of a scrambled Sobol sequence seeded with seed, mapped through the
// inverse normal CDF, as BoTorch's SobolQMCNormalSampler (draw_sobol_normal_
// samples) does. Uniforms are squeezed to 0.5 + (1 - 2^-52)(u - 0.5) first so
// that no sample is infinite. It panics if dim is outside [1, MaxDim].
func Normal(dim, n int, seed uint64) [][]float64 {
	s, err := New(dim, true, seed)
	if err != nil {
		panic("sobol: Normal: " + err.Error())
	}
	out := s.Draw(n)
	const squeeze = 1 - 0x1p-52
	for _, row := range out {
		for j, u := range row {
			row[j] = distuv.UnitNormal.Quantile(0.5 + squeeze*(u-0.5))
		}
	}
	return out
}
