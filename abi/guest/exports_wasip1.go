//go:build wasip1

package guest

// The two guest exports of the handler ABI. With -buildmode=c-shared the Go
// toolchain also exports _initialize, which runs package init functions
// (where plugins register their handlers) and returns; main is never called.

//go:wasmexport handle_request
func handleRequest() uint64 { return uint64(serveRequest()) }

//go:wasmexport handle_response
func handleResponse(reqCtx uint32, isError uint32) { serveResponse(reqCtx, isError != 0) }

// The extension export abi.ExportResponseWanted: a host that knows it gives
// the instance back before next when no response hook is registered; other
// hosts never call it, so the plugin stays portable.

//go:wasmexport wasmcluster_response_wanted
func responseWanted(reqCtx uint32) uint32 {
	if wantsResponse(reqCtx) {
		return 1
	}
	return 0
}
