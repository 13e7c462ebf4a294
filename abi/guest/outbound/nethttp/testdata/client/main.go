// Command client is a test plugin: net/http's Client over
// nethttp.Transport, unchanged. It POSTs "ping" to the URL in its config
// (or GETs ?url=…) and answers what came back.
package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/abi/guest/outbound/nethttp"
)

var client = &http.Client{Transport: nethttp.Transport{}}

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		var resp *http.Response
		var err error
		if u, ok := strings.CutPrefix(r.Query(), "url="); ok {
			resp, err = client.Get(u)
		} else {
			resp, err = client.Post(string(guest.Config()), "text/plain", strings.NewReader("ping"))
		}
		if err != nil {
			w.WriteHeader(502)
			w.WriteString(err.Error())
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			w.WriteHeader(502)
			w.WriteString("body: " + err.Error())
			return
		}
		fmt.Fprintf(w, "status=%d ct=%s x=%s body=%s", resp.StatusCode, resp.Header.Get("Content-Type"),
			strings.Join(resp.Header.Values("X-Multi"), ","), b)
	})
}

func main() {}
