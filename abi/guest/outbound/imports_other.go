//go:build !wasip1

package outbound

import "unsafe"

// On other platforms the package compiles (go build ./..., go vet ./...)
// but every host call panics: a plugin only runs inside wasmcluster.

const notWasm = "outbound: host functions exist only in a wasm plugin (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared; use `wasmcluster build`)"

func hostOpen(string, string) uint64                                 { panic(notWasm) }
func hostAddHeader(uint32, string, string) uint32                    { panic(notWasm) }
func hostWriteBody(uint32, unsafe.Pointer, uint32) uint32            { panic(notWasm) }
func hostSend(uint32) uint64                                         { panic(notWasm) }
func hostHeaderNames(uint32, unsafe.Pointer, uint32) uint64          { panic(notWasm) }
func hostHeaderValues(uint32, string, unsafe.Pointer, uint32) uint64 { panic(notWasm) }
func hostReadBody(uint32, unsafe.Pointer, uint32) uint64             { panic(notWasm) }
func hostClose(uint32) uint32                                        { panic(notWasm) }
func hostLastError(unsafe.Pointer, uint32) uint32                    { panic(notWasm) }
