// Command router runs a plain net/http ServeMux, with Go 1.22 path patterns,
// inside a plugin through the abi/guest/nethttp adapter.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/wasmcluster/wasmcluster/abi/guest/nethttp"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("GET /files/{path...}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "file %s\n", r.PathValue("path"))
	})
	mux.HandleFunc("POST /upper", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		w.Write([]byte(toUpper(string(b))))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "try /users/42, /files/a/b.txt, POST /upper, or /api/ (next)\n")
	})
	// Everything under /api/ goes to next: the --upstream, if any.
	mux.Handle("/api/", nethttp.Next)
	nethttp.Handle(mux)
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func main() {}
