package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// countInits counts the "guest initialized" lines initlog.wat writes, once
// per instance.
func countInits(log string) int { return strings.Count(log, "guest initialized") }

// With --workers 0 the plugin preflight loaded is the one that serves: each
// version is instantiated once, not once for preflight and again to serve.
// A SIGHUP to a new version does the same.
func TestInProcessLoadsOnce(t *testing.T) {
	plugin := wat(t, "initlog")
	s := startServe(t, nil, plugin, "--listen", "127.0.0.1:0", "--workers", "0", "--plugin-pool-size", "1",
		"--control", "-", "--admin", "off")
	c := &http.Client{Timeout: 10 * time.Second}
	if resp, body := get(t, c, s.URL()); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	if n := countInits(s.Log.String()); n != 1 {
		t.Fatalf("%d instances initialized for one version with pool size 1, want 1 (preflight's is served):\n%s", n, s.Log)
	}

	// A new version (the same module plus a custom section) on SIGHUP.
	b, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, 0x00, 0x06, 0x04, 'v', 'e', 'r', '2', 0x01)
	if err := os.WriteFile(plugin, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	testkit.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(s.Log.String(), "reloaded in-process") {
			return fmt.Errorf("no reload:\n%s", s.Log)
		}
		return nil
	})
	if resp, body := get(t, c, s.URL()); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("GET after reload: %d %q", resp.StatusCode, body)
	}
	if n := countInits(s.Log.String()); n != 2 {
		t.Fatalf("%d instances initialized for two versions with pool size 1, want 2:\n%s", n, s.Log)
	}
}
