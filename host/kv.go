package host

import (
	"context"
	"time"

	"github.com/wasmcluster/wasmcluster/abi"
)

// KV is the shared key-value store behind the wasmcluster.kv_* host
// functions: the small interface the host needs, implemented outside host
// (package kv and its backends) and handed in through Config-independent
// wiring (Plugin.SetKV or an equivalent the KV work settles on).
//
// Keys are arbitrary bytes (1..abi.KVMaxKey); a backend with a restricted
// key alphabet encodes them. A revision is a positive number that changes on
// every write of a key; 0 means "absent" where a revision is expected.
//
// Errors carry the status the guest sees: an error e for which
// errors.As(e, &StatusError) holds reports it through Status(); any other
// error is abi.StatusFailed. Implementations return those statuses for:
// absent key (StatusNotFound, Get only: Delete of an absent key succeeds),
// stale revision or existing key on create (StatusConflict), over a limit
// (StatusTooLarge), outage or timeout (StatusUnavailable), non-numeric value
// under Incr (StatusNotNumber).
type KV interface {
	// Get returns the value and its revision.
	Get(ctx context.Context, key []byte) (value []byte, rev uint64, err error)
	// Set stores value; ttl > 0 makes the key expire after it.
	Set(ctx context.Context, key, value []byte, ttl time.Duration) (rev uint64, err error)
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key []byte) error
	// Incr adds delta to the decimal int64 stored at key (absent = 0),
	// atomically across every client of the store, and returns the new
	// value; ttl > 0 applies only when this call creates the key.
	Incr(ctx context.Context, key []byte, delta int64, ttl time.Duration) (int64, error)
	// CompareAndSwap stores value only if key's revision is still rev
	// (rev 0: only if key is absent), returning the new revision.
	CompareAndSwap(ctx context.Context, key, value []byte, rev uint64, ttl time.Duration) (newRev uint64, err error)
	// Keys lists, in byte order, up to limit keys that start with prefix
	// and sort after `after` (nil: from the first); more reports whether
	// keys remain past the page.
	Keys(ctx context.Context, prefix, after []byte, limit int) (keys [][]byte, more bool, err error)
}

// StatusError is implemented by errors that carry the abi.Status a guest
// sees for them.
type StatusError interface {
	error
	Status() abi.Status
}
