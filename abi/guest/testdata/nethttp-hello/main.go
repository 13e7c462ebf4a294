// Command nethttp-hello is examples/hello written as a net/http handler and
// run through the nethttp adapter: the adapter's cost in benchmarks.
package main

import (
	"io"
	"net/http"

	"github.com/wasmcluster/wasmcluster/abi/guest/nethttp"
)

func init() {
	nethttp.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello from wasm\n")
	}))
}

func main() {}
