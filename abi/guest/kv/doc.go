// Package kv is the Go SDK for wasmcluster's shared key-value store: state
// every worker of an instance sees (and, with a NATS cluster or Redis
// behind it, every instance of a fleet). It is opt-in: a plugin that does
// not import this package imports nothing from module "wasmcluster" and
// still runs on any http-wasm host; one that does is refused by hosts
// without the store (and by wasmcluster run with kv.url = "off").
//
//	import "github.com/wasmcluster/wasmcluster/abi/guest/kv"
//
//	n, err := kv.Incr("hits:"+r.Path(), 1)
//	if err != nil {
//		w.WriteHeader(503)
//		return
//	}
//
// # Model
//
// Keys are strings of 1..MaxKey (256) arbitrary bytes; values are byte
// slices up to the operator's kv.max_value (1 MiB by default). Every write
// gives the key a new revision, which CompareAndSwap checks:
//
//	e, err := kv.Get("cart:" + id)
//	switch {
//	case errors.Is(err, kv.ErrNotFound):
//		_, err = kv.Create("cart:"+id, fresh, kv.TTL(time.Hour))
//	case err == nil:
//		_, err = kv.CompareAndSwap("cart:"+id, update(e.Value), e.Revision, kv.TTL(time.Hour))
//		// errors.Is(err, kv.ErrConflict): someone else wrote it; read again and retry
//	}
//
// Incr is atomic across every worker and instance sharing the store, and
// with TTL set it applies only when it creates the key — a fixed-window
// counter (examples/ratelimit):
//
//	n, err := kv.Incr("rl:"+addr, 1, kv.TTL(time.Minute))
//
// Keys lists by prefix, a page at a time behind an iterator:
//
//	for key, err := range kv.Keys("session:") {
//		...
//	}
//
// Within one request, a Get after the request's own Set, CompareAndSwap or
// Delete of a key sees that write. Across requests, a Get sees the latest
// write acknowledged by the store.
//
// Errors are values: every failure is an *Error carrying the host's
// explanation (its last_error message, e.g. "kv_set: value of 2097152
// bytes is over kv.max_value (1048576)") that matches one of ErrNotFound,
// ErrConflict, ErrTooLarge, ErrInvalid, ErrNotNumber, ErrUnavailable,
// ErrTimeout, ErrNotGranted or ErrFailed with errors.Is. A store outage or
// a call past the request's deadline is an error, never a trap.
//
// Calls are synchronous host calls and the package keeps its buffers
// between calls (one instance serves one request at a time): values
// returned are copies, safe to keep.
//
// The raw ABI (for WAT and other languages) is documented in package abi,
// kv.go.
package kv
