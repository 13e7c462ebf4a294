//go:build !wasip1

package kv

import "unsafe"

// On other platforms the package compiles (go build ./..., go vet ./...)
// but every call panics: a plugin only runs inside wasmcluster.

const notWasm = "kv: host functions exist only in a wasm plugin served by wasmcluster (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared)"

func hostGet(string, unsafe.Pointer, uint32, unsafe.Pointer) uint64                { panic(notWasm) }
func hostSet(string, unsafe.Pointer, uint32, int64, unsafe.Pointer) uint32         { panic(notWasm) }
func hostDelete(string) uint32                                                     { panic(notWasm) }
func hostIncr(string, int64, int64, unsafe.Pointer) uint32                         { panic(notWasm) }
func hostCAS(string, unsafe.Pointer, uint32, uint64, int64, unsafe.Pointer) uint32 { panic(notWasm) }
func hostKeys(string, string, unsafe.Pointer, uint32) uint64                       { panic(notWasm) }
func hostLastError(unsafe.Pointer, uint32) uint32                                  { panic(notWasm) }
