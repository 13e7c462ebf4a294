package natskv

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/wasmcluster/wasmcluster/kv"
)

// chunk is how many key bytes one subject token holds.
//
// A NATS key is limited to [-/_=.a-zA-Z0-9] and '.' separates the tokens
// that subject filters match whole. A key is encoded as lowercase hex (which
// keeps byte order and maps a byte prefix to a string prefix), cut into
// tokens of chunk bytes: "sess:1234" is "73657373.3a313233.34". A listing
// by prefix filters on the prefix's whole tokens at the server and on the
// remaining bytes here. 256 bytes make 64 tokens of 8 characters.
const chunk = 4

func encodeKey(key []byte) string {
	var b strings.Builder
	b.Grow(len(key)*2 + len(key)/chunk)
	for i := 0; i < len(key); i += chunk {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(hex.EncodeToString(key[i:min(i+chunk, len(key))]))
	}
	return b.String()
}

func decodeKey(s string) ([]byte, bool) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, ".", ""))
	return b, err == nil
}

// prefixFilters are the subject filters (below the bucket's prefix) that
// hold every key starting with prefix: its whole tokens exactly or followed
// by more tokens, or every key when the prefix fills no whole token.
func prefixFilters(prefix []byte) []string {
	whole := len(prefix) / chunk * chunk
	if whole == 0 {
		return []string{">"}
	}
	base := encodeKey(prefix[:whole])
	return []string{base, base + ".>"}
}

// Keys lists the keys under prefix, sorted, after `after`, at most limit.
// The server sends the latest message of each matching subject (headers
// only, delete and expiry markers left out); a key whose TTL has passed may
// still be listed until the server removes it (within a second or so). On
// a replicated bucket the consumer may sit on a follower, so a listing can
// trail the latest writes by the replication lag.
func (s *Store) Keys(ctx context.Context, prefix, after []byte, limit int) ([][]byte, bool, error) {
	limit, err := kv.CheckList(prefix, after, limit)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	b, err := s.bound(ctx)
	if err != nil {
		return nil, false, err
	}
	lister, err := b.ListKeysFiltered(ctx, prefixFilters(prefix)...)
	if err != nil {
		return nil, false, s.mapErr("keys", err)
	}
	var keys [][]byte
	for name := range lister.Keys() {
		k, ok := decodeKey(name)
		if ok && bytes.HasPrefix(k, prefix) && (after == nil || bytes.Compare(k, after) > 0) {
			keys = append(keys, k)
		}
	}
	if err := ctx.Err(); err != nil { // the lister stops early without an error of its own
		return nil, false, kv.Unavailable("nats: keys", err)
	}
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	if len(keys) > limit {
		return keys[:limit], true, nil
	}
	return keys, false, nil
}
