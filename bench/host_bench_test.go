package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/http-wasm/http-wasm-host-go/handler"
	wasm "github.com/http-wasm/http-wasm-host-go/handler/nethttp"
	"github.com/tetratelabs/wazero"

	"github.com/wasmcluster/wasmcluster/bench/internal/native"
	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// Per-request cost of serving a plugin with package host, without the
// network: the same request through host.Plugin.ServeHTTP, through the
// reference host's middleware (http-wasm-host-go v0.7.0) and through a
// native handler doing the same work. Profile with
//
//	go test ./bench -run '^$' -bench HostServe -cpuprofile cpu.out
//	go tool pprof -top bench.test cpu.out

// guest returns a benchmark plugin, built once per test binary.
func guest(tb testing.TB, plugin string) []byte {
	tb.Helper()
	switch plugin {
	case "hello-wat":
		return testkit.WATFile(tb, "guests/hello.wat")
	case "hello-sdk":
		return testkit.GoWasm(tb, "../examples/hello")
	case "echo":
		return testkit.GoWasm(tb, "guests/echo")
	}
	tb.Fatalf("no benchmark plugin %q", plugin)
	return nil
}

// benchRequest makes the request of each plugin's mix (see benchrun's wrk
// scripts): GET for the hellos, a 4 KiB POST with browser-ish headers for echo.
func benchRequest(plugin string) *http.Request {
	if plugin != "echo" {
		return httptest.NewRequest(http.MethodGet, "/bench?q=1", nil)
	}
	body := strings.Repeat("0123456789abcdef", 256)
	r := httptest.NewRequest(http.MethodPost, "/bench?q=1", strings.NewReader(body))
	for k, v := range map[string]string{
		"Content-Type": "application/octet-stream", "Accept": "application/json",
		"User-Agent": "wasmcluster-bench/1", "X-Request-Id": "0f8fad5b-d9cb-469f-a165-70867728950e",
		"X-Forwarded-For": "203.0.113.7", "Accept-Encoding": "identity", "Cookie": "session=abc123; theme=dark",
	} {
		r.Header.Set(k, v)
	}
	return r
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func serveLoop(b *testing.B, h http.Handler, plugin string) {
	body := []byte(nil)
	if plugin == "echo" {
		body = []byte(strings.Repeat("0123456789abcdef", 256))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := benchRequest(plugin)
		for pb.Next() {
			clear(w.h)
			if body != nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			h.ServeHTTP(w, r)
		}
	})
}

func BenchmarkHostServe(b *testing.B) {
	for _, plugin := range []string{"hello-wat", "hello-sdk", "echo"} {
		b.Run(plugin+"/native", func(b *testing.B) {
			h, err := native.Handler(plugin)
			if err != nil {
				b.Fatal(err)
			}
			serveLoop(b, h, plugin)
		})
		// Compile once, outside b.Run: its body runs several times while
		// the benchmark calibrates N, and compiling a Go guest takes ~1 s.
		code := guest(b, plugin)
		p, err := host.New(context.Background(), code, host.Config{Name: plugin})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(context.Background())
		// Check the answer once, so a broken plugin cannot look fast.
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, benchRequest(plugin))
		if rec.Code != http.StatusOK {
			b.Fatalf("plugin %s answered %d: %s", plugin, rec.Code, rec.Body)
		}
		b.Run(plugin+"/refhost", func(b *testing.B) {
			mc := wazero.NewModuleConfig().WithStartFunctions("_initialize").WithSysWalltime().WithSysNanotime()
			mw, err := wasm.NewMiddleware(context.Background(), code, handler.ModuleConfig(mc))
			if err != nil {
				b.Fatal(err)
			}
			defer mw.Close(context.Background())
			serveLoop(b, mw.NewHandler(context.Background(), http.NotFoundHandler()), plugin)
		})
		b.Run(plugin+"/host", func(b *testing.B) {
			serveLoop(b, p, plugin)
		})
		// The same guest with plugin.interrupt = false: no per-call
		// goroutine and no termination checks in the guest's code.
		fast, err := host.New(context.Background(), code, host.Config{Name: plugin, Uninterruptible: true})
		if err != nil {
			b.Fatal(err)
		}
		defer fast.Close(context.Background())
		b.Run(plugin+"/host-nointerrupt", func(b *testing.B) {
			serveLoop(b, fast, plugin)
		})
	}
}

// BenchmarkHostNew is the load cost behind cold start: host.New of the SDK
// hello guest with a warm on-disk compilation cache (compile from cache,
// checks, pool prewarm).
func BenchmarkHostNew(b *testing.B) {
	for _, plugin := range []string{"hello-wat", "hello-sdk"} {
		code := guest(b, plugin)
		cfg := host.Config{Name: plugin, CacheDir: b.TempDir()}
		p, err := host.New(context.Background(), code, cfg) // fills the cache
		if err != nil {
			b.Fatal(err)
		}
		p.Close(context.Background())
		b.Run(plugin+"/warm-cache", func(b *testing.B) {
			for b.Loop() {
				p, err := host.New(context.Background(), code, cfg)
				if err != nil {
					b.Fatal(err)
				}
				p.Close(context.Background())
			}
		})
	}
}
