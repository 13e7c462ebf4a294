// Command benchrun drives the benchmark: it starts each system under test
// (native Go, the reference http-wasm host, wasmcluster with several worker
// counts), loads it with wrk on loopback at each concurrency level, samples
// memory from /proc, measures cold start and hot-swap latency, and writes
// results.json, results.md and chart.png. bench/run.sh builds everything
// and calls it; see BENCHMARKS.md.
package main
