package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// A cache dir other users can write is refused at startup, with the path
// and the fix: code compiled into it would run as the server.
func TestCacheDirOthersCanWrite(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, nil, "serve", wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "1",
		"--cache-dir", cache, "--control", "-", "--admin", "off")
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if want := "unsafe compilation cache: " + cache + " is writable by group or others"; !strings.Contains(r.stderr, want) ||
		!strings.Contains(r.stderr, "chmod -R go-w "+cache) {
		t.Errorf("stderr lacks %q and the chmod fix:\n%s", want, r.stderr)
	}
}

// A full cache disk does not stop a server from starting and serving: the
// plugin is compiled in memory, with a warning.
func TestCacheDiskFull(t *testing.T) {
	cache := testkit.FullDir(t)
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "1",
		"--cache-dir", cache, "--control", "-", "--admin", "off")
	c := &http.Client{Timeout: 10 * time.Second}
	if resp, body := get(t, c, s.URL()); resp.StatusCode != http.StatusOK || body != "hello from wat\n" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(s.Log.String(), "no space left on device") {
		t.Errorf("no warning naming the full disk:\n%s", s.Log)
	}
	if !strings.Contains(s.Log.String(), "keeping snapshots in a temporary directory") {
		t.Errorf("no warning that snapshots moved off the full disk:\n%s", s.Log)
	}
}
