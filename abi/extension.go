package abi

// The extension ABI: what wasmcluster adds to the http-wasm handler ABI.
//
// Every extension follows the same rules, so that a plugin using one still
// runs on a host that knows nothing of wasmcluster (Traefik's or Dapr's
// wasm middleware), and so that the public ABI above stays exactly as the
// http-wasm project defines it:
//
//  1. The http_handler module, its functions and the guest exports
//     memory, handle_request and handle_response are never changed,
//     extended or given new meanings.
//  2. A guest export of an extension is named ExtExportPrefix + name
//     ("wasmcluster_…"). It is optional: a host that does not know it never
//     calls it, and wasmcluster calls it only when the guest exports it,
//     behaving exactly as the public ABI says when it does not. This is the
//     portable way for a guest to tell the host something.
//  3. A host function of an extension is imported from module ExtModule
//     ("wasmcluster"). An import is not portable: a host lacking the module
//     refuses to instantiate the guest. So the SDK imports one only from a
//     package a plugin opts into for that feature (Go links a
//     //go:wasmimport only when a function using it is reachable), never
//     from the core SDK.
//  4. Values follow the http_handler conventions: i32 and i64 only, two
//     results packed into one i64 (packed.go), results written to guest
//     memory under the buffer rule (write only if len <= buf_limit, always
//     return len), multi-values NUL-terminated.
//  5. An extension export runs on the instance serving the request, like
//     handle_request, and a trap in it fails the request like a trap in
//     handle_request.
//
//  6. A host function that can fail returns a Status (ext_status.go), alone
//     as an i32 or packed with a length as a StatusLen; a failure is a value
//     the guest handles, never a trap, and last_error explains it. A trap
//     is kept for what the http_handler functions trap on too: memory
//     outside the guest's, a call outside a request.
//
// Extensions so far:
//
//	export wasmcluster_response_wanted(req_ctx i32) -> i32   ExportResponseWanted
//	import wasmcluster.last_error(buf i32, buf_limit i32) -> i32   FuncLastError
//	import wasmcluster.outbound_* (outbound HTTP)                  outbound.go
//	import wasmcluster.kv_*: the shared key-value store (kv.go)

// ExtModule is the import module name of wasmcluster's own host functions.
const ExtModule = "wasmcluster"

// ExtExportPrefix prefixes the name of every guest export an extension
// defines.
const ExtExportPrefix = "wasmcluster_"

// ExportResponseWanted is `wasmcluster_response_wanted(req_ctx i32) -> i32`.
//
// The host calls it right after handle_request returned next=1, on the same
// instance, with the ctx handle_request returned. A result of 0 says the
// guest has nothing to do in handle_response for this request: the host
// then does not call handle_response, and gives the instance back to its
// pool before next runs, so a slow upstream, a slow upload or a long-lived
// stream does not hold an instance in which nothing runs. Any other result
// keeps the public ABI's behaviour: the instance is held through next and
// handle_response runs on it.
//
// A guest that does not export it is treated as wanting handle_response
// whenever it exports handle_response. Go SDK plugins export it and answer 0
// unless a response hook is registered (guest.HandleResponseFunc).
//
// Independently of this export, wasmcluster never runs handle_response for
// a request that asks to upgrade its connection (Connection: Upgrade, e.g. a
// WebSocket), as it stands when handle_request returns: the response phase
// does not apply to an upgraded stream (and if the upstream declines the
// upgrade, its answer passes through unchanged).
const ExportResponseWanted = ExtExportPrefix + "response_wanted"

// Function name prefixes in module ExtModule, one per capability an
// operator grants: `wasmcluster inspect` and the load check map an import
// to the setting that grants it by its prefix.
const (
	KVPrefix       = "kv_"       // the shared key-value store, granted by [kv] url
	OutboundPrefix = "outbound_" // outbound HTTP, granted by [outbound] allow
)
