package abi

import (
	"bytes"
	"errors"
	"testing"
)

func TestKeysResult(t *testing.T) {
	tests := []struct {
		s    Status
		more bool
		n    uint32
		want KeysResult
	}{
		{StatusOK, false, 0, 0},
		{StatusOK, false, 7, 7},
		{StatusOK, true, 7, 1<<63 | 7},
		{StatusUnavailable, false, 0, 4 << 32},
		{StatusFailed, true, 0xffffffff, 1<<63 | 10<<32 | 0xffffffff},
	}
	for _, tt := range tests {
		got := NewKeysResult(tt.s, tt.more, tt.n)
		if got != tt.want {
			t.Errorf("NewKeysResult(%v, %v, %d) = %#x, want %#x", tt.s, tt.more, tt.n, uint64(got), uint64(tt.want))
		}
		if got.Status() != tt.s || got.More() != tt.more || got.Len() != tt.n {
			t.Errorf("%#x unpacks to (%v, %v, %d)", uint64(got), got.Status(), got.More(), got.Len())
		}
	}
	// Without more, a KeysResult reads as a StatusLen.
	v := NewKeysResult(StatusNotFound, false, 3)
	if sl := StatusLen(v); sl.Status() != StatusNotFound || sl.Len() != 3 {
		t.Errorf("as StatusLen: (%v, %d)", sl.Status(), sl.Len())
	}
}

func TestKeyListExamples(t *testing.T) {
	tests := []struct {
		keys [][]byte
		want []byte
	}{
		{nil, nil},
		{[][]byte{[]byte("a")}, []byte{1, 0, 'a'}},
		{[][]byte{[]byte("a"), []byte("bc")}, []byte{1, 0, 'a', 2, 0, 'b', 'c'}},
		{[][]byte{[]byte("x\x00y")}, []byte{3, 0, 'x', 0, 'y'}},
		{[][]byte{{}}, []byte{0, 0}},
	}
	for _, tt := range tests {
		got := AppendKeyList(nil, tt.keys...)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("AppendKeyList(%q) = %v, want %v", tt.keys, got, tt.want)
		}
		if KeyListLen(tt.keys) != len(got) {
			t.Errorf("KeyListLen(%q) = %d, want %d", tt.keys, KeyListLen(tt.keys), len(got))
		}
	}
}

func TestSplitKeyListTruncated(t *testing.T) {
	for _, b := range [][]byte{{1}, {2, 0, 'a'}, {1, 0, 'a', 5}} {
		if _, err := SplitKeyList(b); !errors.Is(err, ErrBadKeyList) {
			t.Errorf("SplitKeyList(%v) err = %v, want ErrBadKeyList", b, err)
		}
	}
}

func TestInt64RoundTrip(t *testing.T) {
	var b [8]byte
	for _, v := range []int64{0, 1, -1, 1 << 62, -1 << 63, 64000} {
		PutInt64(b[:], v)
		if got := Int64(b[:]); got != v {
			t.Errorf("Int64(PutInt64(%d)) = %d", v, got)
		}
	}
	PutInt64(b[:], 258)
	if b != [8]byte{2, 1, 0, 0, 0, 0, 0, 0} {
		t.Errorf("PutInt64(258) = %v, want little-endian", b)
	}
}

func FuzzKeysResult(f *testing.F) {
	f.Add(uint32(0), false, uint32(0))
	f.Add(uint32(4), true, uint32(7))
	f.Add(uint32(0x7fffffff), true, uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, s uint32, more bool, n uint32) {
		s &= 0x7fffffff
		v := NewKeysResult(Status(s), more, n)
		if v.Status() != Status(s) || v.More() != more || v.Len() != n {
			t.Fatalf("(%d, %v, %d) -> %#x -> (%d, %v, %d)", s, more, n, uint64(v), v.Status(), v.More(), v.Len())
		}
	})
}

// FuzzKeyList: any list of keys round-trips; any buffer splits without
// panicking, and what splits cleanly re-encodes to the same bytes.
func FuzzKeyList(f *testing.F) {
	f.Add([]byte("a\x00bc"), []byte{1, 0, 'a'})
	f.Add([]byte{}, []byte{2, 0})
	f.Fuzz(func(t *testing.T, joined, raw []byte) {
		keys := bytes.Split(joined, []byte{0xff})
		enc := AppendKeyList(nil, keys...)
		if len(enc) != KeyListLen(keys) {
			t.Fatalf("len %d, KeyListLen %d", len(enc), KeyListLen(keys))
		}
		got, err := SplitKeyList(enc)
		if err != nil || len(got) != len(keys) {
			t.Fatalf("split(%v) = %q, %v; want %q", enc, got, err, keys)
		}
		for i := range keys {
			if !bytes.Equal(got[i], keys[i]) {
				t.Fatalf("key %d = %q, want %q", i, got[i], keys[i])
			}
		}
		if back, err := SplitKeyList(raw); err == nil {
			if re := AppendKeyList(nil, back...); !bytes.Equal(re, raw) {
				t.Fatalf("%v split and re-encoded to %v", raw, re)
			}
		}
	})
}
