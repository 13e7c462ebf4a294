// Package outbound lets a Go plugin make HTTP calls of its own through
// wasmcluster's outbound extension (abi/outbound.go), within what the
// operator granted with [outbound] allow.
//
//	resp, err := outbound.Fetch("GET", "https://api.example.com/v1/items", nil)
//	if err != nil {
//		// e.g. "outbound: https://api.example.com is not in outbound.allow"
//	}
//
// Fetch reads the whole (size-capped) response; Open gives a Call that
// streams both bodies through caller buffers. Package
// outbound/nethttp adds an http.RoundTripper so net/http's Client works
// unchanged. This package does not import net/http, so a plugin that only
// needs Fetch stays small.
//
// Importing the package makes the plugin import the wasmcluster module's
// outbound functions, so it no longer loads on hosts without them (Traefik,
// Dapr); a plugin meant for those keeps outbound calls in a build-tagged
// file. On a wasmcluster server that granted nothing the plugin loads, and
// every call returns an *Error with Status abi.StatusNotGranted.
//
// A Call is valid only during the request that opened it: the host closes
// every call still open when the request ends. At most
// abi.OutboundMaxHandles calls are open at once per request.
package outbound
