// Command echo answers every request with what it received, as JSON:
// method, URI, protocol, client address, headers and body.
package main

import (
	"encoding/json"
	"io"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

// maxBody bounds what is echoed; the rest is counted, not kept.
const maxBody = 1 << 20

type echo struct {
	Method     string              `json:"method"`
	URI        string              `json:"uri"`
	Proto      string              `json:"proto"`
	RemoteAddr string              `json:"remote_addr"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	BodyLen    int64               `json:"body_len"`
}

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		e := echo{
			Method:     r.Method(),
			URI:        r.URI(),
			Proto:      r.Proto(),
			RemoteAddr: r.RemoteAddr(),
			Headers:    map[string][]string{},
		}
		for _, name := range r.Header().Names() {
			e.Headers[name] = r.Header().Values(name)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body(), maxBody))
		if err != nil {
			w.WriteHeader(400)
			w.WriteString("reading body: " + err.Error() + "\n")
			return
		}
		rest, _ := io.Copy(io.Discard, r.Body())
		e.Body, e.BodyLen = string(body), int64(len(body))+rest

		out, _ := json.MarshalIndent(e, "", "  ")
		w.Header().Set("content-type", "application/json")
		w.Write(append(out, '\n'))
	})
}

func main() {}
