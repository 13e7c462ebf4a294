package abi

import (
	"bytes"
	"slices"
	"testing"
)

func TestCtxNext(t *testing.T) {
	tests := []struct {
		ctx  uint32
		next bool
		want CtxNext
	}{
		{0, false, 0},
		{0, true, 1},
		{16, true, 16<<32 | 1},
		{16, false, 16 << 32},
		{0xffffffff, true, 0xffffffff<<32 | 1},
	}
	for _, tt := range tests {
		got := NewCtxNext(tt.ctx, tt.next)
		if got != tt.want {
			t.Errorf("NewCtxNext(%d, %v) = %#x, want %#x", tt.ctx, tt.next, got, tt.want)
		}
		if got.Ctx() != tt.ctx || got.Next() != tt.next {
			t.Errorf("%#x unpacks to (%d, %v), want (%d, %v)", got, got.Ctx(), got.Next(), tt.ctx, tt.next)
		}
	}
}

// Only the low 32 bits decide next; any other low value is "do not proceed".
func TestCtxNextOnlyLowBitsDecide(t *testing.T) {
	for _, v := range []CtxNext{16<<32 | 16, 1 << 32, 2, 0xffffffff, 1<<33 | 3} {
		if v.Next() {
			t.Errorf("%#x.Next() = true, want false", uint64(v))
		}
	}
	if !CtxNext(7<<32 | 1).Next() {
		t.Error("7<<32|1 must proceed")
	}
}

func TestCountLen(t *testing.T) {
	tests := []struct {
		values []string
		want   CountLen
	}{
		{nil, 0},
		{[]string{"accept"}, 1<<32 | 7},
		{[]string{"content-type", "host"}, 2<<32 | 18},
		{[]string{""}, 1<<32 | 1},
	}
	for _, tt := range tests {
		buf := AppendNULTerminated(nil, tt.values...)
		got := NewCountLen(uint32(len(tt.values)), uint32(len(buf)))
		if got != tt.want {
			t.Errorf("%q: CountLen = %#x, want %#x", tt.values, got, tt.want)
		}
		if got.Count() != uint32(len(tt.values)) || got.Len() != uint32(len(buf)) {
			t.Errorf("%q: unpack = (%d, %d)", tt.values, got.Count(), got.Len())
		}
		if split := SplitNULTerminated(buf); !slices.Equal(split, tt.values) && len(tt.values) > 0 {
			t.Errorf("split(%q) = %q, want %q", buf, split, tt.values)
		}
	}
}

func TestEOFLen(t *testing.T) {
	tests := []struct {
		eof  bool
		n    uint32
		want EOFLen
	}{
		{false, 0, 0},
		{true, 0, 1 << 32},
		{true, 5, 1<<32 | 5},
		{false, 4096, 4096},
		{false, 0xffffffff, 0xffffffff},
	}
	for _, tt := range tests {
		got := NewEOFLen(tt.eof, tt.n)
		if got != tt.want {
			t.Errorf("NewEOFLen(%v, %d) = %#x, want %#x", tt.eof, tt.n, got, tt.want)
		}
		if got.EOF() != tt.eof || got.Len() != tt.n {
			t.Errorf("%#x unpacks to (%v, %d)", got, got.EOF(), got.Len())
		}
	}
}

func TestSplitNULTerminatedUnterminatedTail(t *testing.T) {
	got := SplitNULTerminated([]byte("a\x00bc"))
	if want := []string{"a", "bc"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzCtxNext(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(1))
	f.Add(uint64(16<<32 | 16))
	f.Add(uint64(0xffffffff_00000001))
	f.Fuzz(func(t *testing.T, v uint64) {
		c := CtxNext(v)
		if c.Next() != (uint32(v) == 1) {
			t.Fatalf("%#x.Next() = %v", v, c.Next())
		}
		// Round trip holds for every value the packer can produce.
		back := NewCtxNext(c.Ctx(), c.Next())
		if back.Ctx() != c.Ctx() || back.Next() != c.Next() {
			t.Fatalf("round trip %#x -> %#x", v, uint64(back))
		}
		if uint32(v) <= 1 && back != c {
			t.Fatalf("canonical %#x repacked as %#x", v, uint64(back))
		}
	})
}

func FuzzCountLen(f *testing.F) {
	f.Add(uint32(0), uint32(0))
	f.Add(uint32(2), uint32(18))
	f.Add(uint32(0xffffffff), uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, count, length uint32) {
		c := NewCountLen(count, length)
		if c.Count() != count || c.Len() != length {
			t.Fatalf("NewCountLen(%d, %d) unpacks to (%d, %d)", count, length, c.Count(), c.Len())
		}
	})
}

func FuzzEOFLen(f *testing.F) {
	f.Add(false, uint32(0))
	f.Add(true, uint32(5))
	f.Add(true, uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, eof bool, n uint32) {
		e := NewEOFLen(eof, n)
		if e.EOF() != eof || e.Len() != n {
			t.Fatalf("NewEOFLen(%v, %d) unpacks to (%v, %d)", eof, n, e.EOF(), e.Len())
		}
	})
}

// FuzzNULTerminated checks that splitting what was joined gives the values
// back, for values without NUL bytes (which the encoding cannot carry).
func FuzzNULTerminated(f *testing.F) {
	f.Add("accept", "content-type", "")
	f.Add("", "", "x")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		vals := []string{a, b, c}
		for _, v := range vals {
			if bytes.IndexByte([]byte(v), 0) >= 0 {
				t.Skip("NUL inside a value")
			}
		}
		buf := AppendNULTerminated(nil, vals...)
		if len(buf) != len(a)+len(b)+len(c)+3 {
			t.Fatalf("len %d", len(buf))
		}
		if got := SplitNULTerminated(buf); !slices.Equal(got, vals) {
			t.Fatalf("split(join(%q)) = %q", vals, got)
		}
		// Arbitrary bytes never panic and yield at most count+1 strings.
		raw := []byte(a + "\x00" + b)
		if got := SplitNULTerminated(raw); len(got) > bytes.Count(raw, []byte{0})+1 {
			t.Fatalf("split(%q) = %d strings", raw, len(got))
		}
	})
}

func TestStatusLenRoundTrip(t *testing.T) {
	for _, s := range []Status{StatusOK, StatusNotFound, StatusFailed, Status(1<<32 - 1)} {
		for _, n := range []uint32{0, 1, 1 << 20, 1<<32 - 1} {
			v := NewStatusLen(s, n)
			if v.Status() != s || v.Len() != n {
				t.Fatalf("NewStatusLen(%d, %d) = %#x: status %d len %d", s, n, uint64(v), v.Status(), v.Len())
			}
		}
	}
	if NewStatusLen(StatusNotFound, 0) != 1<<32 || NewStatusLen(StatusOK, 5) != 5 {
		t.Fatal("StatusLen layout differs from its documentation")
	}
	if StatusConflict.String() != "conflict" || Status(99).String() != "status(99)" {
		t.Fatalf("names: %s %s", StatusConflict, Status(99))
	}
}
