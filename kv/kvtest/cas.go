package kvtest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/wasmcluster/wasmcluster/kv"
)

func testCompareAndSwap(t *testing.T, s *suite) {
	st := s.store()
	k := s.key("k")
	r1, err := st.CompareAndSwap(ctx(t), k, []byte("a"), 0, 0)
	must(t, err)
	_, err = st.CompareAndSwap(ctx(t), k, []byte("b"), 0, 0)
	wantErr(t, "CAS rev 0 on an existing key", err, kv.ErrConflict)
	r2, err := st.CompareAndSwap(ctx(t), k, []byte("b"), r1, 0)
	must(t, err)
	if r2 == r1 {
		t.Fatalf("CAS kept revision %d", r1)
	}
	_, err = st.CompareAndSwap(ctx(t), k, []byte("c"), r1, 0)
	wantErr(t, "CAS with a stale revision", err, kv.ErrConflict)
	if v, rev := getString(t, st, k); v != "b" || rev != r2 {
		t.Fatalf("Get = %q rev %d, want b rev %d", v, rev, r2)
	}
	r3, err := st.Set(ctx(t), k, []byte("d"), 0)
	must(t, err)
	_, err = st.CompareAndSwap(ctx(t), k, []byte("e"), r2, 0)
	wantErr(t, "CAS with the revision before a Set", err, kv.ErrConflict)
	// A revision read before a delete is stale for the re-created key.
	must(t, st.Delete(ctx(t), k))
	_, err = st.CompareAndSwap(ctx(t), k, []byte("f"), r3, 0)
	wantErr(t, "CAS with a revision from before a Delete", err, kv.ErrConflict)
	r4, err := st.CompareAndSwap(ctx(t), k, []byte("g"), 0, 0)
	must(t, err)
	_, err = st.CompareAndSwap(ctx(t), k, []byte("h"), r3, 0)
	wantErr(t, "CAS with a revision from before a Delete and re-create", err, kv.ErrConflict)
	_, err = st.CompareAndSwap(ctx(t), s.key("absent"), []byte("x"), r4, 0)
	wantErr(t, "CAS with a revision on an absent key", err, kv.ErrConflict)
	_, err = st.CompareAndSwap(ctx(t), s.key("big"), make([]byte, st.MaxValue()+1), 0, 0)
	wantErr(t, "CAS of a value over MaxValue", err, kv.ErrTooLarge)
}

// testCASContention has 8 goroutines on two clients each apply 25
// read-modify-CAS updates to one counter, retrying on conflict: the final
// value equals the number of successful swaps.
func testCASContention(t *testing.T, s *suite) {
	const goroutines, each = 8, 25
	stores := []kv.Store{s.store(), s.store()}
	k := s.key("c")
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			st := stores[g%len(stores)]
			for range each {
				if err := casIncrement(t, st, k); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _ := getString(t, stores[0], k); !t.Failed() && v != strconv.Itoa(goroutines*each) {
		t.Fatalf("counter = %s after %d successful swaps: an update was lost", v, goroutines*each)
	}
}

func casIncrement(t *testing.T, st kv.Store, k []byte) error {
	for try := 0; try < 10000; try++ {
		v, rev, err := st.Get(ctx(t), k)
		if errors.Is(err, kv.ErrNotFound) {
			v, rev, err = []byte("0"), 0, nil
		}
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return err
		}
		_, err = st.CompareAndSwap(ctx(t), k, []byte(strconv.Itoa(n+1)), rev, 0)
		if !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return errors.New("no swap in 10000 tries")
}

func testReadYourWrites(t *testing.T, s *suite) {
	a, b := s.store(), s.store()
	k := s.key("k")
	for i := range 50 {
		w := a
		if i%2 == 1 {
			w = b
		}
		want := strconv.Itoa(i)
		rev, err := w.Set(ctx(t), k, []byte(want), 0)
		must(t, err)
		for _, r := range []kv.Store{w, a, b} {
			if v, got := getString(t, r, k); v != want || got != rev {
				t.Fatalf("write %d: read %q rev %d, want %q rev %d", i, v, got, want, rev)
			}
		}
	}
}
