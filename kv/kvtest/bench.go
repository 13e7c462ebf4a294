package kvtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/kv"
)

// BenchOps runs get, set and incr on st one call at a time, as
// sub-benchmarks named name/op, reporting each op's median and 99th
// percentile in µs besides the mean: the backends' side-by-side figure.
func BenchOps(b *testing.B, name string, st kv.Store) {
	ctx := context.Background()
	value := make([]byte, 100)
	if _, err := st.Set(ctx, []byte("bench/get"), value, 0); err != nil {
		b.Fatal(err)
	}
	ops := map[string]func(i int) error{
		"get": func(int) error { _, _, err := st.Get(ctx, []byte("bench/get")); return err },
		"set": func(i int) error {
			_, err := st.Set(ctx, fmt.Appendf(nil, "bench/set/%d", i%1000), value, 0)
			return err
		},
		"incr": func(int) error { _, err := st.Incr(ctx, []byte("bench/incr"), 1, 0); return err },
	}
	for _, op := range []string{"get", "set", "incr"} {
		b.Run(name+"/"+op, func(b *testing.B) { measure(b, ops[op]) })
	}
}

// measure runs op b.N times and reports p50 and p99 in µs.
func measure(b *testing.B, op func(i int) error) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
