package abi

import (
	"strings"
	"testing"
)

func TestStatusEOFLen(t *testing.T) {
	tests := []struct {
		s    Status
		eof  bool
		n    uint32
		want StatusEOFLen
	}{
		{StatusOK, false, 0, 0},
		{StatusOK, false, 5, 5},
		{StatusOK, true, 5, 1<<31 | 5},
		{StatusOK, true, 0, 1 << 31},
		{StatusTooLarge, false, 0, 3 << 32},
		{StatusTimeout, true, 1<<31 - 1, 8<<32 | 1<<31 | (1<<31 - 1)},
	}
	for _, tt := range tests {
		got := NewStatusEOFLen(tt.s, tt.eof, tt.n)
		if got != tt.want {
			t.Errorf("NewStatusEOFLen(%v, %v, %d) = %#x, want %#x", tt.s, tt.eof, tt.n, uint64(got), uint64(tt.want))
		}
		if got.Status() != tt.s || got.EOF() != tt.eof || got.Len() != tt.n {
			t.Errorf("%#x unpacks to (%v, %v, %d)", uint64(got), got.Status(), got.EOF(), got.Len())
		}
	}
}

// A length with bit 31 set cannot be represented: it never leaks into eof.
func TestStatusEOFLenDropsHighLengthBit(t *testing.T) {
	v := NewStatusEOFLen(StatusOK, false, 1<<31|7)
	if v.EOF() || v.Len() != 7 {
		t.Errorf("got eof=%v len=%d, want false 7", v.EOF(), v.Len())
	}
}

func FuzzStatusEOFLen(f *testing.F) {
	f.Add(uint32(0), false, uint32(0))
	f.Add(uint32(10), true, uint32(1<<31-1))
	f.Fuzz(func(t *testing.T, s uint32, eof bool, n uint32) {
		n &^= 1 << 31
		v := NewStatusEOFLen(Status(s), eof, n)
		if v.Status() != Status(s) || v.EOF() != eof || v.Len() != n {
			t.Fatalf("(%d, %v, %d) round-trips to (%d, %v, %d)", s, eof, n, v.Status(), v.EOF(), v.Len())
		}
		if got := StatusEOFLen(uint64(v)); got != v {
			t.Fatal("not stable")
		}
	})
}

func TestOutboundFuncNamesHavePrefix(t *testing.T) {
	for _, n := range []string{FuncOutboundOpen, FuncOutboundAddHeader, FuncOutboundWriteBody, FuncOutboundSend,
		FuncOutboundGetHeaderNames, FuncOutboundGetHeaderValues, FuncOutboundReadBody, FuncOutboundClose} {
		if !strings.HasPrefix(n, OutboundPrefix) || n == OutboundPrefix {
			t.Errorf("%q does not start with %q", n, OutboundPrefix)
		}
	}
}
