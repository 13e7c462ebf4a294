// Command grants shows a test what a plugin sees of its grants: its whole
// environment, and what reading or writing a path gives.
package main

import (
	"net/url"
	"os"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		arg, _ := url.QueryUnescape(r.Query())
		switch r.Path() {
		case "/env":
			w.WriteString(strings.Join(os.Environ(), "\n"))
		case "/read":
			b, err := os.ReadFile(arg)
			if err != nil {
				w.WriteHeader(403)
				w.WriteString("error: " + err.Error())
				return
			}
			w.Write(b)
		case "/write":
			if err := os.WriteFile(arg, []byte("written by the guest"), 0o644); err != nil {
				w.WriteHeader(403)
				w.WriteString("error: " + err.Error())
				return
			}
			w.WriteString("ok")
		case "/list":
			ents, err := os.ReadDir(arg)
			if err != nil {
				w.WriteHeader(403)
				w.WriteString("error: " + err.Error())
				return
			}
			for _, e := range ents {
				w.WriteString(e.Name() + "\n")
			}
		default:
			w.WriteHeader(404)
		}
	})
}

func main() {}
