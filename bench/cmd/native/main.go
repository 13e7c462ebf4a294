// Command native is the benchmark's ceiling: plain net/http doing the same
// work as each benchmark plugin, with no wasm in between.
//
//	native -listen 127.0.0.1:8081 -plugin hello-wat|hello-sdk|echo|version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wasmcluster/wasmcluster/bench/internal/echo"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("native", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	plugin := fs.String("plugin", "hello-wat", "work to do: hello-wat, hello-sdk, echo")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	h, err := handler(*plugin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		return 1
	}
	srv := &http.Server{Handler: h}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "native:", err)
		return 1
	}
	return 0
}

// handler returns the native twin of each benchmark plugin: same status,
// headers and body bytes as the wasm guest.
func handler(plugin string) (http.Handler, error) {
	switch plugin {
	case "hello-wat": // bench/guests/hello.wat
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("content-type", "text/plain")
			io.WriteString(w, "hello from wat\n")
		}), nil
	case "hello-sdk": // examples/hello
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("content-type", "text/plain; charset=utf-8")
			io.WriteString(w, "hello from wasm\n")
		}), nil
	case "echo": // bench/guests/echo
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			headers := make(map[string][]string, len(r.Header)+1)
			for name, values := range r.Header {
				headers[strings.ToLower(name)] = values
			}
			headers["host"] = []string{r.Host} // net/http moves Host out of Header
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
				return
			}
			out, err := echo.Marshal(r.Method, r.RequestURI, headers, body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("content-type", "application/json")
			w.Write(out)
		}), nil
	}
	return nil, fmt.Errorf("unknown plugin %q (want hello-wat, hello-sdk or echo)", plugin)
}
