// Package clientaddr decides who a request came from when wasmcluster sits
// behind load balancers and reverse proxies.
//
// # Model
//
// A [Trusted] set names the proxies (CIDR prefixes or single addresses)
// whose word about the client is believed; the zero value believes no one.
// The TCP peer of a connection is where trust starts:
//
//   - A peer that is not trusted is the client. Forwarded and
//     X-Forwarded-For headers it sent are ignored for the client address
//     and never passed upstream as if they were true.
//   - A trusted peer's Forwarded header (RFC 7239, the for= parameters), or
//     its X-Forwarded-For when it sent no Forwarded, lists the hops the
//     request took, client first. [Trusted.Resolve] walks that list from
//     the right, past every address that is itself trusted: the first one
//     that is not is the client. Everything left of it was written by the
//     client or by proxies nobody vouches for, so it is dropped.
//
// The result, a [Client], is the client address (what the guest's
// get_source_addr and the access log show), the hops from the client to
// the peer that are vouched for (what the upstream receives as
// X-Forwarded-For and Forwarded), and the scheme the client used
// ("https" when the listener is TLS, or when a trusted proxy said so).
//
// A TCP load balancer cannot add headers; it speaks the PROXY protocol
// instead (v1 text, v2 binary), a header in front of the connection's
// bytes. [Listen] wraps a listener so that connections from trusted peers
// may start with such a header, whose source address then replaces the
// peer's. A connection from an untrusted peer is served as plain HTTP: a
// PROXY header it sends is not parsed, so it fails as a malformed request
// (400) instead of naming a client. The header is read on the
// connection's own goroutine under a deadline, so a silent peer holds
// neither the accept loop nor its connection for longer than that.
//
// The package is stdlib only and knows nothing of workers or plugins: the
// HTTP server (workers/httpserve) applies it once, early, on the serving
// path of every mode.
package clientaddr
