package host_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// Cached tells a version already compiled into the cache from one that is
// not.
func TestCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	wasm := wat(t, "hello")
	p, err := host.New(context.Background(), wasm, host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hash := p.Hash()
	p.Close(context.Background())
	if !host.Cached(dir, hash) {
		t.Errorf("Cached = false after loading %s", hash[:12])
	}
	other := "0000000000000000000000000000000000000000000000000000000000000000"
	if host.Cached(dir, other) || host.Cached("", hash) || host.Cached(dir, "../x") {
		t.Error("Cached = true for a version never loaded, no cache, or a bad hash")
	}
}
