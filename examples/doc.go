// Package examples holds example plugins users can copy: each directory is
// a plugin (a main package built with `wasmcluster build`, a .wat file, C
// files built with clang, or an AssemblyScript package whose npm build
// script writes build/plugin.wasm) with a README giving the one command that
// builds and serves it. This package's tests build every example and serve
// it through the host and through the wasmcluster binary.
package examples
