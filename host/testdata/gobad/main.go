//go:build wasip1

// Command gobad is a standard-Go guest (raw ABI) that fails on demand,
// chosen by the first byte of request header x-mode: 'p' panics, 'm'
// allocates until the runtime runs out of memory; otherwise it answers
// "hello". Build it as a reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o gobad.wasm .
package main

import "unsafe"

//go:wasmimport http_handler write_body
func writeBody(kind uint32, body unsafe.Pointer, bodyLen uint32)

//go:wasmimport http_handler get_header_values
func getHeaderValues(kind uint32, name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, bufLimit uint32) uint64

var (
	hello   = []byte("hello")
	modeHdr = []byte("x-mode")
	buf     [64]byte
	keep    [][]byte
)

func mode() byte {
	countLen := getHeaderValues(0, unsafe.Pointer(&modeHdr[0]), uint32(len(modeHdr)), unsafe.Pointer(&buf[0]), uint32(len(buf)))
	if countLen>>32 == 0 || uint32(countLen) > uint32(len(buf)) {
		return 0
	}
	return buf[0]
}

//go:wasmexport handle_request
func handleRequest() uint64 {
	switch mode() {
	case 'p':
		panic("gobad: asked to panic")
	case 'm':
		for {
			keep = append(keep, make([]byte, 1<<20))
		}
	}
	writeBody(1, unsafe.Pointer(&hello[0]), uint32(len(hello)))
	return 0
}

func main() {}
