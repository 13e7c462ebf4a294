// Command version answers "version <v>\n", where v is set at build time, so
// the swap benchmark can tell which plugin version served each response:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared \
//	  -ldflags='-X main.version=v2' -o v2.wasm ./bench/guests/version
package main

import "github.com/wasmcluster/wasmcluster/abi/guest"

var version = "v1"

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		w.Header().Set("content-type", "text/plain; charset=utf-8")
		w.WriteString("version " + version + "\n")
	})
}

func main() {}
