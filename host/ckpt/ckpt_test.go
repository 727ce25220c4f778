package ckpt

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"bohost/host/errs"
)

// rng is a test bohost object with a 128-bit state stored as strings.
type rng struct{ hi, lo uint64 }

func (r *rng) CkptType() string { return "test.rng" }
func (r *rng) CkptFields() (map[string]Value, error) {
	return map[string]Value{"hi": strconv.FormatUint(r.hi, 16), "lo": strconv.FormatUint(r.lo, 16)}, nil
}

func decodeRNG(f map[string]Value) (Value, error) {
	hs, _ := f["hi"].(string)
	ls, _ := f["lo"].(string)
	hi, err1 := strconv.ParseUint(hs, 16, 64)
	lo, err2 := strconv.ParseUint(ls, 16, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad rng state %q %q", hs, ls)
	}
	return &rng{hi, lo}, nil
}

func newCodec(t *testing.T) *Codec {
	c := NewCodec()
	if err := c.Register("test.rng", decodeRNG); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFloatBits round-trips random float64 bit patterns (including NaNs with
// payloads, infinities, subnormals and -0) bit for bit.
func TestFloatBits(t *testing.T) {
	c := NewCodec()
	src := rand.New(rand.NewPCG(1, 2))
	specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000abc),
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, math.MaxFloat64, 1e21, 1e-7, 0.1, 1, 2 << 52}
	xs := make([]Value, 0, 20000+len(specials))
	for _, f := range specials {
		xs = append(xs, f)
	}
	for range 10000 {
		xs = append(xs, math.Float64frombits(src.Uint64()))
	}
	// Exponent all ones: NaN payloads and infinities with random sign/payload.
	for range 10000 {
		xs = append(xs, math.Float64frombits(src.Uint64()|0x7ff0000000000000))
	}
	b, err := c.Marshal(xs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got := v.([]Value)
	if len(got) != len(xs) {
		t.Fatalf("got %d values, want %d", len(got), len(xs))
	}
	for i := range xs {
		if g, w := math.Float64bits(got[i].(float64)), math.Float64bits(xs[i].(float64)); g != w {
			t.Fatalf("value %d: bits %016x, want %016x", i, g, w)
		}
	}
	// []float64 takes the fast path and must agree.
	fs := make([]float64, len(xs))
	for i := range xs {
		fs[i] = xs[i].(float64)
	}
	b2, err := c.Marshal(fs)
	if err != nil || string(b2) != string(b) {
		t.Errorf("[]float64 encoding differs from []Value encoding (err %v)", err)
	}
}

// TestValueRoundTrip covers the Lua-shaped value model.
func TestValueRoundTrip(t *testing.T) {
	c := newCodec(t)
	in := map[string]Value{
		"alpha":  0.1,
		"n":      3, // int → float64
		"name":   "run <a&b> \"q\"\n\té",
		"binary": "\xff\x00\xfe",
		"flag":   true,
		"none":   nil,
		"list":   []Value{1.5, "x", false, nil, []Value{}},
		"xs":     [][]float64{{0.1, 0.2}, {math.NaN()}},
		"nested": map[string]Value{"b": 2.0, "a": 1.0, "__type": "user key"},
		"table":  Pairs{{1.0, "one"}, {2.5, "two and a half"}, {true, "yes"}, {"k", map[string]Value{}}},
		"rng":    &rng{hi: math.MaxUint64, lo: 12345},
		"opaque": &Object{Type: "future.thing", Fields: map[string]Value{"v": 1.0}},
	}
	b, err := c.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"alpha":  0.1,
		"n":      3.0,
		"name":   "run <a&b> \"q\"\n\té",
		"binary": "\xff\x00\xfe",
		"flag":   true,
		"none":   nil,
		"list":   []Value{1.5, "x", false, nil, []Value{}},
		"nested": map[string]Value{"b": 2.0, "a": 1.0, "__type": "user key"},
		"table":  Pairs{{1.0, "one"}, {2.5, "two and a half"}, {true, "yes"}, {"k", map[string]Value{}}},
		"rng":    &rng{hi: math.MaxUint64, lo: 12345},
		"opaque": &Object{Type: "future.thing", Fields: map[string]Value{"v": 1.0}},
	}
	got := v.(map[string]Value)
	xs := got["xs"].([]Value)
	if !reflect.DeepEqual(xs[0], []Value{0.1, 0.2}) || !math.IsNaN(xs[1].([]Value)[0].(float64)) {
		t.Errorf("xs = %v", xs)
	}
	delete(got, "xs") // NaN != NaN under DeepEqual
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", v, want)
	}
	// Canonical: encoding the decoded value gives the same bytes.
	got["xs"] = xs
	b2, err := c.Marshal(got)
	if err != nil || string(b2) != string(b) {
		t.Errorf("re-encoding differs:\n%s\n%s", b, b2)
	}
	if !strings.Contains(string(b), `"alpha":0.1,"binary":`) || !strings.Contains(string(b), `run <a&b>`) {
		t.Errorf("encoding not compact/readable: %s", b)
	}
}

