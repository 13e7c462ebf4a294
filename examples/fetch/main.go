// Command fetch calls the URL in its plugin config on GET / and answers
// `fetched N bytes from URL (status S)`; a refused or failed call answers
// 502 with the reason. `GET /?calls=N` (1..8) opens N calls at once, sends
// and reads each, and answers one line per call; `?path=/p` calls /p on the
// configured URL's host instead of its own path (the host stays the
// operator's).
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
		url := withPath(strings.TrimSpace(string(guest.Config())), param(r.Query(), "path"))
		n := 1
		if v, err := strconv.Atoi(param(r.Query(), "calls")); err == nil && v >= 1 && v <= 8 {
			n = v
		}
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

// param is the value of name in a query string ("" when absent).
func param(query, name string) string {
	for _, kv := range strings.Split(query, "&") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// withPath replaces what follows the host in url by path, when path
// starts with "/".
func withPath(url, path string) string {
	if !strings.HasPrefix(path, "/") {
		return url
	}
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + path
}

// main is required by Go but never runs in a plugin.
func main() {}
