package digest_test

import (
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/digest"
)

func TestShort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"0123456789ab", "0123456789ab"},
		{"0123456789abc", "0123456789ab"},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "e3b0c44298fc"},
	} {
		if got := digest.Short(tc.in); got != tc.want {
			t.Errorf("Short(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShortOrDash(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "-"},
		{"v1", "v1"},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "e3b0c44298fc"},
	} {
		if got := digest.ShortOrDash(tc.in); got != tc.want {
			t.Errorf("ShortOrDash(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
