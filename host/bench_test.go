package host_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// goGuest builds testdata/<dir> as a standard-Go reactor, once per test
// binary.
func goGuest(tb testing.TB, dir string) []byte {
	tb.Helper()
	return testkit.GoWasm(tb, filepath.Join("testdata", dir))
}

// TestGoGuestHello: a standard Go guest (-buildmode=c-shared, raw ABI)
// serves, and keeps serving on reused instances.
func TestGoGuestHello(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest; skipped in -short")
	}
	p := newPlugin(t, goGuest(t, "gohello"), host.Config{PoolSize: 1})
	before := p.Stats().Instantiations
	for range 50 {
		wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
	}
	if s := p.Stats(); s.Instantiations != before || s.Traps != 0 {
		t.Errorf("stats after 50 requests: %+v (instantiations before: %d)", s, before)
	}
}

var helloBody = []byte("hello")

// nativeHello does what the hello guests do, natively.
var nativeHello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write(helloBody)
})

var (
	nativeOnce sync.Once
	nativeNs   float64
)

// nativeCost is the per-request time of nativeHello, the best of five
// rounds, measured once. (testing.Benchmark cannot be used here: it would
// wait for the benchmark lock the running benchmark holds.)
func nativeCost() float64 {
	nativeOnce.Do(func() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		const n = 100_000
		for range 5 {
			start := time.Now()
			for range n {
				nativeHello.ServeHTTP(httptest.NewRecorder(), req)
			}
			ns := float64(time.Since(start).Nanoseconds()) / n
			if nativeNs == 0 || ns < nativeNs {
				nativeNs = ns
			}
		}
	})
	return nativeNs
}

// serveLoop is the measured loop: a fresh recorder and a direct ServeHTTP
// per request, like a server's per-request work minus the network.
func serveLoop(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "hello" {
		b.Fatalf("handler answered %d %q", rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkHello compares serving "hello" natively and through the host
// with a WAT guest and a standard Go guest. Plugin sub-benchmarks also
// report added-ns/op: their ns/op minus the native handler's.
//
//	go test ./host -run '^$' -bench BenchmarkHello -benchtime 2s -count 3
func BenchmarkHello(b *testing.B) {
	guests := []struct {
		name string
		wasm func(testing.TB) []byte
	}{
		{"wat", func(tb testing.TB) []byte { return wat(tb, "hello") }},
		{"go", func(tb testing.TB) []byte { return goGuest(tb, "gohello") }},
	}
	b.Run("native", func(b *testing.B) { serveLoop(b, nativeHello) })
	for _, g := range guests {
		b.Run(g.name, func(b *testing.B) {
			p := newPlugin(b, g.wasm(b), host.Config{})
			base := nativeCost()
			inst := p.Stats().Instantiations
			serveLoop(b, p)
			b.StopTimer()
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perOp-base, "added-ns/op")
			if s := p.Stats(); s.Instantiations != inst {
				b.Errorf("%d instantiations on the hot path", s.Instantiations-inst)
			}
		})
	}
	// All cores, the pool at its default size.
	b.Run("native-parallel", func(b *testing.B) { parallelLoop(b, nativeHello) })
	for _, g := range guests {
		b.Run(g.name+"-parallel", func(b *testing.B) {
			parallelLoop(b, newPlugin(b, g.wasm(b), host.Config{}))
		})
	}
}

func parallelLoop(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// BenchmarkNew is the load cost of a plugin (compile + check + prewarm),
// in memory and with a warm on-disk compilation cache.
func BenchmarkNew(b *testing.B) {
	wasm := goGuest(b, "gohello")
	for _, tc := range []struct {
		name string
		dir  string
	}{{"no-cache", ""}, {"warm-cache", b.TempDir()}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := host.Config{CacheDir: tc.dir, PoolSize: 1, Logger: quiet()}
			if tc.dir != "" {
				newPlugin(b, wasm, cfg) // fill the cache
			}
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

// BenchmarkHelloAdded measures the host's added cost per request robustly on
// a noisy machine: batches of native and plugin requests alternate, and the
// medians of the per-batch costs are compared, so a batch that lost the CPU
// to another process does not count. One op is one pair of batches.
//
//	go test ./host -run '^$' -bench BenchmarkHelloAdded -benchtime 2000x
func BenchmarkHelloAdded(b *testing.B) {
	for _, g := range []struct {
		name string
		wasm func(testing.TB) []byte
	}{
		{"wat", func(tb testing.TB) []byte { return wat(tb, "hello") }},
		{"go", func(tb testing.TB) []byte { return goGuest(tb, "gohello") }},
	} {
		b.Run(g.name, func(b *testing.B) {
			p := newPlugin(b, g.wasm(b), host.Config{})
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			const batch = 64
			run := func(h http.Handler) float64 {
				start := time.Now()
				for range batch {
					h.ServeHTTP(httptest.NewRecorder(), req)
				}
				return float64(time.Since(start).Nanoseconds()) / batch
			}
			var native, plugin []float64
			for b.Loop() {
				native = append(native, run(nativeHello))
				plugin = append(plugin, run(p))
			}
			n, pl := median(native), median(plugin)
			b.ReportMetric(n, "native-ns/req")
			b.ReportMetric(pl, "plugin-ns/req")
			b.ReportMetric(pl-n, "added-ns/req")
		})
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSlowNext: throughput with 64 concurrent clients when next takes
// 10 ms (a typical upstream). An instance is held for the whole request,
// next included, so the pool size bounds concurrency: req/s ≈ PoolSize /
// latency. "nextonly" has no handle_response, so nothing runs on the
// instance after next.
//
//	go test ./host -run '^$' -bench BenchmarkSlowNext -benchtime 2s
func BenchmarkSlowNext(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) })
	for _, tc := range []struct {
		name string
		h    func(b *testing.B) http.Handler
	}{
		{"native", func(*testing.B) http.Handler { return next }},
		{"next", func(b *testing.B) http.Handler { return newPlugin(b, wat(b, "next"), host.Config{Next: next}) }},
		{"nextonly", func(b *testing.B) http.Handler { return newPlugin(b, wat(b, "nextonly"), host.Config{Next: next}) }},
		{"next-pool64", func(b *testing.B) http.Handler {
			return newPlugin(b, wat(b, "next"), host.Config{Next: next, PoolSize: 64})
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := tc.h(b)
			b.SetParallelism(64 / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				for pb.Next() {
					h.ServeHTTP(httptest.NewRecorder(), req)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkInterruptCost is what interrupting guests at their deadline
// costs each guest per request: wazero's goroutine per call for both, and
// for a Go guest also the exit to Go at every loop back-edge that wazero
// compiles in to check for a close (Go's runtime loops a lot per request).
func BenchmarkInterruptCost(b *testing.B) {
	for _, g := range []struct {
		name string
		wasm func(testing.TB) []byte
	}{
		{"wat", func(tb testing.TB) []byte { return wat(tb, "hello") }},
		{"go", func(tb testing.TB) []byte { return goGuest(tb, "gohello") }},
	} {
		for _, mode := range []struct {
			name string
			off  bool
		}{{"interrupt", false}, {"no-interrupt", true}} {
			b.Run(g.name+"/"+mode.name, func(b *testing.B) {
				serveLoop(b, newPlugin(b, g.wasm(b), host.Config{Uninterruptible: mode.off}))
			})
		}
	}
}
