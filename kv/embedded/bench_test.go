package embedded_test

import (
	"context"
	"testing"

	"github.com/wasmcluster/wasmcluster/kv"
	"github.com/wasmcluster/wasmcluster/kv/embedded"
	"github.com/wasmcluster/wasmcluster/kv/kvtest"
)

// BenchmarkStore measures one store call at a time on the embedded server,
// for a worker's client (loopback TCP) and --workers 0's (in-process),
// reporting the median and 99th percentile besides the mean:
//
//	go test -run '^$' -bench BenchmarkStore -benchtime 3000x ./kv/embedded
func BenchmarkStore(b *testing.B) {
	srv, err := embedded.Start(context.Background(), embedded.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	for _, client := range []struct {
		name string
		cfg  kv.Config
	}{
		{"tcp", srv.WorkerConfig(kv.Config{})},
		{"inprocess", srv.InProcessConfig(kv.Config{})},
	} {
		st := open(b, client.cfg)
		defer st.Close()
		kvtest.BenchOps(b, client.name, st)
	}
}
