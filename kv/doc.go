// Package kv is the shared key-value store behind the wasmcluster.kv_*
// host functions: the Store interface every backend implements, its
// errors, limits and configuration. It imports only the standard library
// and abi; the backends live below it and the host never imports any of
// them (it defines host.KV, which Store satisfies).
//
// # Model
//
// Keys are 1..MaxKey (256) arbitrary bytes; values up to Config.MaxValue
// (kv.max_value, default 1 MiB). Every write returns a revision, a positive
// number that changes on every write of the key and is never reused for it,
// so a CompareAndSwap against a revision read before a delete and re-create
// fails. Set and CompareAndSwap replace the value and its expiry (ttl 0:
// never expires); Incr keeps an existing key's expiry and applies its ttl
// only when it creates the key. Incr stores decimal ASCII (strconv's
// form); any other value, or an overflow, is ErrNotNumber. Keys lists in
// byte order, paged by after/limit, at most MaxPage per call.
//
// Consistency, per key: a write that returned is visible to every later
// Get from any client (read-your-writes), CompareAndSwap and Incr are
// atomic across all clients, and a lost reply never applies a write twice:
// success means applied once, ErrConflict not applied, ErrUnavailable
// unknown (at most once). On a replicated NATS bucket, Keys may trail the
// latest writes by the replication lag. RATIONALE.md has the reasoning.
//
// Every error a Store returns wraps one of the sentinels (ErrNotFound,
// ErrConflict, ErrTooLarge, ErrUnavailable, ErrNotNumber, ErrInvalid), each
// an *Error with the abi.Status the guest sees, so host.StatusError
// matches them with errors.As; the message says what happened. A timeout
// or an outage is ErrUnavailable, bounded by Config.Timeout and the
// caller's deadline: a store that is down never hangs a caller.
//
// # Backends
//
//	kv/embedded  the default: the primary runs a NATS server with JetStream
//	             in-process (loopback listener, a token generated at each
//	             start, file storage under Config.Dir); workers connect to
//	             it with natskv through Server.WorkerConfig, --workers 0
//	             through Server.InProcessConfig (no socket)
//	kv/natskv    NATS JetStream KV: the embedded server or an external
//	             cluster (kv.url = nats://a:4222,nats://b:4222, kv.replicas)
//	kv/rediskv   Redis (kv.url = redis:// or rediss://)
//	kv/kvopen    Open(ctx, Config) picks one by Config.URL
//	kv/kvtest    the conformance suite every backend passes
//
// # Wiring
//
// The primary (or --workers 0) calls embedded.Start when Config.Scheme()
// is "embedded", logs Server.Dir, and gives each worker
// srv.WorkerConfig(cfg) (a nats:// URL on 127.0.0.1 and the token; the
// token is a secret: never log the Config); --workers 0 uses
// srv.InProcessConfig(cfg). Every process then calls kvopen.Open with its
// Config; kv.url = off gives ErrOff, and the caller refuses plugins that
// import kv_* functions. A store that is unreachable at Open still opens:
// calls fail with ErrUnavailable and Health reports it until it recovers.
package kv
