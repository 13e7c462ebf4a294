// Command echo is the benchmark's realistic plugin: it answers every request
// with a JSON echo of its method, URI, headers and body (bench/internal/echo).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o echo.wasm ./bench/guests/echo
package main

import (
	"io"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/bench/internal/echo"
)

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		h := r.Header()
		names := h.Names()
		headers := make(map[string][]string, len(names))
		for _, n := range names {
			headers[n] = h.Values(n)
		}
		body, err := io.ReadAll(r.Body())
		if err != nil {
			w.WriteHeader(400)
			w.WriteString("read body: " + err.Error() + "\n")
			return
		}
		out, err := echo.Marshal(r.Method(), r.URI(), headers, body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("content-type", "application/json")
		w.Write(out)
	})
}

func main() {}
