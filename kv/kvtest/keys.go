package kvtest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
)

// listAll pages through Keys(prefix) limit keys at a time, checking each
// page's size and `more`.
func listAll(t *testing.T, st kv.Store, prefix []byte, limit int) [][]byte {
	t.Helper()
	var all [][]byte
	var after []byte
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("Keys never stopped returning more")
		}
		keys, more, err := st.Keys(ctx(t), prefix, after, limit)
		must(t, err)
		if len(keys) > limit || (more && len(keys) != limit) {
			t.Fatalf("Keys(limit %d) page %d: %d keys, more=%v", limit, page, len(keys), more)
		}
		all = append(all, keys...)
		if !more {
			return all
		}
		after = keys[len(keys)-1]
	}
}

// listBound bounds waitKeys: a replicated NATS bucket lists from one
// replica, which may trail the latest writes by the replication lag.
const listBound = 10 * time.Second

// waitKeys lists prefix (limit per page) until it is exactly want, failing
// with the last listing if it is not within listBound. The embedded store
// and Redis match at once.
func waitKeys(t *testing.T, st kv.Store, prefix []byte, limit int, want [][]byte) {
	t.Helper()
	deadline := time.Now().Add(listBound)
	for {
		got := listAll(t, st, prefix, limit)
		if equalKeys(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Keys(%q, limit %d) = %q\nwant %q", prefix, limit, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sorted(keys [][]byte) [][]byte {
	s := slices.Clone(keys)
	slices.SortFunc(s, bytes.Compare)
	return s
}

func equalKeys(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

func testKeysPaging(t *testing.T, s *suite) {
	st := s.store()
	var keys [][]byte
	for i := range 25 {
		k := s.key(fmt.Sprintf("p/%02d", 24-i))
		keys = append(keys, k)
		_, err := st.Set(ctx(t), k, []byte("v"), 0)
		must(t, err)
	}
	// Neighbours that share all but the last byte of the prefix.
	for _, k := range []string{"p", "o/1", "q/1", "p0"} {
		_, err := st.Set(ctx(t), s.key(k), []byte("v"), 0)
		must(t, err)
	}
	want := sorted(keys)
	waitKeys(t, st, s.key("p/"), 10, want)
	first, more, err := st.Keys(ctx(t), s.key("p/"), nil, 10)
	must(t, err)
	if !more || !equalKeys(first, want[:10]) {
		t.Fatalf("first page = %q more=%v, want %q more=true", first, more, want[:10])
	}
	last, more, err := st.Keys(ctx(t), s.key("p/"), want[19], 10)
	must(t, err)
	if more || !equalKeys(last, want[20:]) {
		t.Fatalf("last page = %q more=%v, want %q more=false", last, more, want[20:])
	}
	waitKeys(t, st, s.key("p/"), 25, want) // one exact page
	none, more, err := st.Keys(ctx(t), s.key("p/"), want[24], 10)
	must(t, err)
	if len(none) != 0 || more {
		t.Fatalf("page after the last key = %q more=%v", none, more)
	}
	big, more, err := st.Keys(ctx(t), s.key(""), nil, kv.MaxPage+1)
	must(t, err)
	if len(big) != 29 || more {
		t.Fatalf("Keys(limit MaxPage+1) = %d keys more=%v, want 29", len(big), more)
	}
}

// testKeysPrefixes lists with every prefix length of a set of keys that
// differ around each byte position, so a prefix ends inside and at every
// boundary of whatever encoding a backend uses, and compares with a plain
// byte-prefix filter.
func testKeysPrefixes(t *testing.T, s *suite) {
	st := s.store()
	var keys [][]byte
	for _, k := range []string{"a", "ab", "abc", "abcd", "abcde", "abcdefgh", "abcdefghi", "abcdefghij",
		"abd", "abcdx", "abce", "b", "abcdefgi", "abcd\x00", "abcd\xff", "abc\x00d"} {
		keys = append(keys, s.key(k))
		_, err := st.Set(ctx(t), s.key(k), []byte(k), 0)
		must(t, err)
	}
	longest := s.key("abcdefghij")
	for n := len(s.ns); n <= len(longest)+1; n++ {
		prefix := longest[:min(n, len(longest))]
		if n > len(longest) {
			prefix = append(slices.Clone(longest), 'z')
		}
		var want [][]byte
		for _, k := range keys {
			if bytes.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		want = sorted(want)
		waitKeys(t, st, prefix, 3, want)
	}
}
