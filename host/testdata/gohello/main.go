//go:build wasip1

// Command gohello is the smallest standard-Go http-wasm guest, written
// against the raw ABI (no SDK) so benchmarks measure the host and the Go
// runtime only. Build it as a reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o gohello.wasm .
package main

import "unsafe"

//go:wasmimport http_handler write_body
func writeBody(kind uint32, body unsafe.Pointer, bodyLen uint32)

var hello = []byte("hello")

//go:wasmexport handle_request
func handleRequest() uint64 {
	writeBody(1, unsafe.Pointer(&hello[0]), uint32(len(hello)))
	return 0 // next=0: the guest answered
}

//go:wasmexport handle_response
func handleResponse(reqCtx, isError uint32) {}

func main() {}
