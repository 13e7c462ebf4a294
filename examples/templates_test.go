package examples_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// The templates example, served in process with the README's grants as
// host.Config (warming the compilation cache), then through the binary
// with them as flags; then without the mount, which it explains in a 500.
func TestTemplates(t *testing.T) {
	wasmPath := example(t, "templates")
	tmpl, err := filepath.Abs(filepath.Join("templates", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, base string) {
		resp, body := do(t, "GET", base+"/hello<b>", "")
		if resp.StatusCode != 200 || !strings.Contains(body, "<h1>Welcome to My site</h1>") ||
			!strings.Contains(body, "<code>/hello%3Cb%3E</code>") && !strings.Contains(body, "<code>/hello&lt;b&gt;</code>") ||
			resp.Header.Get("content-type") != "text/html; charset=utf-8" {
			t.Errorf("got %d %v\n%s", resp.StatusCode, resp.Header, body)
		}
	}
	t.Run("host", func(t *testing.T) {
		check(t, serveWithGrants(t, wasmPath, host.Config{
			Env:    []host.EnvVar{{Name: "SITE_NAME", Value: "My site"}},
			Mounts: []host.Mount{{HostDir: tmpl, GuestDir: "/templates"}},
		}))
	})
	t.Run("binary", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts the wasmcluster binary")
		}
		cmd := exec.Command(testkit.Wasmcluster(t), "serve", wasmPath, "--listen", "127.0.0.1:0", "--log-format", "json",
			"--cache-dir", filepath.Join(testkit.Dir(t), "cache"), "--workers", "1", "--control", "-", "--plugin-pool-size", "1",
			"--plugin-mounts", tmpl+":/templates", "--plugin-env", "SITE_NAME")
		cmd.Env = testkit.Env(t, "SITE_NAME=My site")
		check(t, testkit.Start(t, cmd).URL())
	})
	t.Run("no mount", func(t *testing.T) {
		resp, body := do(t, "GET", serveWithGrants(t, wasmPath, host.Config{})+"/", "")
		if resp.StatusCode != 500 || !strings.Contains(body, "mount a directory at /templates") {
			t.Errorf("without the mount: %d %q", resp.StatusCode, body)
		}
	})
}

// serveWithGrants serves wasmPath in process with cfg's grants.
func serveWithGrants(t *testing.T, wasmPath string, cfg host.Config) string {
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.PoolSize, cfg.Logger = 1, slog.New(slog.DiscardHandler)
	cfg.CacheDir = filepath.Join(testkit.Dir(t), "cache") // shared with the binary: compiled once
	p, err := host.New(ctx, wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}
