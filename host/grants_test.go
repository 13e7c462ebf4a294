package host_test

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
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

// A guest calling path_open itself, with paths no libc would clean: the
// mount's file opens, and every way out is refused with EPERM (WASI errno
// 63) — lexically by wazero, through links by the mount's os.Root check.
func TestMountRawEscapes(t *testing.T) {
	root := t.TempDir()
	mnt, outside := filepath.Join(root, "mnt"), filepath.Join(root, "outside")
	for _, d := range []string{mnt, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{
		os.WriteFile(filepath.Join(mnt, "a.txt"), []byte("in"), 0o644),
		os.WriteFile(filepath.Join(outside, "s.txt"), []byte("out"), 0o644),
		os.Symlink(outside, filepath.Join(mnt, "dirlink")),
		os.Symlink("../outside/s.txt", filepath.Join(mnt, "filelink")),
		os.Symlink("a.txt", filepath.Join(mnt, "inlink")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	const ok, eperm, enoent = 200, 400 + 63, 400 + 44
	for _, tt := range []struct {
		path string
		want int
	}{
		{"a.txt", ok},
		{"inlink", ok},
		{"./sub/../a.txt", ok}, // cleaned, stays inside
		{"missing.txt", enoent},
		{"../outside/s.txt", eperm},
		{"../../../../etc/passwd", eperm},
		{"/etc/passwd", eperm},
		{"dirlink/s.txt", eperm},
		{"filelink", eperm},
		{"dirlink/../mnt/a.txt", enoent}, // cleaned lexically to mnt/a.txt: never through the link
	} {
		p := newPlugin(t, wat(t, "pathopen"), host.Config{PoolSize: 1, GuestConfig: []byte(tt.path),
			Mounts: []host.Mount{{HostDir: mnt, GuestDir: "/mnt"}}})
		if got := serve(t, p, get("/")).Code; got != tt.want {
			t.Errorf("path_open(3, %q): status %d, want %d", tt.path, got, tt.want)
		}
	}
}
