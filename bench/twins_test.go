package bench

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/wasmcluster/wasmcluster/bench/internal/echo"
	"github.com/wasmcluster/wasmcluster/bench/internal/native"
	"github.com/wasmcluster/wasmcluster/host"
)

// TestNativeTwins checks that each native handler answers like its wasm
// guest served by package host (same status, content type and body; for
// echo the same JSON document), so the benchmark compares equal work.
func TestNativeTwins(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two Go guests; skipped with -short")
	}
	for _, plugin := range []string{"hello-wat", "hello-sdk", "echo"} {
		t.Run(plugin, func(t *testing.T) {
			p, err := host.New(context.Background(), guest(t, plugin), host.Config{Name: plugin})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			nh, err := native.Handler(plugin)
			if err != nil {
				t.Fatal(err)
			}
			wasmRec, nativeRec := httptest.NewRecorder(), httptest.NewRecorder()
			p.ServeHTTP(wasmRec, benchRequest(plugin))
			nh.ServeHTTP(nativeRec, benchRequest(plugin))
			if wasmRec.Code != nativeRec.Code {
				t.Errorf("status: wasm %d, native %d", wasmRec.Code, nativeRec.Code)
			}
			if w, n := wasmRec.Header().Get("Content-Type"), nativeRec.Header().Get("Content-Type"); w != n {
				t.Errorf("content-type: wasm %q, native %q", w, n)
			}
			if plugin != "echo" {
				if w, n := wasmRec.Body.String(), nativeRec.Body.String(); w != n {
					t.Errorf("body: wasm %q, native %q", w, n)
				}
				return
			}
			var w, n echo.Reply
			if err := json.Unmarshal(wasmRec.Body.Bytes(), &w); err != nil {
				t.Fatalf("wasm echo: %v: %s", err, wasmRec.Body)
			}
			if err := json.Unmarshal(nativeRec.Body.Bytes(), &n); err != nil {
				t.Fatalf("native echo: %v: %s", err, nativeRec.Body)
			}
			if !reflect.DeepEqual(w, n) {
				t.Errorf("echo differs:\nwasm   %+v\nnative %+v", w, n)
			}
			if w.BodyLen != 4096 || len(w.Headers) < 7 {
				t.Errorf("echo lost the request: %+v", w)
			}
		})
	}
}
