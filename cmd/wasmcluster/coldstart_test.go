package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A plugin that traps on every request. With plugin.preflight_path the
// cold start refuses it: exit 1 naming the path and the trap, cold cache
// or warm (the check then runs beside the first worker). Without it, no
// synthetic request is sent: the plugin loads, so it serves, and every
// request is answered 500.
func TestRequestTrapAtColdStart(t *testing.T) {
	plugin := wat(t, "reqtrap")
	cache := filepath.Join(t.TempDir(), "cache")
	args := []string{"serve", plugin, "--listen", "127.0.0.1:0", "--workers", "2", "--cache-dir", cache,
		"--control", "-", "--admin", "off"}
	for run := 1; run <= 2; run++ {
		start := time.Now()
		r := runBin(t, nil, append(args, "--plugin-preflight-path", "/health")...)
		t.Logf("run %d: exit %d after %v", run, r.code, time.Since(start).Round(time.Millisecond))
		// The exit message itself names both, not only a log line before it.
		if r.code != 1 || !strings.Contains(r.stderr, "\nwasmcluster: plugin "+plugin+": preflight self-test: GET /health answered 500") ||
			!strings.Contains(r.stderr, "the plugin failed: wasm error: unreachable\n") {
			t.Fatalf("run %d with preflight_path: exit %d, want 1 naming the path and the trap; stderr:\n%s", run, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "worker ready") {
			t.Fatalf("run %d: a worker became ready:\n%s", run, r.stderr)
		}
	}

	s := startServe(t, nil, args[1:]...)
	for range 3 {
		resp, err := http.Get("http://" + s.Addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("without preflight_path: %d %s, want 500 (plugin failed)", resp.StatusCode, body)
		}
	}
}

// A plugin that takes its worker down at start: with plugin.interrupt off,
// a self-test request that spins can only end with its process (the
// primary does not run it itself, it could never stop it), so every worker
// exits at start. The cold start then exits 1 with the workers' reason
// instead of crash-looping for ever with the port open.
func TestWorkerCrashAtColdStart(t *testing.T) {
	plugin := wat(t, "spin")
	start := time.Now()
	r := runBin(t, nil, "serve", plugin, "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-", "--admin", "off",
		"--plugin-interrupt=false", "--request-timeout", "300ms", "--plugin-preflight-path", "/health")
	t.Logf("exit %d after %v", r.code, time.Since(start).Round(time.Millisecond))
	if r.code != 1 || !strings.Contains(r.stderr, "no worker became ready") || !strings.Contains(r.stderr, "5 times in a row") {
		t.Fatalf("exit %d, want 1 with \"no worker became ready\" after 5 failures; stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "worker ready") {
		t.Fatalf("a worker became ready:\n%s", r.stderr)
	}
}
