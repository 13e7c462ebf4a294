package rediskv

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
)

// Get returns key's value and revision.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, uint64, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.dataKey(key), "v", "r").Result()
	if err != nil {
		return nil, 0, s.mapErr("get", err)
	}
	v, ok1 := vals[0].(string)
	r, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, 0, kv.ErrNotFound
	}
	rev, err := strconv.ParseUint(r, 10, 64)
	if err != nil {
		return nil, 0, s.mapErr("get", err)
	}
	return []byte(v), rev, nil
}

// Set stores value under key, expiring after ttl when ttl > 0.
func (s *Store) Set(ctx context.Context, key, value []byte, ttl time.Duration) (uint64, error) {
	return s.write(ctx, key, value, ttl, "")
}

// CompareAndSwap stores value only if key is still at rev (0: absent).
func (s *Store) CompareAndSwap(ctx context.Context, key, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	return s.write(ctx, key, value, ttl, strconv.FormatUint(rev, 10))
}

func (s *Store) write(ctx context.Context, key, value []byte, ttl time.Duration, want string) (uint64, error) {
	if err := kv.CheckKey(key); err != nil {
		return 0, err
	}
	if err := kv.CheckValue(value, s.cfg.MaxValue); err != nil {
		return 0, err
	}
	if err := kv.CheckTTL(ttl); err != nil {
		return 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	rev, err := setScript.Run(ctx, s.rdb, []string{s.dataKey(key), s.counter}, value, ttlMillis(ttl), want).Uint64()
	if err != nil {
		return 0, s.mapErr("set", err)
	}
	return rev, nil
}

// ttlMillis is ttl in whole milliseconds, rounded up so a short ttl does
// not become "none".
func ttlMillis(ttl time.Duration) string {
	if ttl <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10)
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key []byte) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	return s.mapErr("delete", s.rdb.Del(ctx, s.dataKey(key)).Err())
}

// Incr adds delta to key's counter in one script (HINCRBY).
func (s *Store) Incr(ctx context.Context, key []byte, delta int64, ttl time.Duration) (int64, error) {
	if err := kv.CheckKey(key); err != nil {
		return 0, err
	}
	if err := kv.CheckTTL(ttl); err != nil {
		return 0, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	n, err := incrScript.Run(ctx, s.rdb, []string{s.dataKey(key), s.counter}, delta, ttlMillis(ttl)).Int64()
	if err != nil {
		return 0, s.mapErr("incr", err)
	}
	return n, nil
}

// scanCount is SCAN's COUNT hint: keys examined per round trip.
const scanCount = 1000

// Keys scans the bucket's keys matching the prefix (glob characters
// escaped), then sorts and pages them here: SCAN has no order.
func (s *Store) Keys(ctx context.Context, prefix, after []byte, limit int) ([][]byte, bool, error) {
	limit, err := kv.CheckList(prefix, after, limit)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := kv.Op(ctx, s.cfg.Timeout)
	defer cancel()
	base := s.ns + "k:"
	pattern := globEscape(base+string(prefix)) + "*"
	var keys [][]byte
	iter := s.rdb.Scan(ctx, 0, pattern, scanCount).Iterator()
	for iter.Next(ctx) {
		k := []byte(strings.TrimPrefix(iter.Val(), base))
		if after == nil || bytes.Compare(k, after) > 0 {
			keys = append(keys, k)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, false, s.mapErr("keys", err)
	}
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal) // SCAN may return a key twice
	if len(keys) > limit {
		return keys[:limit], true, nil
	}
	return keys, false, nil
}

// globEscape escapes the characters SCAN MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
