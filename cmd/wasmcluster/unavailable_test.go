package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// primary503s is wasmcluster_requests_total{worker="primary"} by code and
// class, and the worker label of every series of the family.
func primary503s(fams map[string]*dto.MetricFamily) (map[string]int, map[string]bool) {
	got, workers := map[string]int{}, map[string]bool{}
	for _, m := range fams["wasmcluster_requests_total"].GetMetric() {
		workers[label(m, "worker")] = true
		if label(m, "worker") == "primary" {
			got[label(m, "code")+" "+label(m, "class")] += int(m.GetCounter().GetValue())
		}
	}
	return got, workers
}

// TestPrimaryUnavailableCounted: after a good start the snapshot store is
// wiped (a cache cleaner) and the only worker is killed: its respawns
// cannot load the plugin, so the primary answers 503 itself. /metrics
// counts exactly the 503s the client saw, as requests of worker "primary".
func TestPrimaryUnavailableCounted(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	s := startServe(t, nil, wat(t, "hello"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--admin", "127.0.0.1:0", "--cache-dir", cache)
	admin := adminAddr(t, s)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (int, string) {
		resp, err := c.Get(s.URL())
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code, _ := get(); code != 200 {
		t.Fatalf("before the fault: %d, want 200", code)
	}
	// Workers report in heartbeats (every second): wait for the 200.
	testkit.Eventually(t, 15*time.Second, func() error {
		fams := scrape(t, admin)
		if got, _ := primary503s(fams); len(got) != 0 {
			t.Fatalf("primary 503s counted before any: %v", got)
		}
		if byCode, _ := requestsByCode(fams); byCode[200] != 1 {
			return fmt.Errorf("requests by code %v, want the one 200", byCode)
		}
		return nil
	})

	if err := os.RemoveAll(filepath.Join(cache, "snapshots")); err != nil {
		t.Fatal(err)
	}
	kids := children(s.Cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("%d worker processes, want 1", len(kids))
	}
	if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The first request may wait in the listen backlog until the primary
	// sees the exit; then it and every later one get the primary's 503.
	const seen = 5
	for i := range seen {
		code, ra := get()
		if code != 503 || ra == "" {
			t.Fatalf("request %d with no worker able to start: %d, Retry-After %q; want 503 with Retry-After", i, code, ra)
		}
	}
	fams := scrape(t, admin)
	got, workers := primary503s(fams)
	if len(got) != 1 || got["503 5xx"] != seen {
		t.Errorf(`wasmcluster_requests_total{worker="primary"} %v, want exactly {503 5xx: %d} (the 503s the client saw)`, got, seen)
	}
	if byCode, _ := requestsByCode(fams); !workers["1"] || byCode[200] != 1 || byCode[503] != seen {
		t.Errorf("requests by code %v (workers %v), want worker 1's 200 and the primary's %d 503s", byCode, workers, seen)
	}
	s.WaitLog("no worker is ready; answering 503 until one is")
}
