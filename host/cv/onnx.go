package cv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// onnxInfo is what bohost reads from an ONNX file itself, before OpenCV sees
// it: the graph's real inputs (initializers excluded) with their declared
// shapes, and the graph's output names. Symbolic or missing dimensions are -1.
type onnxInfo struct {
	Inputs  []onnxValue
	Outputs []string
}

type onnxValue struct {
	Name string
	Dims []int64
}

// readONNXInfo streams path's protobuf and extracts onnxInfo, skipping weight
// payloads, so a 140 MB model costs no more than a few kilobytes of memory.
// A file that is not well-formed protobuf, or has no graph, is an error.
func readONNXInfo(path string) (onnxInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return onnxInfo{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return onnxInfo{}, err
	}
	p := &pbStream{r: bufio.NewReaderSize(f, 64<<10)}
	var info onnxInfo
	var inits map[string]bool
	graphs := 0
	for p.n < fi.Size() {
		field, wt, err := p.key()
		if err != nil {
			return info, err
		}
		if field == 7 && wt == 2 { // ModelProto.graph
			l, err := p.length(fi.Size())
			if err != nil {
				return info, err
			}
			graphs++
			if inits, err = p.graph(p.n+l, &info); err != nil {
				return info, err
			}
			continue
		}
		if err := p.skip(wt, fi.Size()); err != nil {
			return info, err
		}
	}
	if graphs == 0 {
		return info, errors.New("no graph in the file (not an ONNX model)")
	}
	real := info.Inputs[:0]
	for _, in := range info.Inputs {
		if !inits[in.Name] {
			real = append(real, in)
		}
	}
	info.Inputs = real
	return info, nil
}

// pbStream reads protobuf wire format from a stream, counting bytes consumed.
type pbStream struct {
	r *bufio.Reader
	n int64
}

var errMalformed = errors.New("malformed protobuf")

func (p *pbStream) varint() (uint64, error) {
	var v uint64
	for s := 0; s < 64; s += 7 {
		b, err := p.r.ReadByte()
		if err != nil {
			return 0, errMalformed
		}
		p.n++
		v |= uint64(b&0x7f) << s
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errMalformed
}

func (p *pbStream) key() (field int, wt int, err error) {
	k, err := p.varint()
	if err != nil {
		return 0, 0, err
	}
	if k>>3 == 0 {
		return 0, 0, errMalformed
	}
	return int(k >> 3), int(k & 7), nil
}

// length reads a length prefix and checks it against the end of the enclosing message.
func (p *pbStream) length(end int64) (int64, error) {
	l, err := p.varint()
	if err != nil {
		return 0, err
	}
	if l > uint64(end-p.n) {
		return 0, fmt.Errorf("%w: field length %d runs past its message", errMalformed, l)
	}
	return int64(l), nil
}

func (p *pbStream) discard(n int64) error {
	for n > 0 {
		k := n
		if k > 1<<30 {
			k = 1 << 30
		}
		d, err := p.r.Discard(int(k))
		p.n += int64(d)
		if err != nil {
			return errMalformed
		}
		n -= int64(d)
	}
	return nil
}

func (p *pbStream) bytes(n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, errMalformed
	}
	p.n += n
	return b, nil
}

func (p *pbStream) skip(wt int, end int64) error {
	switch wt {
	case 0:
		_, err := p.varint()
		return err
	case 1:
		return p.discard(8)
	case 2:
		l, err := p.length(end)
		if err != nil {
			return err
		}
		return p.discard(l)
	case 5:
		return p.discard(4)
	}
	return fmt.Errorf("%w: wire type %d", errMalformed, wt)
}

