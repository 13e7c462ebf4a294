package host_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestCacheUnwritable: when compiled code cannot be written to the cache
// (a full or read-only filesystem, a directory the server may not write),
// plugins still load and serve, compiled in memory, and the failure is
// warned about once, not once per load.
func TestCacheUnwritable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string // returns the cache dir
		errno syscall.Errno             // the failure the warning must name
	}{
		{"full filesystem", func(t *testing.T) string { return testkit.FullDir(t) }, syscall.ENOSPC},
		{"read-only filesystem", readOnlyFS, syscall.EROFS},
		{"read-only directory", readOnlyDir, syscall.EACCES},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			log, sink := captureLogger(slog.LevelWarn)
			cfg := host.Config{CacheDir: dir, PoolSize: 1, Logger: log}
			for i := range 3 {
				// Three versions, each new to the cache.
				wasm := testkit.WAT(t, fmt.Sprintf(swapGuest+";; v%d", i%2*5, i))
				p := newPlugin(t, wasm, cfg)
				want := map[int]string{0: "AAAAA", 1: "BBBBB"}[i%2]
				wantResponse(t, serve(t, p, get("/")), http.StatusOK, want)
			}
			if w := sink.find("cannot write"); len(w) != 1 || !w[0].has(tc.errno.Error()) {
				t.Errorf("want one warning about the unwritable cache naming %q, got %v (all logs: %v)", tc.errno.Error(), w, sink.all())
			}
		})
	}
}

// readOnlyFS is a cache dir on a tmpfs remounted read-only.
func readOnlyFS(t *testing.T) string {
	mnt := testkit.Tmpfs(t, "1m")
	dir := filepath.Join(mnt, "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	return dir
}

// readOnlyDir is a cache dir its owner may not write: only a non-root user
// sees EACCES there (root writes anyway).
func readOnlyDir(t *testing.T) string {
	if os.Geteuid() == 0 {
		t.Skip("root writes into a read-only directory; the read-only filesystem covers EROFS")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	return dir
}
