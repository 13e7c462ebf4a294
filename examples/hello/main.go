// Command hello is the smallest wasmcluster plugin: it answers every request
// with a greeting.
package main

import "github.com/wasmcluster/wasmcluster/abi/guest"

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.WriteString("hello from wasm\n")
	})
}

// main is required by Go but never runs in a plugin: handlers are registered
// in init.
func main() {}
