package kv

import (
	"context"
	"time"
)

// Store is a shared key-value store: the methods of host.KV (the host's
// view, which this package must not import) plus what operations need.
// Every backend passes the conformance suite in kv/kvtest. Methods are safe
// for concurrent use.
type Store interface {
	// Get returns the value and its revision; ErrNotFound when absent.
	Get(ctx context.Context, key []byte) (value []byte, rev uint64, err error)
	// Set stores value with ttl (0: never expires), replacing the value and
	// any earlier expiry, and returns the new revision.
	Set(ctx context.Context, key, value []byte, ttl time.Duration) (rev uint64, err error)
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key []byte) error
	// Incr adds delta to the decimal int64 at key (absent = 0) atomically
	// across every client and returns the new value. ttl > 0 applies only
	// when this call creates the key; an existing key keeps its expiry.
	Incr(ctx context.Context, key []byte, delta int64, ttl time.Duration) (int64, error)
	// CompareAndSwap stores value (with ttl, as Set) only if key's revision
	// is still rev (rev 0: only if key is absent); ErrConflict otherwise.
	CompareAndSwap(ctx context.Context, key, value []byte, rev uint64, ttl time.Duration) (newRev uint64, err error)
	// Keys lists in byte order up to limit (capped at MaxPage) keys that
	// start with prefix and sort after `after` (nil: from the first); more
	// reports whether keys remain past the page.
	Keys(ctx context.Context, prefix, after []byte, limit int) (keys [][]byte, more bool, err error)

	// Backend names the engine: "embedded", "nats" or "redis".
	Backend() string
	// Health returns nil when the store answers, else an error wrapping
	// ErrUnavailable that says why.
	Health(ctx context.Context) error
	// MaxValue is the longest value Set, CompareAndSwap accept (kv.max_value).
	MaxValue() int
	// Close releases the connection; the Store is unusable afterwards.
	Close() error
}

// Op bounds ctx by timeout (Config.Timeout) on top of the caller's own
// deadline: one store call never outlives either.
func Op(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, timeout)
}
