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
// Importing net/http makes a plugin about three times larger than one built
// on package guest alone (measured: hello 1.85 MB, the router example
// 5.6 MB, stripped), and its instances use more memory. Per request the
// adapter reads every request header from the host (one call for the names
// plus one per name) and allocates the URL, the header map's values and
// the net/http state a handler touches; the SDK's own API reads only what
// a handler asks for. The request value, the header maps and the writer
// are reused across requests. Choose the adapter to reuse existing code,
// the guest API for the smallest and fastest plugins.
//
// Differences from a net/http server: one request runs at a time per
// instance, so goroutines started by a handler do not run between
// requests; Request.Context is never cancelled; Hijack, request trailers
// and 1xx responses are not supported; response trailers work with
// http.TrailerPrefix.
package nethttp
