// Command tck re-implements, with the guest SDK, the behaviour of the
// http-wasm conformance kit's guest (the module tck.GuestWASM that
// github.com/http-wasm/http-wasm-host-go/tck.Run drives): each request names
// a test case in x-httpwasm-tck-testid; the guest checks what it can see
// itself and fails with a 500 plus x-httpwasm-tck-failed, or changes the
// request and passes it to next (tck.BackendHandler), which echoes what it
// received for the runner to check.
package main

import (
	"bytes"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

func init() {
	guest.EnableFeatures(guest.FeatureBufferRequest | guest.FeatureBufferResponse | guest.FeatureTrailers)
	guest.HandleFunc(serve)
}

func main() {}

func serve(w guest.ResponseWriter, r *guest.Request) {
	id := r.Header().Get("x-httpwasm-tck-testid")
	if id == "" { // a client error (the kit's guest answers 500)
		w.WriteHeader(400)
		w.WriteString("missing x-httpwasm-tck-testid header")
		return
	}
	defer w.Header().Set("x-httpwasm-tck-handled", "1")

	fn, arg, _ := strings.Cut(id, "/")
	switch fn {
	case "get_protocol_version":
		w.WriteString(r.Proto())
	case "get_method":
		expect(w, "get_method", arg, r.Method())
	case "set_method":
		r.SetMethod("POST")
		r.Next()
	case "get_uri":
		expect(w, "get_uri", uriCases[arg], r.URI())
	case "set_uri":
		r.SetURI(uriCases[arg])
		r.Next()
	case "get_header_values":
		headerValues(w, r, strings.TrimPrefix(arg, "request/"))
	case "get_header_names":
		headerNames(w, r)
	case "set_header_value":
		r.Header().Set(headerFor(arg), "value")
		r.Next()
	case "add_header_value":
		r.Header().Add(headerFor(arg), "value")
		r.Next()
	case "remove_header":
		r.Header().Del(headerFor(arg))
		r.Next()
	case "read_body":
		readBody(w, r, strings.TrimPrefix(arg, "request/"))
	case "get_source_addr":
		if _, err := netip.ParseAddrPort(r.RemoteAddr()); err != nil {
			fail(w, "get_source_addr: "+err.Error())
		}
	default:
		fail(w, "unknown x-httpwasm-tck-testid "+id)
	}
}

var uriCases = map[string]string{
	"simple":          "/simple",
	"simple/escaping": "/simple%26clean",
	"query":           "/animal?name=panda",
	"query/escaping":  "/disney?name=chip%26dale",
}

// headerFor maps "request/new" and "request/existing" to the header name.
func headerFor(arg string) string {
	if strings.HasSuffix(arg, "/new") {
		return "new-header"
	}
	return "existing-header"
}

func headerValues(w guest.ResponseWriter, r *guest.Request, c string) {
	var name string
	var want []string
	switch c {
	case "lowercase-key":
		name, want = "single-header", []string{"value"}
	case "mixedcase-key":
		name, want = "Single-Header", []string{"value"}
	case "not-exists":
		name = "not-header"
	case "multiple-values":
		name, want = "multi-header", []string{"value1", "value2"}
	default:
		fail(w, "unknown get_header_values case "+c)
		return
	}
	have := r.Header().Values(name)
	if strings.Join(have, "\x00") != strings.Join(want, "\x00") || len(have) != len(want) {
		fail(w, "get_header_values: want "+strconv.Quote(strings.Join(want, ","))+", have "+strconv.Quote(strings.Join(have, ",")))
	}
}

func headerNames(w guest.ResponseWriter, r *guest.Request) {
	have := r.Header().Names()
	for _, want := range []string{"a-header", "b-header"} {
		found := false
		for _, h := range have {
			found = found || h == want
		}
		if !found {
			fail(w, "get_header_names: "+want+" not in "+strings.Join(have, ","))
			return
		}
	}
}

var bodySizes = map[string]int{"empty": 0, "small": 5, "medium": 2048, "large": 4096, "xlarge": 5000}

func readBody(w guest.ResponseWriter, r *guest.Request, c string) {
	size, ok := bodySizes[c]
	if !ok {
		fail(w, "unknown read_body case "+c)
		return
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r.Body()); err != nil {
		fail(w, "read_body: "+err.Error())
		return
	}
	if want := strings.Repeat("a", size); buf.String() != want {
		fail(w, "read_body: want "+strconv.Itoa(size)+" bytes of 'a', have "+strconv.Itoa(buf.Len()))
	}
}

func expect(w guest.ResponseWriter, what, want, have string) {
	if want != have {
		fail(w, what+": want "+strconv.Quote(want)+", have "+strconv.Quote(have))
	}
}

func fail(w guest.ResponseWriter, msg string) {
	w.WriteHeader(500)
	w.Header().Set("x-httpwasm-tck-failed", msg)
}
