package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestUninterruptibleWorkers: with plugin.interrupt = false a guest that
// overruns its deadline takes its worker down, the primary replaces the
// worker, and the plugin serves again. In-process serving refuses the
// setting, since nothing could stop a runaway guest there.
func TestUninterruptibleWorkers(t *testing.T) {
	loop := wat(t, "loop")
	r := runBin(t, nil, "serve", loop, "--workers", "0", "--plugin-interrupt=false")
	if r.code != 2 || !strings.Contains(r.stderr, "plugin.interrupt") {
		t.Fatalf("--workers 0 with interrupt off: exit %d, stderr %q; want 2 naming plugin.interrupt", r.code, r.stderr)
	}

	s := startServe(t, nil, loop, "--listen", "127.0.0.1:0", "--workers", "1",
		"--plugin-interrupt=false", "--request-timeout", "300ms")
	client := &http.Client{Timeout: 30 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/", nil)
	req.Header.Set("x-mode", "l")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the overrunning request got %d; want its connection cut when the worker exits", resp.StatusCode)
	}
	s.WaitLog("cannot be interrupted")
	testkit.Eventually(t, 30*time.Second, func() error {
		resp, err := client.Get(s.URL() + "/fast")
		if err != nil {
			return fmt.Errorf("no worker serving since the stuck one exited (last: %v); stderr:\n%s", err, s.Log)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "fast" {
			return fmt.Errorf("no worker serving since the stuck one exited (last: %d %q); stderr:\n%s", resp.StatusCode, b, s.Log)
		}
		return nil
	})
}