// graph parses GraphProto up to end: inputs (11), outputs (12), and the names
// of initializers (5), returned as a set.
func (p *pbStream) graph(end int64, info *onnxInfo) (map[string]bool, error) {
	inits := map[string]bool{}
	for p.n < end {
		field, wt, err := p.key()
		if err != nil {
			return nil, err
		}
		switch {
		case (field == 11 || field == 12) && wt == 2:
			l, err := p.length(end)
			if err != nil {
				return nil, err
			}
			if l > 1<<20 {
				return nil, fmt.Errorf("%w: value info of %d bytes", errMalformed, l)
			}
			b, err := p.bytes(l)
			if err != nil {
				return nil, err
			}
			v, err := parseValueInfo(b)
			if err != nil {
				return nil, err
			}
			if field == 11 {
				info.Inputs = append(info.Inputs, v)
			} else {
				info.Outputs = append(info.Outputs, v.Name)
			}
		case field == 5 && wt == 2:
			l, err := p.length(end)
			if err != nil {
				return nil, err
			}
			name, err := p.tensorName(p.n + l)
			if err != nil {
				return nil, err
			}
			inits[name] = true
		default:
			if err := p.skip(wt, end); err != nil {
				return nil, err
			}
		}
	}
	if p.n != end {
		return nil, fmt.Errorf("%w: graph overruns its length", errMalformed)
	}
	return inits, nil
}

// tensorName reads TensorProto up to end, keeping only its name (8).
func (p *pbStream) tensorName(end int64) (string, error) {
	name := ""
	for p.n < end {
		field, wt, err := p.key()
		if err != nil {
			return "", err
		}
		if field == 8 && wt == 2 {
			l, err := p.length(end)
			if err != nil {
				return "", err
			}
			b, err := p.bytes(l)
			if err != nil {
				return "", err
			}
			name = string(b)
			continue
		}
		if err := p.skip(wt, end); err != nil {
			return "", err
		}
	}
	if p.n != end {
		return "", fmt.Errorf("%w: tensor overruns its length", errMalformed)
	}
	return name, nil
}

// pbMsg iterates the fields of an in-memory message.
func pbFields(b []byte, fn func(field, wt int, v uint64, sub []byte) error) error {
	for len(b) > 0 {
		k, n := uvarint(b)
		if n <= 0 || k>>3 == 0 {
			return errMalformed
		}
		b = b[n:]
		field, wt := int(k>>3), int(k&7)
		var v uint64
		var sub []byte
		switch wt {
		case 0:
			v, n = uvarint(b)
			if n <= 0 {
				return errMalformed
			}
			b = b[n:]
		case 1, 5:
			w := 8
			if wt == 5 {
				w = 4
			}
			if len(b) < w {
				return errMalformed
			}
			b = b[w:]
		case 2:
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errMalformed
			}
			sub = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			return fmt.Errorf("%w: wire type %d", errMalformed, wt)
		}
		if err := fn(field, wt, v, sub); err != nil {
			return err
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// parseValueInfo reads ValueInfoProto {1 name, 2 type {1 tensor_type {2 shape {1 dim {1 dim_value}}}}}.
func parseValueInfo(b []byte) (onnxValue, error) {
	var v onnxValue
	err := pbFields(b, func(field, wt int, _ uint64, sub []byte) error {
		switch {
		case field == 1 && wt == 2:
			v.Name = string(sub)
		case field == 2 && wt == 2: // TypeProto
			return pbFields(sub, func(field, wt int, _ uint64, sub []byte) error {
				if field != 1 || wt != 2 { // tensor_type
					return nil
				}
				return pbFields(sub, func(field, wt int, _ uint64, sub []byte) error {
					if field != 2 || wt != 2 { // shape
						return nil
					}
					return pbFields(sub, func(field, wt int, _ uint64, sub []byte) error {
						if field != 1 || wt != 2 { // dim
							return nil
						}
						d := int64(-1)
						err := pbFields(sub, func(field, wt int, x uint64, _ []byte) error {
							if field == 1 && wt == 0 {
								d = int64(x)
							}
							return nil
						})
						if d <= 0 {
							d = -1
						}
						v.Dims = append(v.Dims, d)
						return err
					})
				})
			})
		}
		return nil
	})
	return v, err
}
