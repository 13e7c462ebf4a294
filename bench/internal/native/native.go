package native

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wasmcluster/wasmcluster/bench/internal/echo"
)

// Handler returns the native twin of each benchmark plugin: same status,
// headers and body bytes as the wasm guest.
func Handler(plugin string) (http.Handler, error) {
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
