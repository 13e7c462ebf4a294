package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkInterrupt measures what wazero's close-on-context-done costs per
// request (see RATIONALE.md "Why interrupt guests on deadline?").
func BenchmarkInterrupt(b *testing.B) {
	wasm := testkit.WATFile(b, "testdata/bench_hello.wat")
	for _, tc := range []struct {
		name        string
		noInterrupt bool
	}{{"interrupt", false}, {"no-interrupt", true}} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := New(context.Background(), wasm, Config{Uninterruptible: tc.noInterrupt})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			req := httptest.NewRequest("GET", "/", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clear(w.h)
				p.ServeHTTP(w, req)
			}
		})
	}
	b.Run("native", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(200)
			w.Write([]byte("hello"))
		})
		req := httptest.NewRequest("GET", "/", nil)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}
