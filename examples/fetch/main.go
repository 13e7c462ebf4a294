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
// out is the answer being built. Both are reused: an instance serves one
// request at a time, and fewer allocations are less work for the guest's GC.
var (
	buf = make([]byte, 32<<10)
	out []byte
)

// config is the plugin config, read once: it never changes for an instance.
var config string

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		if config == "" {
			config = strings.TrimSpace(string(guest.Config()))
		}
		url := withPath(config, param(r.Query(), "path"))
		n := 1
		if v, err := strconv.Atoi(param(r.Query(), "calls")); err == nil && v >= 1 && v <= 8 {
			n = v
		}
		var calls [8]*outbound.Call
		defer func() {
			for _, c := range calls[:n] {
				if c != nil {
					c.Close()
				}
			}
		}()
		for i := range n {
			c, err := outbound.Open("GET", url)
			if err != nil {
				failed(w, err)
				return
			}
			calls[i] = c
		}
		out = out[:0]
		for _, c := range calls[:n] {
			var err error
			if out, err = fetch(out, c, url); err != nil {
				failed(w, err)
				return
			}
		}
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.Write(out)
	})
}

// fetch sends c, reads its body through buf and appends the answer's line
// to dst.
func fetch(dst []byte, c *outbound.Call, url string) ([]byte, error) {
	status, err := c.Send()
	if err != nil {
		return dst, err
	}
	var total int64
	for {
		n, err := c.Read(buf)
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, err
		}
	}
	dst = append(dst, "fetched "...)
	dst = strconv.AppendInt(dst, total, 10)
	dst = append(dst, " bytes from "...)
	dst = append(dst, url...)
	dst = append(dst, " (status "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, ")\n"...), nil
}

func failed(w guest.ResponseWriter, err error) {
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.WriteHeader(502)
	w.WriteString(err.Error() + "\n")
}

// param is the value of name in a query string ("" when absent).
func param(query, name string) string {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if k, v, _ := strings.Cut(kv, "="); k == name {
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
