// Package abi is the contract between wasmcluster and a plugin: the
// http-wasm handler ABI (github.com/http-wasm/http-wasm, "http-handler-abi").
//
// It holds the host module and function names, the guest exports, the header
// and body kinds, the feature bits, the log levels, and the three packed
// 64-bit values the ABI uses because WebAssembly 1.0 functions return one
// value:
//
//	CtxNext  = ctx<<32 | next   returned by handle_request
//	CountLen = count<<32 | len  returned by get_header_names/get_header_values
//	EOFLen   = eof<<32 | len    returned by read_body
//
// Buffer rule: every host function that writes a result takes (buf, buf_limit),
// writes only when the result's length is <= buf_limit, and always returns the
// length, so a guest can retry with a bigger buffer.
//
// extension.go holds wasmcluster's extension ABI: the rules every addition
// of ours follows (module "wasmcluster" for host functions, optional guest
// exports prefixed "wasmcluster_") so plugins stay portable to other
// http-wasm hosts, and the extensions defined so far.
//
// The package uses the standard library only and builds for GOOS=wasip1, so the
// host (package host) and the guest SDK (package abi/guest) share one source of
// truth.
package abi
