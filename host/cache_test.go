package host_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
)

// cacheFiles lists the regular files under dir with their contents.
func cacheFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorruptCache: every way of damaging the compilation cache entries is
// detected; New still works, serves, and leaves a repaired cache behind.
func TestCorruptCache(t *testing.T) {
	wasm := wat(t, "hello")
	for _, tc := range []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"last byte cut", func(b []byte) []byte { return b[:len(b)-1] }},
		{"flipped middle", func(b []byte) []byte {
			c := bytes.Clone(b)
			for i := len(c) / 3; i < 2*len(c)/3; i++ {
				c[i] ^= 0xA5
			}
			return c
		}},
		{"garbage", func(b []byte) []byte { return bytes.Repeat([]byte{0xCC}, len(b)) }},
		// trailing junk: wazero ignores it, so it need not be repaired
		{"appended", func(b []byte) []byte { return append(bytes.Clone(b), "junk"...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()}
			load := func(step string) {
				t.Helper()
				func() {
					defer func() {
						if v := recover(); v != nil {
							t.Fatalf("%s: panicked: %v", step, v)
						}
					}()
					p, err := host.New(context.Background(), wasm, cfg)
					if err != nil {
						t.Fatalf("%s: New: %v", step, err)
					}
					defer p.Close(context.Background())
					wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
				}()
			}
			load("cold")
			orig := cacheFiles(t, dir)
			if len(orig) == 0 {
				t.Fatal("New with CacheDir wrote no cache files")
			}
			for path, b := range orig {
				if err := os.WriteFile(path, tc.corrupt(b), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			load("corrupt")
			repaired := cacheFiles(t, dir)
			if len(repaired) == 0 {
				t.Fatal("the corrupt cache was removed but not rewritten")
			}
			for path, b := range orig {
				if got, ok := repaired[path]; ok && tc.name != "appended" && bytes.Equal(got, tc.corrupt(b)) {
					t.Errorf("%s still holds the corrupt entry", path)
				}
			}
			load("repaired")
		})
	}
}

// TestCacheConcurrentCold: several loads of one plugin racing on a cold,
// shared cache directory (as a primary and its workers may) all succeed, and
// the cache they leave serves the next load.
func TestCacheConcurrentCold(t *testing.T) {
	wasm := wat(t, "hello")
	dir := t.TempDir()
	cfg := host.Config{CacheDir: dir, PoolSize: 1, Logger: quiet()}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			p, err := host.New(context.Background(), wasm, cfg)
			if err == nil {
				p.Close(context.Background())
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent cold New: %v", err)
		}
	}
	if len(cacheFiles(t, dir)) == 0 {
		t.Fatal("no cache entry written")
	}
	p := newPlugin(t, wasm, cfg)
	wantResponse(t, serve(t, p, get("/")), http.StatusOK, "hello")
}
