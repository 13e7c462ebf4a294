package host_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// BenchmarkKVGuestOps is the per-request cost of one kv_* call from a
// guest (the kvcall WAT guest) against the embedded store in this process,
// next to the same request making no call ("none"): ns/op, p50 and p99.
//
//	go test ./host -run '^$' -bench KVGuestOps -benchtime 2000x
func BenchmarkKVGuestOps(b *testing.B) {
	store, _ := embeddedStore(b)
	p := newPlugin(b, wat(b, "kvcall"), host.Config{PoolSize: 1, KV: store})
	key := []byte("bench-key")
	val := []byte("a value of about forty bytes, say 40 b.")
	set := kvReq{fn: kvSet, args: []uint32{kvData, uint32(len(key)), kvData + uint32(len(key)), uint32(len(val)), 0, kvOut},
		data: append(append([]byte(nil), key...), val...)}
	ops := []struct {
		name string
		req  kvReq
	}{
		{"none", kvReq{fn: 0xff}},
		{"set", set},
		{"get", kvReq{fn: kvGet, args: []uint32{kvData, uint32(len(key)), kvOut + 8, 256, kvOut}, data: key}},
		{"incr", kvReq{fn: kvIncr, args: []uint32{kvData, 7, 1, 0, kvOut}, data: []byte("counter")}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			body := op.req.body()
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, newReq(http.MethodPost, "/", body))
				lat = append(lat, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("%s: HTTP %d", op.name, rec.Code)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
