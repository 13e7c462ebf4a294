// Package host runs a plugin — a WebAssembly module written for the
// http-wasm handler ABI (package abi) — as an http.Handler.
//
// # Model
//
// New compiles the module once (wazero's optimizing compiler, with an on-disk
// compilation cache in a sub-directory named by the module's SHA-256 so two
// versions never share an entry), checks its exports and imports, and fills a
// bounded pool of instances. Each instance is initialized once (`_initialize`,
// else `_start`) and then serves many requests, one at a time. Load is New
// without the wait for the whole pool: it returns once the first instance is
// initialized (every failure that is the module's fault shows there) and
// fills the rest of the pool in the background, which is how a worker becomes
// ready sooner. The pool keeps Config.PoolSize instances and grows on demand
// up to the count Config.MemoryBudget allows (each instance counted at its
// memory cap); past that a request waits at most Config.PoolWait and is
// answered 503 with Retry-After. Linear memories live outside the Go heap (mmap, grown in
// place), so a memory.grow never copies.
//
// A request borrows an instance while something runs in it: handle_request,
// then (when the guest returns next=1) the next handler and handle_response on
// the same instance. When handle_response has nothing to do — the guest does
// not export it, says so through the extension export
// wasmcluster_response_wanted, or the request asks to upgrade its connection — the
// instance goes back to the pool before next runs, so slow upstreams, slow
// uploads and WebSockets hold none. An instance that trapped, timed out or was interrupted is closed
// and replaced, never returned to the pool, so guest state corrupted by a
// failure cannot poison later requests.
//
// # Safety
//
// Guests get WASI with nothing granted: no files, no environment, no
// arguments beyond a program name, no sockets; real clocks and a random
// source. Memory is capped per instance (Config.MemoryLimitPages): memory.grow
// beyond it fails inside the guest. Every host function bounds-checks guest
// pointers and lengths and fails the request (never the process) on bad input.
// Deadlines interrupt running guest code (wazero's close-on-context-done), so
// an infinite loop costs one instance and answers 504, without freezing the
// process; see RATIONALE.md for the measured cost.
//
// The on-disk compilation cache holds machine code the server will run, so
// it is trusted only as far as it is private: the cache directory and all
// below it must belong to the server's user and not be writable by group or
// others (else ErrUnsafeCache), and each entry wazero could load must match
// its record (the module's SHA-256, the entry's SHA-256) or it is removed
// and recompiled, never run. A cache that cannot be written (full or
// read-only disk) degrades to compiling in memory, with one warning.
//
// # next
//
// With no upstream, next is a built-in 404. With Config.Upstream, next is a
// streaming reverse proxy, which makes wasmcluster a wasm-middleware edge
// proxy. For a request that upgrades its connection (a WebSocket),
// RequestTimeout bounds next only until the proxy takes the connection over;
// the stream then lives until a side closes it or the server ends it.
// proxy. A round trip that fails before the upstream's headers arrive is
// answered by cause (504 past the request's deadline, 413 or 400 for the
// client's body, 502 for a refused, reset or broken upstream, nothing for a
// client that left) and counted in Stats.Upstream; the upstream's failures
// log at most one line per cause per 10 s, plus a count of the rest. After
// the headers, a failure cuts the client's response. A response captured
// for handle_response (buffer_response) is bounded by
// Config.MaxBufferedResponse; past 1 MiB it is held in a mapping outside the
// Go heap, unmapped when the response is sent.
package host
