// Package rediskv is a kv.Store on Redis (github.com/redis/go-redis/v9),
// for kv.url = redis://host:port/db or rediss:// (TLS).
//
// Layout: a key k of bucket b is the Redis hash "wasmcluster:{b}:k:" + k
// (raw bytes: Redis keys are binary-safe) with fields v (the value) and r
// (its revision); the hash tag {b} keeps a bucket in one cluster slot.
// Revisions come from one counter per bucket, "wasmcluster:{b}:rev", so a
// revision is never reused for a key, even after a delete. Set and
// CompareAndSwap are one Lua script each (check the revision, INCR the
// counter, HSET, PEXPIRE or PERSIST); Incr is one script around HINCRBY,
// which parses and overflow-checks int64 exactly and sets the expiry only
// when it creates the key; Delete is DEL; Keys is SCAN MATCH over the
// escaped prefix, sorted and paged here (SCAN visits the whole keyspace:
// listing costs O(keys in the database)).
//
// The client does not retry commands (MaxRetries -1): a reply lost to a
// broken connection is kv.ErrUnavailable and the write was applied at most
// once. Open does not connect, so a server that is down at start is
// reported by Health and every call until it is back.
package rediskv
