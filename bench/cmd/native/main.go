// Command native is the benchmark's ceiling: plain net/http doing the same
// work as each benchmark plugin, with no wasm in between.
//
//	native -listen 127.0.0.1:8081 -plugin hello-wat|hello-sdk|echo|version [-tls-cert C -tls-key K]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wasmcluster/wasmcluster/bench/internal/native"
	"github.com/wasmcluster/wasmcluster/bench/internal/sigserve"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("native", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	plugin := fs.String("plugin", "hello-wat", "work to do: hello-wat, hello-sdk, echo")
	cert := fs.String("tls-cert", "", "serve TLS (HTTP/2 and HTTP/1.1) with this PEM certificate")
	key := fs.String("tls-key", "", "the key of -tls-cert")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	h, err := native.Handler(*plugin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		return 2
	}
	serve := func() error { return sigserve.ListenAndServe(*listen, h) }
	if *cert != "" {
		serve = func() error { return sigserve.ListenAndServeTLS(*listen, h, *cert, *key) }
	}
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		return 1
	}
	return 0
}
