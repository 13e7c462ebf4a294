// Command fetch calls the URL in its plugin config on GET / and answers
// `fetched N bytes from URL (status S)`; a refused or failed call answers
// 502 with the reason. `GET /?calls=N` (1..8) opens N calls at once, sends
// and reads each, and answers one line per call.
//
//	wasmcluster serve ./examples/fetch --plugin-config http://127.0.0.1:3000/data \
//	    --outbound-allow http://127.0.0.1:3000
package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
	"github.com/wasmcluster/wasmcluster/abi/guest/outbound"
)

// buf is the copy buffer: the body streams through it, never held whole.
var buf = make([]byte, 32<<10)

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		url := strings.TrimSpace(string(guest.Config()))
		n := callsOf(r.Query())
		calls := make([]*outbound.Call, 0, n)
		defer func() {
			for _, c := range calls {
				c.Close()
			}
		}()
		for range n {
			c, err := outbound.Open("GET", url)
			if err != nil {
				failed(w, err)
				return
			}
			calls = append(calls, c)
		}
		var out strings.Builder
		for _, c := range calls {
			line, err := fetch(c, url)
			if err != nil {
				failed(w, err)
				return
			}
			out.WriteString(line)
		}
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.WriteString(out.String())
	})
}

func fetch(c *outbound.Call, url string) (string, error) {
	status, err := c.Send()
	if err != nil {
		return "", err
	}
	var total int64
	for {
		n, err := c.Read(buf)
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return "fetched " + strconv.FormatInt(total, 10) + " bytes from " + url + " (status " + strconv.Itoa(status) + ")\n", nil
}

func failed(w guest.ResponseWriter, err error) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.WriteHeader(502)
	w.WriteString(err.Error() + "\n")
}

// callsOf reads calls=N from the query (1..8; default 1).
func callsOf(query string) int {
	for _, kv := range strings.Split(query, "&") {
		if v, ok := strings.CutPrefix(kv, "calls="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 8 {
				return n
			}
		}
	}
	return 1
}

// main is required by Go but never runs in a plugin.
func main() {}