func TestMarshalErrors(t *testing.T) {
	c := NewCodec()
	for _, tc := range []struct {
		name string
		v    Value
		want string
	}{
		{"big int", map[string]Value{"seed": int64(1) << 60}, "$.seed"},
		{"big uint", []Value{uint64(math.MaxUint64)}, "$[0]"},
		{"func", map[string]Value{"f": func() {}}, "$.f"},
		{"struct", struct{ A int }{1}, "implement ckpt.Encoder"},
		{"int keys", map[int]Value{1: 2}, "use ckpt.Pairs"},
	} {
		_, err := c.Marshal(tc.v)
		if !errs.Is(err, errs.BadArg) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want bad_arg mentioning %q", tc.name, err, tc.want)
		}
	}
	cyc := []Value{nil}
	cyc[0] = cyc
	if _, err := c.Marshal(cyc); !errs.Is(err, errs.BadArg) {
		t.Errorf("cycle: got %v", err)
	}
	for _, typ := range []string{"", TypeFloat, TypeMap, TypePairs, TypeBytes} {
		if err := c.Register(typ, decodeRNG); !errs.Is(err, errs.BadArg) {
			t.Errorf("Register(%q): got %v", typ, err)
		}
	}
}

func TestSaveLoadRotate(t *testing.T) {
	c := newCodec(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.json")
	if _, err := c.Latest(dir); !errors.Is(err, fs.ErrNotExist) || !errs.Is(err, errs.IO) {
		t.Fatalf("empty dir: got %v, want io + fs.ErrNotExist", err)
	}
	for i := range 3 {
		if err := c.Save(path, map[string]Value{"iteration": float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ld, err := c.Latest(dir)
	if err != nil || ld.Warning != nil || ld.Path != path || ld.Payload.(map[string]Value)["iteration"] != 2.0 {
		t.Fatalf("Latest = %+v, %v", ld, err)
	}
	prev, err := c.loadOne(PrevPath(path))
	if err != nil || prev.(map[string]Value)["iteration"] != 1.0 {
		t.Fatalf("prev = %v, %v", prev, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), `{"format":1,"sha256":"`) || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("envelope: %s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d files, want checkpoint.json and checkpoint.prev.json", len(entries))
	}
}

// TestCorruption damages the current snapshot in every way a small file
// allows — truncation at every length, every single-bit flip, every byte
// replaced by 0xff — and checks that Load detects it and uses the previous one.
func TestCorruption(t *testing.T) {
	c := newCodec(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.json")
	old := map[string]Value{"iteration": 1.0, "y": []Value{0.5}}
	cur := map[string]Value{"iteration": 2.0, "y": []Value{0.5, math.Inf(-1)}, "s": "é", "rng": &rng{1, 2}}
	if err := c.Save(path, old); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path, cur); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	prevBytes, _ := os.ReadFile(PrevPath(path))
	t.Logf("snapshot is %d bytes", len(good))

	check := func(what string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ld, err := c.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ld.Warning == nil || ld.Path != PrevPath(path) || ld.Payload.(map[string]Value)["iteration"] != 1.0 {
			t.Fatalf("%s: not detected: %+v", what, ld)
		}
		if !strings.Contains(ld.Warning.String(), path) || !strings.Contains(ld.Warning.String(), "previous") {
			t.Fatalf("%s: unclear warning %q", what, ld.Warning)
		}
	}
	for n := 0; n < len(good)-1; n++ { // dropping only the final newline is harmless
		check(fmt.Sprintf("truncated to %d", n), good[:n])
	}
	for i := range good {
		for bit := range 8 {
			d := append([]byte(nil), good...)
			d[i] ^= 1 << bit
			check(fmt.Sprintf("byte %d bit %d", i, bit), d)
		}
		d := append([]byte(nil), good...)
		d[i] = 0xff
		if good[i] != 0xff {
			check(fmt.Sprintf("byte %d = 0xff", i), d)
		}
	}
	check("not JSON", []byte("hello"))
	check("other format", []byte(strings.Replace(string(good), `"format":1`, `"format":2`, 1)))

	// Both damaged: a clear error naming both files.
	os.WriteFile(path, good[:10], 0o644)
	os.WriteFile(PrevPath(path), prevBytes[:len(prevBytes)/2], 0o644)
	_, err := c.Load(path)
	if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), PrevPath(path)) {
		t.Errorf("both corrupt: %v", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("both corrupt reported as not existing")
	}

	// A corrupt current file is not rotated over the good previous one.
	os.WriteFile(PrevPath(path), prevBytes, 0o644)
	os.WriteFile(path, good[:10], 0o644)
	if err := c.Save(path, map[string]Value{"iteration": 3.0}); err != nil {
		t.Fatal(err)
	}
	p, err := c.loadOne(PrevPath(path))
	if err != nil || p.(map[string]Value)["iteration"] != 1.0 {
		t.Errorf("prev after saving over a corrupt file: %v %v", p, err)
	}
}

// TestCrashMidWrite leaves a temp file as a crash between write and rename
// would, and checks that Load ignores it and the next Save cleans it up.
func TestCrashMidWrite(t *testing.T) {
	c := NewCodec()
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.json")
	if err := c.Save(path, map[string]Value{"iteration": 1.0}); err != nil {
		t.Fatal(err)
	}
	full, _ := c.Envelope(map[string]Value{"iteration": 2.0})
	tmp := filepath.Join(dir, "checkpoint.json.tmp-12345")
	os.WriteFile(tmp, full[:len(full)/2], 0o644)
	ld, err := c.Latest(dir)
	if err != nil || ld.Warning != nil || ld.Payload.(map[string]Value)["iteration"] != 1.0 {
		t.Fatalf("with leftover temp: %+v %v", ld, err)
	}
	// Crash between rotating to .prev and renaming the new file: only prev exists.
	os.Rename(path, PrevPath(path))
	ld, err = c.Latest(dir)
	if err != nil || ld.Warning == nil || ld.Warning.Reason != "missing" {
		t.Fatalf("only prev: %+v %v", ld, err)
	}
	if err := c.Save(path, map[string]Value{"iteration": 3.0}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover temp not removed: %v", err)
	}
}

func TestDecoderError(t *testing.T) {
	c := newCodec(t)
	_, err := c.Unmarshal([]byte(`{"__type":"test.rng","hi":"zz","lo":"1"}`))
	if !errs.Is(err, errs.IO) || !strings.Contains(err.Error(), "test.rng") {
		t.Errorf("got %v", err)
	}
	for _, bad := range []string{`{"__type":"f64","bits":"12"}`, `{"__type":"pairs","pairs":[[1]]}`, `{"__type":7}`, `[1,`, `1 2`} {
		if _, err := c.Unmarshal([]byte(bad)); !errs.Is(err, errs.IO) {
			t.Errorf("Unmarshal(%s): got %v, want io error", bad, err)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	c := NewCodec()
	src := rand.New(rand.NewPCG(3, 4))
	obs := make([]Value, 1000)
	for i := range obs {
		x := make([]float64, 10)
		for j := range x {
			x[j] = src.Float64()
		}
		obs[i] = map[string]Value{"x": x, "y": src.NormFloat64(), "env": "P1020171"}
	}
	state := map[string]Value{"observations": obs}
	path := filepath.Join(b.TempDir(), "checkpoint.json")
	b.ResetTimer()
	for range b.N {
		if err := c.Save(path, state); err != nil {
			b.Fatal(err)
		}
	}
}
