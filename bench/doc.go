// Package bench holds wasmcluster's benchmark harness: bench/run.sh builds
// the systems under test and the plugins and runs cmd/benchrun, which loads
// native Go, the reference http-wasm host and wasmcluster with wrk on
// loopback and writes a markdown table, JSON and a PNG chart. The package
// itself only holds the test that runs the harness in quick mode; the
// numbers live in BENCHMARKS.md at the repository root.
package bench
