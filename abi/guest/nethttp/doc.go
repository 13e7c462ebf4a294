// Package nethttp runs a standard net/http handler as a wasmcluster plugin:
// an http.ServeMux with path patterns, a router, or any http.Handler, unchanged.
//
//	func init() {
//		mux := http.NewServeMux()
//		mux.HandleFunc("GET /users/{id}", getUser)
//		mux.Handle("/api/", nethttp.Next) // pass the rest on to --upstream
//		nethttp.Handle(mux)
//	}
//
// For each request the adapter builds an *http.Request from the host's
// request (method, URI, protocol, headers, remote address, and a Body that
// streams from the host) and gives the handler an http.ResponseWriter that
// sends headers and status on the first Write (or when the handler
// returns) and streams the body. Nothing is buffered whole.
//
// # Cost
//
// Size: importing net/http makes a plugin about three times larger than one
// built on package guest alone (stripped: hello 1.85 MB with the guest API,
// 5.2 MB as a net/http handler, the router example 5.8 MB), and it takes
// longer to compile and instantiate.
//
// Time: per request the adapter reads every request header from the host
// (one call for the names plus one per name) and builds an *http.Request;
// the guest API reads only what a handler asks for. A hello handler through
// the adapter makes 12 guest allocations per request (names, values, URI,
// URL, remote address, response header slices, the mux's match), against 0
// for the guest API, and allocations dominate: under the host's default
// interruptible configuration one small guest allocation costs about 1-3 µs.
// Measured through the host on a shared 2-core machine (10th percentile of
// alternating requests, BenchmarkSDKOverhead in package guest): a raw-ABI
// hello 2.0-3.1 µs, the same handler through the adapter 29-36 µs (12-15x);
// the guest API costs 1.10-1.14x raw. The request value, header maps,
// header value arrays and writer are reused across requests.
//
// Choose the adapter to run existing net/http code unchanged; choose the
// guest API for the smallest and fastest plugins.
//
// Differences from a net/http server: one request runs at a time per
// instance, so goroutines started by a handler do not run between
// requests; Request.Context is never cancelled; Hijack, request trailers
// and 1xx responses are not supported; response trailers work with
// http.TrailerPrefix.
package nethttp
