package preflight_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/plugins/internal/testwasm"
	"github.com/wasmcluster/wasmcluster/plugins/preflight"
)

func benchCheck(b *testing.B, wasm []byte, cache string, fresh bool) {
	o := opts("/")
	ctx := context.Background()
	for b.Loop() {
		if cache != "" {
			o.Host.CacheDir = cache
			if fresh {
				b.StopTimer()
				_ = os.RemoveAll(cache)
				b.StartTimer()
			}
		}
		if err := preflight.Check(ctx, wasm, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is the preflight's share of swap latency, self-test
// included: a WAT guest, and a ~1.9 MB Go guest compiled cold (a version
// never seen) or from the warm on-disk cache (a revert to a known version).
func BenchmarkCheck(b *testing.B) {
	b.Run("wat", func(b *testing.B) { benchCheck(b, testwasm.WAT(b, "good"), "", false) })
	b.Run("go-cold", func(b *testing.B) {
		benchCheck(b, testwasm.GoGuest(b, true), filepath.Join(b.TempDir(), "cache"), true)
	})
	b.Run("go-warm", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "cache")
		if err := preflight.Check(context.Background(), testwasm.GoGuest(b, true), func() preflight.Options { o := opts(""); o.Host.CacheDir = dir; return o }()); err != nil {
			b.Fatal(err)
		}
		benchCheck(b, testwasm.GoGuest(b, true), dir, false)
	})
}
