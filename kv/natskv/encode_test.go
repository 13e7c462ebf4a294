package natskv

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var natsKey = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)

// FuzzEncodeKey: every key encodes to a valid NATS key that decodes back,
// the encoding keeps byte order, and a byte prefix's filters match the
// encoding of every key that has it.
func FuzzEncodeKey(f *testing.F) {
	for _, s := range []string{"a", "abcd", "abcde", "\x00", "\xff\xff\xff\xff\xff", "a.b*>"} {
		f.Add([]byte(s), []byte(s[:len(s)/2]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) == 0 || len(b) == 0 || len(a) > 256 || len(b) > 256 {
			return
		}
		ea, eb := encodeKey(a), encodeKey(b)
		if !natsKey.MatchString(ea) || strings.HasPrefix(ea, ".") || strings.HasSuffix(ea, ".") || strings.Contains(ea, "..") {
			t.Fatalf("encodeKey(%q) = %q: not a valid NATS key", a, ea)
		}
		if d, ok := decodeKey(ea); !ok || !bytes.Equal(d, a) {
			t.Fatalf("decodeKey(encodeKey(%q)) = %q", a, d)
		}
		if c := bytes.Compare(a, b); c != strings.Compare(ea, eb) {
			t.Fatalf("order of %q, %q is %d; of %q, %q is not", a, b, c, ea, eb)
		}
		if bytes.HasPrefix(a, b) && !matchesAny(prefixFilters(b), ea) {
			t.Fatalf("filters %q of prefix %q miss %q (%q)", prefixFilters(b), b, a, ea)
		}
	})
}

// matchesAny is NATS subject matching of one filter with '>' last.
func matchesAny(filters []string, subj string) bool {
	for _, f := range filters {
		if f == ">" || f == subj || (strings.HasSuffix(f, ".>") && strings.HasPrefix(subj, strings.TrimSuffix(f, ">"))) {
			return true
		}
	}
	return false
}
