package kv

import (
	"iter"
	"time"
	"unsafe"

	"github.com/wasmcluster/wasmcluster/abi"
)

// MaxKey is the longest key, in bytes.
const MaxKey = abi.KVMaxKey

// buf receives values and key pages; it grows to the largest seen, so
// steady-state calls do not allocate for it. out receives revisions and
// counters (8 bytes, little-endian, like the host writes them).
var (
	buf = make([]byte, 4096)
	out uint64
)

func outPtr() unsafe.Pointer { return unsafe.Pointer(&out) }

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// Option tunes a write.
type Option func(*options)

type options struct{ ttl time.Duration }

// TTL makes the key expire d after the write (rounded down to whole
// milliseconds; under a millisecond means none). For Incr it applies only
// when the call creates the key, which makes a counter a fixed window.
func TTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

func ttlMs(opts []Option) int64 {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o.ttl.Milliseconds()
}

// Entry is a value and its revision, which changes on every write of the key.
type Entry struct {
	Value    []byte
	Revision uint64
}

// Get returns key's value and revision, or an error matching ErrNotFound.
// A value larger than the SDK's buffer costs a second host call, but not a
// second round trip to the store: the host keeps the value for the retry.
func Get(key string) (Entry, error) {
	for {
		r := abi.StatusLen(hostGet(key, bytesPtr(buf), uint32(len(buf)), outPtr()))
		if s := r.Status(); s != abi.StatusOK {
			return Entry{}, newError("get", key, s)
		}
		if n := int(r.Len()); n > len(buf) {
			buf = make([]byte, n+n/4)
			continue
		}
		return Entry{Value: append([]byte(nil), buf[:r.Len()]...), Revision: out}, nil
	}
}

// Set stores value under key and returns its new revision.
func Set(key string, value []byte, opts ...Option) (uint64, error) {
	if s := abi.Status(hostSet(key, bytesPtr(value), uint32(len(value)), ttlMs(opts), outPtr())); s != abi.StatusOK {
		return 0, newError("set", key, s)
	}
	return out, nil
}

// Delete removes key; deleting an absent key is not an error.
func Delete(key string) error {
	if s := abi.Status(hostDelete(key)); s != abi.StatusOK {
		return newError("delete", key, s)
	}
	return nil
}

// Incr adds delta to the decimal integer stored at key (absent counts as
// 0), atomically across every worker and instance sharing the store, and
// returns the new value. An error matching ErrUnavailable or ErrTimeout
// leaves unknown whether the increment was applied.
func Incr(key string, delta int64, opts ...Option) (int64, error) {
	if s := abi.Status(hostIncr(key, delta, ttlMs(opts), outPtr())); s != abi.StatusOK {
		return 0, newError("incr", key, s)
	}
	return int64(out), nil
}

// CompareAndSwap stores value only if key's revision is still rev, and
// returns the new revision; otherwise an error matching ErrConflict. A rev
// of 0 means "only if absent" (see Create).
func CompareAndSwap(key string, value []byte, rev uint64, opts ...Option) (uint64, error) {
	s := abi.Status(hostCAS(key, bytesPtr(value), uint32(len(value)), rev, ttlMs(opts), outPtr()))
	if s != abi.StatusOK {
		return 0, newError("cas", key, s)
	}
	return out, nil
}

// Create stores value only if key is absent: CompareAndSwap with rev 0.
func Create(key string, value []byte, opts ...Option) (uint64, error) {
	return CompareAndSwap(key, value, 0, opts...)
}

// KeysPage returns, in byte order, up to abi.KVKeysPageMax keys that start
// with prefix and sort after `after` ("" for the first page), and whether
// more remain; the next page starts after the last key returned.
func KeysPage(prefix, after string) (keys []string, more bool, err error) {
	for {
		r := abi.KeysResult(hostKeys(prefix, after, bytesPtr(buf), uint32(len(buf))))
		if s := r.Status(); s != abi.StatusOK {
			return nil, false, newError("keys", prefix, s)
		}
		if n := int(r.Len()); n > len(buf) {
			buf = make([]byte, n+n/4)
			continue
		}
		list, err := abi.SplitKeyList(buf[:r.Len()])
		if err != nil {
			return nil, false, &Error{Op: "keys", Key: prefix, Status: abi.StatusFailed, Msg: err.Error()}
		}
		keys = make([]string, len(list))
		for i, k := range list {
			keys[i] = string(k)
		}
		return keys, r.More(), nil
	}
}

// Keys iterates over every key starting with prefix, in byte order, a page
// at a time. An error ends the iteration after being yielded once.
//
//	for key, err := range kv.Keys("session:") {
//		if err != nil {
//			return err
//		}
//		...
//	}
func Keys(prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		after := ""
		for {
			keys, more, err := KeysPage(prefix, after)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
			if !more || len(keys) == 0 {
				return
			}
			after = keys[len(keys)-1]
		}
	}
}
