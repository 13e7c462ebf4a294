package examples_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
)

// A roll while a WebSocket is open: the socket's old worker drains and
// keeps it up until drain_timeout, then ends it with a close frame 1001
// "going away"; a socket opened meanwhile lands on a worker of the new
// version; no HTTP request fails throughout.
func TestWebSocketAcrossRoll(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := newHoldUpstream(t)
	v1, err := os.ReadFile(example(t, "auth-middleware"))
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(t.TempDir(), "auth.wasm")
	if err := os.WriteFile(plugin, v1, 0o644); err != nil {
		t.Fatal(err)
	}
	e := serveEdge(t, plugin, up.URL, "--drain-timeout", "4s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a, err := dialWS(ctx, e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.CloseNow()
	if err := wstest.RoundTrip(ctx, a, "before"); err != nil {
		t.Fatal(err)
	}
	var pidA int
	var v1Version string
	testkit.Eventually(t, 10*time.Second, func() error {
		for _, w := range e.status(t).Workers {
			if w.Upgraded == 1 {
				pidA, v1Version = w.PID, w.Version
				return nil
			}
		}
		return fmt.Errorf("no worker in status holds the WebSocket")
	})

	load := testkit.StartLoad(e.URL(), testkit.LoadOptions{Clients: 2, Pause: 5 * time.Millisecond,
		Request: func(int, int) (string, string, string) { return "POST", "/plain?token=" + authToken, "ping" }})
	defer load.Stop()
	next := plugin + ".next"
	if err := os.WriteFile(next, withSection(v1, "v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, plugin); err != nil {
		t.Fatal(err)
	}

	// A's worker drains: it stops accepting but keeps the socket up.
	testkit.Eventually(t, time.Minute, func() error {
		if w, ok := workerOf(e.status(t), pidA); !ok || w.State != "draining" {
			return fmt.Errorf("worker %d holding the WebSocket: %+v", pidA, w)
		}
		return nil
	})
	if err := wstest.RoundTrip(ctx, a, "during the drain"); err != nil {
		t.Fatalf("WebSocket on the draining worker: %v", err)
	}
	// A new socket goes to a worker of the new version.
	var b *websocket.Conn
	testkit.Eventually(t, time.Minute, func() error {
		if b != nil {
			b.CloseNow()
		}
		if b, err = dialWS(ctx, e.Addr); err != nil {
			return err
		}
		if err := wstest.RoundTrip(ctx, b, "new"); err != nil {
			return err
		}
		time.Sleep(1500 * time.Millisecond) // a heartbeat carries the count
		for _, w := range e.status(t).Workers {
			if w.Upgraded == 1 && w.State == "ready" && w.Version != v1Version {
				return nil
			}
		}
		return fmt.Errorf("the new WebSocket is not on a ready worker of the new version")
	})
	defer b.CloseNow()

	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if _, _, err := a.Read(rctx); websocket.CloseStatus(err) != websocket.StatusGoingAway || rctx.Err() != nil {
		t.Fatalf("WebSocket at the end of its worker's drain: %v; want close status 1001 going away", err)
	}
	if err := wstest.RoundTrip(ctx, b, "after"); err != nil {
		t.Fatalf("WebSocket on the new version after the old one left: %v", err)
	}
	res := load.Stop()
	if res.Failed() != 0 || res.OK == 0 {
		t.Fatalf("HTTP load across the roll: %v", res)
	}
	t.Logf("HTTP load across the roll: %v", res)
	if resp, err := http.Get(e.URL() + "/plain"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("after the roll, no token: %v %v", resp, err)
	}
}
