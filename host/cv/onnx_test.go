package cv

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// A hand-rolled ONNX writer for test models: just the protobuf fields OpenCV
// 4.6's importer reads (notes/deps.md §2.2). No dependency on onnx or protobuf.

type pb []byte

func (b pb) varint(v uint64) pb {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
func (b pb) key(field, wt int) pb       { return b.varint(uint64(field<<3 | wt)) }
func (b pb) int(field int, v int64) pb  { return b.key(field, 0).varint(uint64(v)) }
func (b pb) msg(field int, m []byte) pb { return append(b.key(field, 2).varint(uint64(len(m))), m...) }
func (b pb) str(field int, s string) pb { return b.msg(field, []byte(s)) }
func (b pb) ints(field int, v []int64) pb {
	for _, x := range v {
		b = b.int(field, x)
	}
	return b
}

type onnxAttr struct {
	name string
	ints []int64
}

type onnxNode struct {
	op      string
	in, out []string
	attrs   []onnxAttr
}

type onnxTensor struct {
	name string
	dims []int64
	f32  []float32 // data_type 1
	i64  []int64   // data_type 7
}

// onnxValueInfo encodes a float tensor value; dims < 0 become symbolic.
func onnxValueInfo(name string, dims []int64) []byte {
	var shape pb
	for i, d := range dims {
		if d < 0 {
			shape = shape.msg(1, pb(nil).str(2, "d"+string(rune('0'+i))))
		} else {
			shape = shape.msg(1, pb(nil).int(1, d))
		}
	}
	tt := pb(nil).int(1, 1).msg(2, shape)
	return pb(nil).str(1, name).msg(2, pb(nil).msg(1, tt))
}

func onnxModel(nodes []onnxNode, inits []onnxTensor, input string, inDims []int64, outputs []string) []byte {
	var g pb
	for _, n := range nodes {
		var nb pb
		for _, s := range n.in {
			nb = nb.str(1, s)
		}
		for _, s := range n.out {
			nb = nb.str(2, s)
		}
		nb = nb.str(4, n.op)
		for _, a := range n.attrs {
			nb = nb.msg(5, pb(nil).str(1, a.name).ints(8, a.ints).int(20, 7)) // type INTS
		}
		g = g.msg(1, nb)
	}
	g = g.str(2, "bohost_test")
	for _, t := range inits {
		tb := pb(nil).ints(1, t.dims)
		var raw []byte
		if t.i64 != nil {
			tb = tb.int(2, 7)
			for _, v := range t.i64 {
				raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
			}
		} else {
			tb = tb.int(2, 1)
			for _, v := range t.f32 {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
			}
		}
		g = g.msg(5, tb.str(8, t.name).msg(9, raw))
	}
	g = g.msg(11, onnxValueInfo(input, inDims))
	for _, o := range outputs {
		g = g.msg(12, onnxValueInfo(o, nil))
	}
	opset := pb(nil).str(1, "").int(2, 13)
	return pb(nil).int(1, 7).str(2, "bohost").msg(7, g).msg(8, opset)
}

func writeModel(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeModelB(b *testing.B, data []byte) string {
	p := filepath.Join(b.TempDir(), "model.onnx")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// convModel is one Conv (kernel k×k, stride 1, zero padding k/2) from c input
// channels to one output map; weights are c·k·k values, row-major per channel.
func convModel(c, k int, weights []float32, bias float32, kernelShape bool) []byte {
	attrs := []onnxAttr{{"pads", []int64{int64(k / 2), int64(k / 2), int64(k / 2), int64(k / 2)}}, {"strides", []int64{1, 1}}}
	if kernelShape {
		attrs = append(attrs, onnxAttr{"kernel_shape", []int64{int64(k), int64(k)}})
	}
	return onnxModel(
		[]onnxNode{{op: "Conv", in: []string{"x", "w", "b"}, out: []string{"y"}, attrs: attrs}},
		[]onnxTensor{
			{name: "w", dims: []int64{1, int64(c), int64(k), int64(k)}, f32: weights},
			{name: "b", dims: []int64{1}, f32: []float32{bias}},
		},
		"x", []int64{1, int64(c), -1, -1}, []string{"y"})
}

// yoloModel outputs a constant [1, 4+C(+1), 16] (v8) or its transpose (v5)
// from a 32×32 input: a stride-8 8×8 Conv with zero weights and the given
// per-feature biases, reshaped (and, for v5, transposed).
func yoloModel(bias []float32, v5 bool) []byte {
	f := int64(len(bias))
	nodes := []onnxNode{
		{op: "Conv", in: []string{"images", "w", "b"}, out: []string{"c"}, attrs: []onnxAttr{
			{"kernel_shape", []int64{8, 8}}, {"strides", []int64{8, 8}}, {"pads", []int64{0, 0, 0, 0}}}},
		{op: "Reshape", in: []string{"c", "shape"}, out: []string{"r"}},
	}
	out := "r"
	if v5 {
		nodes = append(nodes, onnxNode{op: "Transpose", in: []string{"r"}, out: []string{"t"}, attrs: []onnxAttr{{"perm", []int64{0, 2, 1}}}})
		out = "t"
	}
	return onnxModel(nodes, []onnxTensor{
		{name: "w", dims: []int64{f, 3, 8, 8}, f32: make([]float32, f*3*64)},
		{name: "b", dims: []int64{f}, f32: bias},
		{name: "shape", dims: []int64{3}, i64: []int64{1, f, 16}},
	}, "images", []int64{1, 3, 32, 32}, []string{out})
}

func TestReadONNXInfo(t *testing.T) {
	p := writeModel(t, "conv.onnx", convModel(3, 3, make([]float32, 27), 0, true))
	info, err := readONNXInfo(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Inputs) != 1 || info.Inputs[0].Name != "x" {
		t.Fatalf("inputs %+v, want only x (initializers excluded)", info.Inputs)
	}
	if d := info.Inputs[0].Dims; len(d) != 4 || d[0] != 1 || d[1] != 3 || d[2] != -1 || d[3] != -1 {
		t.Fatalf("dims %v, want [1 3 -1 -1]", d)
	}
	if len(info.Outputs) != 1 || info.Outputs[0] != "y" {
		t.Fatalf("outputs %v", info.Outputs)
	}
	// Every strict prefix of the file is malformed or lacks a graph.
	data, _ := os.ReadFile(p)
	for _, n := range []int{0, 1, 5, len(data) / 2, len(data) - 1} {
		q := writeModel(t, "cut.onnx", data[:n])
		if _, err := readONNXInfo(q); err == nil {
			t.Errorf("prefix of %d/%d bytes parsed without error", n, len(data))
		}
	}
}
