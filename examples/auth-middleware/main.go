// Command auth-middleware is a middleware plugin: it lets a request through
// to next (wasmcluster's --upstream) only if it carries the bearer token set
// in the plugin configuration, and answers 401 otherwise.
package main

import (
	"crypto/subtle"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		token := strings.TrimSpace(string(guest.Config()))
		if token == "" {
			guest.Log(guest.LevelError, "auth-middleware: no token configured (set --plugin-config); refusing every request")
			w.WriteHeader(500)
			w.WriteString("authentication is not configured\n")
			return
		}
		got, ok := strings.CutPrefix(r.Header().Get("authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("www-authenticate", `Bearer realm="wasmcluster"`)
			w.Header().Set("content-type", "text/plain; charset=utf-8")
			w.WriteHeader(401)
			w.WriteString("unauthorized\n")
			return
		}
		// The upstream does not need the credential.
		r.Header().Del("authorization")
		r.Next()
	})
}

func main() {}
