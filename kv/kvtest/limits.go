package kvtest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wasmcluster/wasmcluster/kv"
)

// oddKeys are keys a restricted key alphabet (NATS's) cannot hold as is.
func (s *suite) oddKeys() [][]byte {
	long := append(s.key(""), bytes.Repeat([]byte{0xff}, kv.MaxKey-len(s.key("")))...)
	return [][]byte{
		s.key("\x00"), s.key("nul\x00in.middle"), s.key("\xff\xfe"), s.key("."), s.key(".."),
		s.key("a.b"), s.key("*"), s.key(">"), s.key("a b\tc\n"), s.key("$KV"), s.key("ü/é=_-"),
		s.key("%2F"), s.key("[]?\\^"), long,
	}
}

func testArbitraryKeys(t *testing.T, s *suite) {
	st := s.store()
	keys := s.oddKeys()
	if len(keys[len(keys)-1]) != kv.MaxKey {
		t.Fatalf("long key is %d bytes", len(keys[len(keys)-1]))
	}
	for i, k := range keys {
		if _, err := st.Set(ctx(t), k, []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		if v, _ := getString(t, st, k); v != fmt.Sprint(i) {
			t.Fatalf("Get(%q) = %q, want %d", k, v, i)
		}
	}
	waitKeys(t, st, s.key(""), 5, sorted(keys))
	for _, k := range keys {
		must(t, st.Delete(ctx(t), k))
	}
	waitKeys(t, st, s.key(""), 5, nil)
}

func testKeyLimits(t *testing.T, s *suite) {
	st := s.store()
	long := append(s.key(""), bytes.Repeat([]byte("k"), kv.MaxKey+1-len(s.key("")))...)
	_, _, err := st.Get(ctx(t), long)
	wantErr(t, "Get of a 257-byte key", err, kv.ErrTooLarge)
	_, err = st.Set(ctx(t), long, []byte("v"), 0)
	wantErr(t, "Set of a 257-byte key", err, kv.ErrTooLarge)
	wantErr(t, "Delete of a 257-byte key", st.Delete(ctx(t), long), kv.ErrTooLarge)
	_, err = st.Incr(ctx(t), long, 1, 0)
	wantErr(t, "Incr of a 257-byte key", err, kv.ErrTooLarge)
	_, err = st.CompareAndSwap(ctx(t), long, []byte("v"), 0, 0)
	wantErr(t, "CompareAndSwap of a 257-byte key", err, kv.ErrTooLarge)
	_, _, err = st.Keys(ctx(t), long, nil, 10)
	wantErr(t, "Keys with a 257-byte prefix", err, kv.ErrTooLarge)

	_, err = st.Set(ctx(t), nil, []byte("v"), 0)
	wantErr(t, "Set of an empty key", err, kv.ErrInvalid)
	_, err = st.Set(ctx(t), s.key("neg"), []byte("v"), -1)
	wantErr(t, "Set with a negative ttl", err, kv.ErrInvalid)
	_, _, err = st.Keys(ctx(t), s.key(""), nil, 0)
	wantErr(t, "Keys with limit 0", err, kv.ErrInvalid)
}

func testValueLimits(t *testing.T, s *suite) {
	st := s.store()
	max := st.MaxValue()
	full := bytes.Repeat([]byte{0xab}, max)
	_, err := st.Set(ctx(t), s.key("full"), full, 0)
	must(t, err)
	v, _, err := st.Get(ctx(t), s.key("full"))
	must(t, err)
	if !bytes.Equal(v, full) {
		t.Fatalf("Get of a %d-byte value returned %d bytes", max, len(v))
	}
	over := append(full, 0)
	_, err = st.Set(ctx(t), s.key("over"), over, 0)
	wantErr(t, "Set of a value over MaxValue", err, kv.ErrTooLarge)
	_, err = st.CompareAndSwap(ctx(t), s.key("over"), over, 0, 0)
	wantErr(t, "CompareAndSwap of a value over MaxValue", err, kv.ErrTooLarge)
	_, _, err = st.Get(ctx(t), s.key("over"))
	wantErr(t, "Get after a refused Set", err, kv.ErrNotFound)
}

func testDelete(t *testing.T, s *suite) {
	st := s.store()
	must(t, st.Delete(ctx(t), s.key("never-set")))
	_, err := st.Set(ctx(t), s.key("k"), []byte("v"), 0)
	must(t, err)
	must(t, st.Delete(ctx(t), s.key("k")))
	_, _, err = st.Get(ctx(t), s.key("k"))
	wantErr(t, "Get after Delete", err, kv.ErrNotFound)
	must(t, st.Delete(ctx(t), s.key("k")))
	n, err := st.Incr(ctx(t), s.key("k"), 3, 0)
	must(t, err)
	if n != 3 {
		t.Fatalf("Incr of a deleted key = %d, want 3", n)
	}
}
