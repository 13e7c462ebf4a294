// goguest is a minimal http-wasm handler in plain Go (no SDK), used by the
// preflight tests: built with -buildmode=c-shared it is a reactor and must be
// accepted; built without, it is a WASI command that exits after _start and
// must be refused.
package main

import "unsafe"

//go:wasmimport http_handler write_body
func writeBody(kind uint32, ptr unsafe.Pointer, size uint32)

var hello = []byte("hello from go")

//go:wasmexport handle_request
func handleRequest() uint64 {
	writeBody(1, unsafe.Pointer(&hello[0]), uint32(len(hello)))
	return 0
}

//go:wasmexport handle_response
func handleResponse(reqCtx, isError uint32) {}

func main() {}
