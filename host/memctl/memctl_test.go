package memctl

import (
	"math"
	"testing"

	"bohost/host/errs"
)

func TestParseSize(t *testing.T) {
	phys, err := PhysicalBytes()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		want int64
	}{
		{"1024", 1024}, {"6GiB", 6 << 30}, {"512MB", 512e6}, {"1.5g", 1.5e9}, {" 2 kib ", 2048},
		{"50%", int64(float64(phys) * 0.5)},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in, "limit")
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "abc", "6 parsecs", "-1GB", "0%", "150%", "x%"} {
		if _, err := ParseSize(bad, "limit"); !errs.Is(err, errs.BadArg) {
			t.Errorf("ParseSize(%q) err = %v, want bad_arg", bad, err)
		}
	}
}

func TestReadAndLimit(t *testing.T) {
	s := Read()
	if s.HeapBytes == 0 || s.RSSBytes == 0 || s.PeakRSSBytes < s.RSSBytes {
		t.Fatalf("implausible stats %+v", s)
	}
	old := SetLimit(1 << 40)
	defer SetLimit(old)
	if got := Read().LimitBytes; got != 1<<40 {
		t.Fatalf("limit = %d", got)
	}
	SetLimit(0)
	if got := Read().LimitBytes; got != math.MaxInt64 {
		t.Fatalf("limit after removal = %d", got)
	}
	if FormatBytes(1536) != "1.50 KiB" || FormatBytes(3<<30) != "3.00 GiB" {
		t.Fatal(FormatBytes(1536), FormatBytes(3<<30))
	}
}
