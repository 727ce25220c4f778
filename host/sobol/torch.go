package sobol

import (
	"math/bits"

	"bohost/host/errs"
)

// TorchBits is torch.quasirandom.SobolEngine.MAXBIT (torch 1.13 and later):
// its points lie on the grid k * 2^-30.
const TorchBits = 30

// TorchMaxDim is the largest dimension NewTorch supports: the dimensions with
// Joe and Kuo's direction numbers in this package (torch has all 21201).
const TorchMaxDim = 53

// NewTorch returns the sequence torch.quasirandom.SobolEngine(dim,
// scramble=True, seed=seed) draws, point for point and bit for bit: the same
// 30-bit direction numbers, the same random digital shift and lower-triangular
// matrix scramble drawn with torch.randint(2, ...) from a torch.Generator
// seeded with manual_seed(seed) (an MT19937; only the low 32 bits of seed
// count, as in torch), and the same order (point 0 is the shift, then Gray
// code). BoTorch's draw_sobol_samples(bounds, n, q=1, seed=seed) is the first
// n points scaled to bounds, which is how BoTorch scripts seed their initial
// designs; this lets a bohost run start from exactly the same points.
//
// The points are torch's float64 draws (dtype=torch.double), including its
// quirk that point 0 (quasi / 2**MAXBIT, computed before the dtype applies)
// comes rounded to float32; torch's default float32 draws are these rounded
// to float32. dim must be in [1, TorchMaxDim].
func NewTorch(dim int, seed uint64) (*Seq, error) {
	if dim < 1 || dim > TorchMaxDim {
		return nil, errs.New(errs.BadArg, "sobol.NewTorch", "dim must be in [1, %d], got %d", TorchMaxDim, dim).
			WithHint("torch-compatible points exist for the Joe-Kuo dimensions only; use sobol.New for more")
	}
	base := directions(dim)
	s := &Seq{dim: dim, v: make([][]uint64, dim), shift: make([]uint64, dim), x: make([]uint64, dim), nbits: TorchBits, scale: 1.0 / (1 << TorchBits), f32At0: true}
	for j := range dim {
		s.v[j] = make([]uint64, TorchBits)
		for k := range TorchBits {
			s.v[j][k] = base[j][k] >> (Bits - TorchBits)
		}
	}
	mt := newMT19937(uint32(seed))
	// shift_ints = torch.randint(2, (dim, MAXBIT)): bit k of shift[j] is
	// draw j*MAXBIT + k (least significant first).
	for j := range dim {
		for k := range TorchBits {
			s.shift[j] |= uint64(mt.next()&1) << k
		}
	}
	// ltm = torch.randint(2, (dim, MAXBIT, MAXBIT)).tril() with the diagonal
	// set to 1. Row p of dimension j, read with column k as bit MAXBIT-1-k,
	// gives the parity mask of output bit MAXBIT-1-p (most significant first).
	var rows [TorchBits]uint64
	for j := range dim {
		for p := range TorchBits {
			var r uint64
			for k := range TorchBits {
				b := uint64(mt.next() & 1)
				if k < p {
					r |= b << (TorchBits - 1 - k)
				}
			}
			rows[p] = r | 1<<(TorchBits-1-p)
		}
		for k, d := range s.v[j] {
			var out uint64
			for p := range TorchBits {
				out |= uint64(bits.OnesCount64(rows[p]&d)&1) << (TorchBits - 1 - p)
			}
			s.v[j][k] = out
		}
	}
	copy(s.x, s.shift)
	return s, nil
}

// mt19937 is the 32-bit Mersenne Twister as torch's CPU generator
// (at::mt19937) runs it: init_genrand seeding, standard tempering.
// torch.randint(2, ...) on the CPU takes one output per element, modulo 2.
type mt19937 struct {
	s [624]uint32
	i int
}

func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{i: 624}
	m.s[0] = seed
	for i := 1; i < 624; i++ {
		m.s[i] = 1812433253*(m.s[i-1]^m.s[i-1]>>30) + uint32(i)
	}
	return m
}

func (m *mt19937) next() uint32 {
	if m.i >= 624 {
		for k := range 624 {
			y := m.s[k]&0x80000000 | m.s[(k+1)%624]&0x7fffffff
			v := m.s[(k+397)%624] ^ y>>1
			if y&1 == 1 {
				v ^= 0x9908b0df
			}
			m.s[k] = v
		}
		m.i = 0
	}
	y := m.s[m.i]
	m.i++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}
