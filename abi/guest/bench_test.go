package guest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The same hello handler four ways: the bare ABI in Go (the baseline), the
// SDK, the net/http adapter, and WAT. Each does one set_header_value and one
// write_body per request.
var helloGuests = []struct{ name, dir string }{
	{"raw", "testdata/raw"},
	{"sdk", "../../examples/hello"},
	{"nethttp", "testdata/nethttp-hello"},
}

func helloWasm(b *testing.B, name, dir string) []byte {
	if name != "wat" {
		return guestWasm(b, dir)
	}
	return testkit.WATFile(b, "../../examples/wat-hello/hello.wat")
}

// BenchmarkHello is the per-request cost through the host, in process
// (ServeHTTP on a recorder: no sockets), one goroutine.
//
//	go test -run '^$' -bench Hello -benchmem ./abi/guest/
func BenchmarkHello(b *testing.B) {
	for _, g := range append(helloGuests, struct{ name, dir string }{"wat", ""}) {
		b.Run(g.name, func(b *testing.B) {
			wasm := helloWasm(b, g.name, g.dir)
			p := newPlugin(b, wasm, host.Config{PoolSize: 1})
			req := httptest.NewRequest("GET", "/hello", nil)
			// Warm up: a Go guest's heap grows for its first few thousand
			// requests (memory.grow, first GC); measure the steady state.
			for range 5000 {
				p.ServeHTTP(httptest.NewRecorder(), req)
			}
			b.ReportMetric(float64(len(wasm)), "module-bytes")
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkLoad is host.New with one instance and a warm compilation cache:
// what a worker pays to start serving a module (cache read + instantiate +
// _initialize).
//
//	go test -run '^$' -bench Load -benchmem ./abi/guest/
func BenchmarkLoad(b *testing.B) {
	for _, g := range append(helloGuests, struct{ name, dir string }{"wat", ""}) {
		b.Run(g.name, func(b *testing.B) {
			wasm := helloWasm(b, g.name, g.dir)
			cfg := host.Config{PoolSize: 1, CacheDir: b.TempDir()}
			p := newPlugin(b, wasm, cfg) // warms the cache
			p.Close(context.Background())
			cfg.Logger = nil
			b.ResetTimer()
			for b.Loop() {
				p, err := host.New(context.Background(), wasm, cfg)
				if err != nil {
					b.Fatal(err)
				}
				p.Close(context.Background())
			}
		})
	}
}

// BenchmarkGuestAlloc is the cost of n small allocations inside a Go guest
// (in steady state, after warm-up), which dominates handlers that allocate,
// such as the net/http adapter.
//
//	go test -run '^$' -bench GuestAlloc ./abi/guest/
func BenchmarkGuestAlloc(b *testing.B) {
	p := newPlugin(b, guestWasm(b, sdkGuest), host.Config{PoolSize: 1})
	for _, n := range []string{"0", "10", "100"} {
		b.Run(n, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/alloc?"+n, nil)
			for range 3000 {
				p.ServeHTTP(httptest.NewRecorder(), req)
			}
			b.ResetTimer()
			for b.Loop() {
				p.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// BenchmarkSDKOverhead serves raw and SDK hello alternately in one loop, so
// both see the same machine load, and reports SDK time / raw time: the
// SDK's per-request overhead (target <= 1.2).
//
//	go test -run '^$' -bench SDKOverhead ./abi/guest/
func BenchmarkSDKOverhead(b *testing.B) {
	for _, other := range []struct{ name, dir string }{
		{"sdk", "../../examples/hello"},
		{"nethttp", "testdata/nethttp-hello"},
	} {
		b.Run(other.name, func(b *testing.B) {
			raw := newPlugin(b, guestWasm(b, "testdata/raw"), host.Config{PoolSize: 1})
			sdk := newPlugin(b, guestWasm(b, other.dir), host.Config{PoolSize: 1})
			req := httptest.NewRequest("GET", "/hello", nil)
			for range 5000 {
				raw.ServeHTTP(httptest.NewRecorder(), req)
				sdk.ServeHTTP(httptest.NewRecorder(), req)
			}
			// Per-request times; low percentiles filter out the noise of a
			// shared machine, which hits both sides alike.
			var raws, sdks []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				raw.ServeHTTP(httptest.NewRecorder(), req)
				t1 := time.Now()
				sdk.ServeHTTP(httptest.NewRecorder(), req)
				t2 := time.Now()
				raws = append(raws, t1.Sub(t0))
				sdks = append(sdks, t2.Sub(t1))
			}
			b.StopTimer()
			slices.Sort(raws)
			slices.Sort(sdks)
			pct := func(d []time.Duration, p int) float64 { return float64(d[len(d)*p/100]) }
			b.ReportMetric(pct(raws, 10), "raw-p10-ns")
			b.ReportMetric(pct(sdks, 10), other.name+"-p10-ns")
			b.ReportMetric(pct(sdks, 10)/pct(raws, 10), other.name+"/raw-p10")
			b.ReportMetric(pct(sdks, 50)/pct(raws, 50), other.name+"/raw-p50")
		})
	}
}
