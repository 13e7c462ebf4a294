package kvtest

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/wasmcluster/wasmcluster/kv"
)

func testIncr(t *testing.T, s *suite) {
	st := s.store()
	for _, step := range []struct {
		delta, want int64
	}{{1, 1}, {41, 42}, {-50, -8}, {0, -8}} {
		n, err := st.Incr(ctx(t), s.key("n"), step.delta, 0)
		must(t, err)
		if n != step.want {
			t.Fatalf("Incr(%d) = %d, want %d", step.delta, n, step.want)
		}
	}
	if v, _ := getString(t, st, s.key("n")); v != "-8" {
		t.Fatalf("stored counter = %q, want decimal -8", v)
	}
	_, err := st.Set(ctx(t), s.key("set"), []byte("100"), 0)
	must(t, err)
	if n, err := st.Incr(ctx(t), s.key("set"), 1, 0); err != nil || n != 101 {
		t.Fatalf("Incr of a Set \"100\" = %d, %v", n, err)
	}
	for _, bad := range []string{"abc", "", " 1", "1.5", "+1", "0x10", "99999999999999999999"} {
		_, err := st.Set(ctx(t), s.key("bad"), []byte(bad), 0)
		must(t, err)
		_, err = st.Incr(ctx(t), s.key("bad"), 1, 0)
		wantErr(t, fmt.Sprintf("Incr of %q", bad), err, kv.ErrNotNumber)
		if v, _ := getString(t, st, s.key("bad")); v != bad {
			t.Fatalf("a refused Incr changed %q to %q", bad, v)
		}
	}
	_, err = st.Set(ctx(t), s.key("max"), []byte(strconv.FormatInt(math.MaxInt64, 10)), 0)
	must(t, err)
	_, err = st.Incr(ctx(t), s.key("max"), 1, 0)
	wantErr(t, "Incr past MaxInt64", err, kv.ErrNotNumber)
}

// testIncrConcurrent increments one key from 16 goroutines on two clients:
// the total is exact and every call got a distinct result, so no increment
// was lost or applied twice.
func testIncrConcurrent(t *testing.T, s *suite) {
	const goroutines, each = 16, 200
	stores := []kv.Store{s.store(), s.store()}
	results := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			st := stores[g%len(stores)]
			for range each {
				n, err := st.Incr(ctx(t), s.key("hot"), 1, 0)
				if err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				results[g] = append(results[g], n)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := make(map[int64]bool, goroutines*each)
	for g, rs := range results {
		for i, n := range rs {
			if seen[n] || n < 1 || n > goroutines*each || (i > 0 && n <= rs[i-1]) {
				t.Fatalf("goroutine %d got %d (duplicate, out of range or not increasing)", g, n)
			}
			seen[n] = true
		}
	}
	if v, _ := getString(t, stores[1], s.key("hot")); v != strconv.Itoa(goroutines*each) {
		t.Fatalf("counter = %s, want %d", v, goroutines*each)
	}
}
