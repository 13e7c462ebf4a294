// Package inspect describes a plugin module without running it: what it
// imports (grouped by the module that serves each import: the http-wasm
// handler ABI, our extension module by capability prefix, WASI, env), what
// it exports, its size and memory limits, and for each capability it may
// use whether a configuration grants it.
//
// The model: a capability is something a plugin can reach beyond its
// request — the shared KV store (the kv_ functions), outbound HTTP (the
// outbound_ functions), its environment (WASI environ_get) and files
// (WASI path_open). Importing a function is the only way to use it, so
// the imports say what a plugin may try to do; the grants say what it
// will get. Nothing here instantiates the module: its code never runs.
//
// The caller (the CLI) fills Grants from its configuration; this package
// reads no configuration itself.
package inspect
