// Package native holds the native twins of the benchmark plugins: net/http
// handlers answering with the same status, headers and body bytes as each
// wasm guest, so the benchmark has a ceiling to compare against. Used by
// bench/cmd/native and the in-process benchmarks of package bench.
package native
