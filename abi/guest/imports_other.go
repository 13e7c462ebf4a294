//go:build !wasip1

package guest

import "unsafe"

// On other platforms the package compiles (so go build ./..., go vet ./...
// and host-side tests work) but every host call panics: a plugin only runs
// inside a wasmcluster worker. Build it with `wasmcluster build`.

const notWasm = "guest: host functions exist only in a wasm plugin (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared; use `wasmcluster build`)"

func hostEnableFeatures(uint32) uint32                                  { panic(notWasm) }
func hostGetConfig(unsafe.Pointer, uint32) uint32                       { panic(notWasm) }
func hostLogEnabled(int32) uint32                                       { panic(notWasm) }
func hostLog(int32, string)                                             { panic(notWasm) }
func hostGetMethod(unsafe.Pointer, uint32) uint32                       { panic(notWasm) }
func hostSetMethod(string)                                              { panic(notWasm) }
func hostGetURI(unsafe.Pointer, uint32) uint32                          { panic(notWasm) }
func hostSetURI(string)                                                 { panic(notWasm) }
func hostGetProtocolVersion(unsafe.Pointer, uint32) uint32              { panic(notWasm) }
func hostGetHeaderNames(uint32, unsafe.Pointer, uint32) uint64          { panic(notWasm) }
func hostGetHeaderValues(uint32, string, unsafe.Pointer, uint32) uint64 { panic(notWasm) }
func hostSetHeaderValue(uint32, string, string)                         { panic(notWasm) }
func hostAddHeaderValue(uint32, string, string)                         { panic(notWasm) }
func hostRemoveHeader(uint32, string)                                   { panic(notWasm) }
func hostReadBody(uint32, unsafe.Pointer, uint32) uint64                { panic(notWasm) }
func hostWriteBody(uint32, unsafe.Pointer, uint32)                      { panic(notWasm) }
func hostGetStatusCode() uint32                                         { panic(notWasm) }
func hostSetStatusCode(uint32)                                          { panic(notWasm) }
func hostGetSourceAddr(unsafe.Pointer, uint32) uint32                   { panic(notWasm) }
