// Package echo is the work of the benchmark's "realistic" plugin: a JSON
// echo of the request's method, URI, headers and body. The wasm guest
// (bench/guests/echo) and the native ceiling (bench/cmd/native) both call
// Marshal, so both sides do the same work with the same code.
package echo
