package guest

import (
	"slices"
	"testing"

	"github.com/wasmcluster/wasmcluster/abi"
)

// The guest's two NUL splitters agree with the abi package's reference.
func FuzzSplitNUL(f *testing.F) {
	f.Add([]byte("accept\x00content-type\x00"))
	f.Add([]byte("a\x00\x00b"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := abi.SplitNULTerminated(b)
		if got := splitNUL(nil, b); !slices.Equal(got, want) {
			t.Fatalf("splitNUL(%q) = %q, want %q", b, got, want)
		}
		if got := splitNULShared([]string{"keep"}, b); !slices.Equal(got, append([]string{"keep"}, want...)) {
			t.Fatalf("splitNULShared(%q) = %q, want %q", b, got, want)
		}
	})
}

func TestInternKeepsValue(t *testing.T) {
	for _, s := range []string{"GET", "POST", "HTTP/1.1", "HTTP/2.0", "/", "/x", "get", "", "PROPFIND"} {
		if got := intern([]byte(s)); got != s {
			t.Errorf("intern(%q) = %q", s, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = intern([]byte{'G', 'E', 'T'}) }); n != 0 {
		t.Errorf("intern(GET) allocates %v times", n)
	}
}
