package kvtest

import (
	"errors"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
)

// expiryBound bounds the wait for a key to expire: far above any ttl used
// here, so it only catches a key that never expires.
const expiryBound = 20 * time.Second

// gone reports whether key is absent, failing on any other error.
func gone(t *testing.T, st kv.Store, key []byte) bool {
	t.Helper()
	_, _, err := st.Get(ctx(t), key)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		t.Fatal(err)
	}
	return err != nil
}

func testTTL(t *testing.T, s *suite) {
	st := s.store()
	// "replaced" is set with a ttl first, then again without one; "short"
	// gets its ttl after, so once it is gone the first ttl has passed too.
	_, err := st.Set(ctx(t), s.key("replaced"), []byte("v1"), time.Second)
	must(t, err)
	_, err = st.Set(ctx(t), s.key("short"), []byte("v"), time.Second)
	must(t, err)
	_, err = st.Set(ctx(t), s.key("replaced"), []byte("v2"), 0)
	must(t, err)
	_, err = st.Set(ctx(t), s.key("cas"), []byte("v"), 0)
	must(t, err)
	_, rev := getString(t, st, s.key("cas"))
	_, err = st.CompareAndSwap(ctx(t), s.key("cas"), []byte("v"), rev, time.Second)
	must(t, err)
	if gone(t, st, s.key("short")) {
		t.Log("short expired before it was read back (a slow machine); checking the rest")
	}
	eventually(t, expiryBound, "a key with a 1s ttl to expire", func() bool { return gone(t, st, s.key("short")) })
	eventually(t, expiryBound, "a key CAS'd with a 1s ttl to expire", func() bool { return gone(t, st, s.key("cas")) })
	if v, _ := getString(t, st, s.key("replaced")); v != "v2" {
		t.Fatalf("a key set again without ttl = %q, want v2 (it must not expire)", v)
	}
	// Listing may trail Get by the server's own expiry pass.
	eventually(t, expiryBound, "an expired key to leave Keys", func() bool {
		return len(listAll(t, st, s.key("short"), 10)) == 0
	})
	n, err := st.Incr(ctx(t), s.key("short"), 1, 0)
	must(t, err)
	if n != 1 {
		t.Fatalf("Incr of an expired key = %d, want 1", n)
	}
}

func testIncrTTL(t *testing.T, s *suite) {
	st := s.store()
	n, err := st.Incr(ctx(t), s.key("window"), 1, time.Second)
	must(t, err)
	if n != 1 {
		t.Fatalf("first Incr = %d", n)
	}
	// Later increments keep the first call's expiry: a long ttl here must
	// not extend it, no ttl must not remove it.
	if _, err = st.Incr(ctx(t), s.key("window"), 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err = st.Incr(ctx(t), s.key("window"), 1, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, expiryBound, "a counter created with a 1s ttl to expire", func() bool { return gone(t, st, s.key("window")) })
	n, err = st.Incr(ctx(t), s.key("window"), 5, 0)
	must(t, err)
	if n != 5 {
		t.Fatalf("Incr after expiry = %d, want 5", n)
	}
}
