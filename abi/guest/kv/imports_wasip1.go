//go:build wasip1

package kv

import "unsafe"

// Host functions from module wasmcluster (abi/kv.go). Only this package
// imports them, so a plugin that does not use it stays portable.

//go:wasmimport wasmcluster kv_get
func hostGet(key string, buf unsafe.Pointer, limit uint32, rev unsafe.Pointer) uint64

//go:wasmimport wasmcluster kv_set
func hostSet(key string, val unsafe.Pointer, valLen uint32, ttlMs int64, rev unsafe.Pointer) uint32

//go:wasmimport wasmcluster kv_delete
func hostDelete(key string) uint32

//go:wasmimport wasmcluster kv_incr
func hostIncr(key string, delta, ttlMs int64, result unsafe.Pointer) uint32

//go:wasmimport wasmcluster kv_cas
func hostCAS(key string, val unsafe.Pointer, valLen uint32, expected uint64, ttlMs int64, rev unsafe.Pointer) uint32

//go:wasmimport wasmcluster kv_keys
func hostKeys(prefix, after string, buf unsafe.Pointer, limit uint32) uint64

//go:wasmimport wasmcluster last_error
func hostLastError(buf unsafe.Pointer, limit uint32) uint32
