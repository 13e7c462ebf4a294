//go:build wasip1

package outbound

import "unsafe"

// Host functions from module wasmcluster (abi/outbound.go). Importing this
// package is what makes a plugin import them: a plugin that does not stays
// portable to other http-wasm hosts.

//go:wasmimport wasmcluster outbound_open
func hostOpen(method string, url string) uint64

//go:wasmimport wasmcluster outbound_add_header
func hostAddHeader(h uint32, name string, value string) uint32

//go:wasmimport wasmcluster outbound_write_body
func hostWriteBody(h uint32, buf unsafe.Pointer, n uint32) uint32

//go:wasmimport wasmcluster outbound_send
func hostSend(h uint32) uint64

//go:wasmimport wasmcluster outbound_get_header_names
func hostHeaderNames(h uint32, buf unsafe.Pointer, limit uint32) uint64

//go:wasmimport wasmcluster outbound_get_header_values
func hostHeaderValues(h uint32, name string, buf unsafe.Pointer, limit uint32) uint64

//go:wasmimport wasmcluster outbound_read_body
func hostReadBody(h uint32, buf unsafe.Pointer, limit uint32) uint64

//go:wasmimport wasmcluster outbound_close
func hostClose(h uint32) uint32

//go:wasmimport wasmcluster last_error
func hostLastError(buf unsafe.Pointer, limit uint32) uint32
