// Command raw is the hello plugin written against the bare ABI with no SDK:
// the baseline the SDK's per-request cost is benchmarked against. It makes
// the same host calls as examples/hello.
package main

import "unsafe"

//go:wasmimport http_handler set_header_value
func setHeaderValue(kind uint32, name, value string)

//go:wasmimport http_handler write_body
func writeBody(kind uint32, body unsafe.Pointer, length uint32)

const msg = "hello from wasm\n"

//go:wasmexport handle_request
func handleRequest() uint64 {
	setHeaderValue(1, "content-type", "text/plain; charset=utf-8")
	writeBody(1, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
	return 0
}

//go:wasmexport handle_response
func handleResponse(reqCtx, isError uint32) {}

func main() {}
