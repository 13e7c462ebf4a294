// Command auth-middleware is a middleware plugin: it lets a request through
// to next (wasmcluster's --upstream) only if it carries the token set in
// the plugin configuration, and answers 401 otherwise.
//
// The token comes in "Authorization: Bearer <token>" or, for clients that
// cannot set headers (a browser's WebSocket), in the query as ?token=. A
// WebSocket handshake that passes goes on to the upstream and is relayed
// both ways; one that does not gets the 401 and is never upgraded.
package main

import (
	"crypto/subtle"
	"net/url"
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
		got, fromQuery := credential(r)
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("www-authenticate", `Bearer realm="wasmcluster"`)
			w.Header().Set("content-type", "text/plain; charset=utf-8")
			w.WriteHeader(401)
			w.WriteString("unauthorized\n")
			return
		}
		// The upstream does not need the credential.
		r.Header().Del("authorization")
		if fromQuery {
			q, _ := url.ParseQuery(r.Query())
			q.Del("token")
			uri := r.Path()
			if enc := q.Encode(); enc != "" {
				uri += "?" + enc
			}
			r.SetURI(uri)
		}
		r.Next()
	})
}

// credential is the request's token: the bearer token if there is an
// Authorization header, else the query's token parameter.
func credential(r *guest.Request) (token string, fromQuery bool) {
	if h := r.Header().Get("authorization"); h != "" {
		t, _ := strings.CutPrefix(h, "Bearer ")
		if t == h {
			return "", false // another scheme
		}
		return t, false
	}
	q, err := url.ParseQuery(r.Query())
	if err != nil {
		return "", false
	}
	return q.Get("token"), q.Has("token")
}

func main() {}
