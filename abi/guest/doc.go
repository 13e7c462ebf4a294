// Package guest is the Go SDK for wasmcluster plugins: HTTP handlers written
// in standard Go, compiled to WebAssembly, and served by wasmcluster (or any
// http-wasm host, such as Traefik's or Dapr's wasm middleware).
//
// A plugin is a main package that registers a handler in init:
//
//	package main
//
//	import "github.com/wasmcluster/wasmcluster/abi/guest"
//
//	func init() {
//		guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
//			w.Header().Set("content-type", "text/plain")
//			w.WriteString("hello " + r.Path() + "\n")
//		})
//	}
//
//	func main() {}
//
// Build it with `wasmcluster build ./myplugin -o plugin.wasm`, which runs
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-s -w'
//
// The c-shared build mode matters: it makes a reactor module whose
// _initialize runs the init functions and returns. Without it the module
// is a command that runs main and exits, and cannot serve. main is never
// called in a plugin; register handlers in init.
//
// # Model
//
// The host calls the exported handle_request once per request. The SDK
// calls the registered Handler with a ResponseWriter and a *Request that
// read and write the host's request and response through the http_handler
// host functions: nothing is copied into the guest until a getter asks for
// it. A handler either writes a response, or calls r.Next to hand the
// request to the next handler (wasmcluster's --upstream, or a 404) after it
// returns — the middleware case. A hook registered with HandleResponseFunc
// then runs (handle_response) and can inspect or rewrite next's response;
// reading it needs FeatureBufferResponse.
//
// A response hook costs an instance for the whole of next: the hook must run
// on the instance that handled the request, so wasmcluster holds it while
// the upstream answers. Without a hook the SDK says so through the optional
// extension export wasmcluster_response_wanted (package abi, extension.go)
// and wasmcluster frees the instance before next; hosts that do not know
// the export (Traefik, Dapr) never call it. For a request that upgrades its
// connection (Connection: Upgrade, e.g. a WebSocket) the hook never runs:
// the response phase does not apply to an upgraded stream.
//
// One plugin instance serves one request at a time, and the host keeps a
// pool of instances. Package-level state is therefore per instance, not
// shared between requests in flight; there are no goroutines running
// between requests. The *Request and the buffers behind it are reused: do
// not keep them after the handler returns. A panic is not recovered: the
// host answers 500, logs the panic, and replaces the instance.
//
// Bodies stream. Request.Body and ResponseWriter.Body read straight into the
// caller's buffer with one host call per Read, and Write sends each chunk to
// the host, so io.Copy(w, r.Body()) moves a body of any size through one
// reused 32 KiB buffer.
//
// Config returns the operator's plugin configuration; Log writes to
// the host's logger; EnableFeatures turns on request buffering, response
// buffering and trailers, for every request when called from init or for
// the current request when called from a handler.
//
// Existing net/http handlers (an http.ServeMux with path patterns, a
// router) run unchanged through the adapter in package
// github.com/wasmcluster/wasmcluster/abi/guest/nethttp.
//
// On platforms other than wasip1 the package compiles, so `go build ./...`
// and `go vet ./...` work, but every host call panics.
package guest
