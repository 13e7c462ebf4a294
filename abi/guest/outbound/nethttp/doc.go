// Package nethttp is an http.RoundTripper over wasmcluster's outbound
// calls, so a Go plugin uses net/http's Client unchanged:
//
//	client := &http.Client{Transport: nethttp.Transport{}}
//	resp, err := client.Get("https://api.example.com/v1/items")
//
// Redirects are followed by the host (each hop checked against
// [outbound] allow), so the Client sees the final response. The request's
// context is not consulted: the host bounds every call by the plugin
// request's deadline and outbound.timeout. Errors are *outbound.Error
// (wrapped in *url.Error by http.Client).
package nethttp
