package host_test

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// Grants are instantiate-time configuration: loading the same module with
// other grants reuses its compiled code, writing nothing new in the cache.
func TestGrantsKeepCacheKey(t *testing.T) {
	wasm := wat(t, "hello")
	dir := t.TempDir()
	p := newPlugin(t, wasm, host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()})
	p.Close(context.Background())
	before := cacheFiles(t, dir)
	if len(before) == 0 {
		t.Fatal("the first load wrote no cache entry")
	}
	p = newPlugin(t, wasm, host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet(),
		Env:    []host.EnvVar{{Name: "SITE_NAME", Value: "x"}},
		Mounts: []host.Mount{{HostDir: t.TempDir(), GuestDir: "/data", Writable: true}}})
	wantResponse(t, serve(t, p, get("/")), 200, "hello")
	if after := cacheFiles(t, dir); !maps.EqualFunc(before, after, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Errorf("loading with grants changed the cache: %d files before, %d after", len(before), len(after))
	}
}

// A mount whose directory is missing fails the load, naming the path.
func TestMountMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	_, err := host.New(context.Background(), wat(t, "hello"), host.Config{PoolSize: 1, Logger: quiet(),
		Mounts: []host.Mount{{HostDir: missing, GuestDir: "/data"}}})
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("load with a missing mount: %v; want an error naming %s", err, missing)
	}
}
