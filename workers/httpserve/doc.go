// Package httpserve serves a plugin over HTTP: the one serving path of
// every mode, a worker process and `--workers 0` alike, so the two cannot
// drift.
//
// # Model
//
// A [Server] serves a [Plugin] on a listener it is handed (the shared
// socket a worker inherited, or the primary's own). Every request passes,
// in order, through the per-connection caps (a connection past
// MaxConnRequests or MaxConnAge is answered with "Connection: close" so
// long-lived clients rebalance), the drain's "Connection: close", the
// meter (status code and latency bucket, counted with atomics) and the
// access log, then the plugin. [Server.Metrics] snapshots the meter's
// cumulative counts together with the plugin's own (traps, timeouts,
// upstream failures by cause, pool).
//
// [Server.Swap] replaces the plugin while serving; the old one is handed
// back only once no request uses it, so the caller can close it safely.
// Its counters stay in the snapshots (counters never go down across an
// in-process reload); the pool gauges are the serving plugin's.
//
// # Draining
//
// http.Server.Shutdown drops requests read on just-accepted connections
// (Go issue 75591) and closes idle keep-alive connections under clients'
// feet. [Server.Drain] instead stops accepting, waits for Serve to return,
// answers further requests with "Connection: close", ends connections that
// stayed idle for a grace period, and returns when none remain or its
// context ends (the drain timeout, then it closes everything).
//
// An upgraded connection (a WebSocket that next proxied; its connection
// hijacked) is a stream, not a request: a drain leaves it open until the
// drain timeout and then ends it by canceling its request's context
// (http.Server does not track hijacked connections). That end is expected,
// so it is not reported as requests cut off. The meter counts it as 101
// when it ends; [Metrics] has the open ones (a gauge) and a total. Nor
// does a stream hold its plugin: Swap does not wait for it. Just before
// the cap closes them, each WebSocket gets a close frame 1001 "going
// away", written between two relayed frames (streams.go follows the frame
// boundaries), and the streams get a moment to close cleanly.
//
// # The client
//
// With Options.TrustedProxies set, a request whose peer is trusted has its
// RemoteAddr replaced, before anything else reads it, by the client that
// the peer's Forwarded or X-Forwarded-For names (workers/clientaddr), and
// carries the vouched hops to the upstream proxy in its context
// (host.WithForwarding). With Options.ProxyProtocol the listener reads a
// PROXY protocol header from trusted peers first. Without trusted proxies
// requests are not touched.
// so it is not reported as requests cut off. The meter counts it as 101.
// Nor does a stream hold its plugin: Swap does not wait for it.
//
// # TLS and HTTP/2
//
// [Server.ServeTLS] terminates TLS with a tls.Config whose GetCertificate
// may change the certificate between handshakes (workers/tlscert), and
// offers HTTP/2 by ALPN; Options.H2C adds HTTP/2 without TLS. HTTP/2's
// handlers come from a second http.Server that never serves, so a drain
// can send every HTTP/2 connection a GOAWAY through that server's
// Shutdown without touching HTTP/1 connections (tls.go).
package httpserve
