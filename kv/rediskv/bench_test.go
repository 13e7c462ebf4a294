package rediskv_test

import (
	"testing"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/kvtest"
)

// BenchmarkStore is kv/embedded's BenchmarkStore on a redis-server started
// here, for a side-by-side comparison of the backends:
//
//	go test -run '^$' -bench BenchmarkStore -benchtime 3000x ./kv/embedded ./kv/rediskv
func BenchmarkStore(b *testing.B) {
	r := startRedis(b, testkit.FreePort(b))
	kvtest.BenchOps(b, "tcp", open(b, kv.Config{URL: r.url()}))
}
