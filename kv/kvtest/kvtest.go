package kvtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
	"github.com/wasmcluster/wasmcluster/kv"
)

// Open returns a new client of the store under test; the suite closes it.
type Open func(t *testing.T) kv.Store

// callTimeout bounds each call of the suite: generous, since a bound on a
// hung test is not an assertion about speed.
const callTimeout = 20 * time.Second

// Run runs the conformance suite against the store open connects to.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"Basics", testBasics},
		{"ArbitraryKeys", testArbitraryKeys},
		{"KeyLimits", testKeyLimits},
		{"ValueLimits", testValueLimits},
		{"TTL", testTTL},
		{"IncrTTL", testIncrTTL},
		{"Delete", testDelete},
		{"Incr", testIncr},
		{"IncrConcurrent", testIncrConcurrent},
		{"CompareAndSwap", testCompareAndSwap},
		{"CompareAndSwapContention", testCASContention},
		{"ReadYourWrites", testReadYourWrites},
		{"KeysPaging", testKeysPaging},
		{"KeysPrefixes", testKeysPrefixes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newSuite(t, open))
		})
	}
}

// suite is one subtest's view: its key prefix and a way to open clients.
type suite struct {
	t    *testing.T
	open Open
	ns   string // the subtest's key prefix
}

func newSuite(t *testing.T, open Open) *suite {
	b := make([]byte, 6)
	rand.Read(b)
	return &suite{t: t, open: open, ns: "kvtest/" + t.Name() + "/" + hex.EncodeToString(b) + "/"}
}

// store opens a client that is closed when the test ends.
func (s *suite) store() kv.Store {
	s.t.Helper()
	st := s.open(s.t)
	s.t.Cleanup(func() { st.Close() })
	return st
}

// key is the subtest's key for name.
func (s *suite) key(name string) []byte { return []byte(s.ns + name) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err wraps want and carries want's status.
func wantErr(t *testing.T, what string, err error, want *kv.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
	var se interface{ Status() abi.Status }
	if !errors.As(err, &se) || se.Status() != want.Status() {
		t.Fatalf("%s: err %v does not carry status %v", what, err, want.Status())
	}
}

func getString(t *testing.T, st kv.Store, key []byte) (string, uint64) {
	t.Helper()
	v, rev, err := st.Get(ctx(t), key)
	must(t, err)
	return string(v), rev
}

// eventually polls cond every 50 ms until it holds or bound passes.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", bound, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testBasics(t *testing.T, s *suite) {
	st := s.store()
	if st.Backend() == "" || st.MaxValue() <= 0 {
		t.Fatalf("Backend() = %q, MaxValue() = %d", st.Backend(), st.MaxValue())
	}
	must(t, st.Health(ctx(t)))
	_, _, err := st.Get(ctx(t), s.key("absent"))
	wantErr(t, "Get of an absent key", err, kv.ErrNotFound)
	rev, err := st.Set(ctx(t), s.key("a"), []byte("1"), 0)
	must(t, err)
	if rev == 0 {
		t.Fatal("Set returned revision 0")
	}
	v, got := getString(t, st, s.key("a"))
	if v != "1" || got != rev {
		t.Fatalf("Get = %q rev %d, want \"1\" rev %d", v, got, rev)
	}
	rev2, err := st.Set(ctx(t), s.key("a"), []byte{}, 0)
	must(t, err)
	if rev2 == rev {
		t.Fatalf("a second Set kept revision %d", rev)
	}
	if v, _ := getString(t, st, s.key("a")); v != "" {
		t.Fatalf("Get after setting an empty value = %q", v)
	}
}
