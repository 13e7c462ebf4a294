// Command nethttp exercises the net/http adapter for the package's tests.
package main

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"github.com/wasmcluster/wasmcluster/abi/guest/nethttp"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /req/{name}", func(w http.ResponseWriter, r *http.Request) {
		// What the adapter put in the *http.Request.
		fmt.Fprintf(w, "method=%s uri=%s path=%s query=%s name=%s proto=%s major=%d host=%s remote=%t cl=%d\n",
			r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.PathValue("name"), r.Proto, r.ProtoMajor,
			r.Host, strings.HasPrefix(r.RemoteAddr, "127.0.0.1:"), r.ContentLength)
		fmt.Fprintf(w, "x-multi=%s\n", strings.Join(r.Header.Values("X-Multi"), ","))
		_, hasHost := r.Header["Host"]
		fmt.Fprintf(w, "host-header=%t\n", hasHost)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Out", "a")
		w.Header().Add("X-Out", "b")
		w.WriteHeader(http.StatusTeapot)
		w.Header().Set("X-Too-Late", "1") // ignored, as in net/http
		io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("GET /sniff", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!DOCTYPE html><html></html>"))
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Only-Headers", "1")
	})
	mux.HandleFunc("POST /copy", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(w, r.Body)
		w.Header().Set(http.TrailerPrefix+"X-Copied", fmt.Sprint(n))
	})
	mux.HandleFunc("GET /to-next/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Before-Next", "1")
		nethttp.Next.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /mallocs/{id}", func(w http.ResponseWriter, r *http.Request) {
		// The guest's cumulative allocation count: consecutive requests
		// differ by what one request costs through the adapter.
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Mallocs", strconv.FormatUint(ms.Mallocs, 10))
		io.WriteString(w, "hello from wasm\n")
	})
	nethttp.Handle(mux)
}

var ms runtime.MemStats

func main() {}
