// Command refhost serves a plugin with the reference http-wasm host,
// github.com/http-wasm/http-wasm-host-go v0.7.0 (its handler/nethttp
// middleware), in one process: the peer users would pick today.
//
//	refhost -listen 127.0.0.1:8082 plugin.wasm
//
// Configured as a user would: WASI with real clocks, _initialize run for Go
// reactors, requests that call next answered by a 404 (our plugins never do).
// It pins wazero 1.8 but MVS resolves it to this module's wazero (1.12.0).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/http-wasm/http-wasm-host-go/handler"
	wasm "github.com/http-wasm/http-wasm-host-go/handler/nethttp"
	"github.com/tetratelabs/wazero"

	"github.com/wasmcluster/wasmcluster/bench/internal/sigserve"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("refhost", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8082", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: refhost [-listen ADDR] PLUGIN.wasm")
		return 2
	}
	if err := serve(*listen, fs.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "refhost:", err)
		return 1
	}
	return 0
}

func serve(listen, path string) error {
	ctx := context.Background()
	code, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read plugin: %w", err)
	}
	mc := wazero.NewModuleConfig().
		WithStartFunctions("_initialize").
		WithSysWalltime().WithSysNanotime().
		WithStdout(os.Stdout).WithStderr(os.Stderr)
	mw, err := wasm.NewMiddleware(ctx, code, handler.ModuleConfig(mc))
	if err != nil {
		return fmt.Errorf("load plugin %s: %w", path, err)
	}
	defer mw.Close(ctx)
	return sigserve.ListenAndServe(listen, mw.NewHandler(ctx, http.NotFoundHandler()))
}
