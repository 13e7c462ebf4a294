package httpserve

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
)

// proxyPlugin proxies every request to an upstream, WebSockets included,
// as a plugin's next does.
type proxyPlugin struct{ *httputil.ReverseProxy }

func (proxyPlugin) Close(context.Context) error { return nil }

// A WebSocket is not a request: it does not hold its plugin across a swap,
// and a drain leaves it open until the drain's
// hard cap, then ends it, although http.Server no longer tracks the
// hijacked connection. That end is expected: the drain does not report
// requests cut off.
func TestDrainEndsUpgradedConnectionsAtItsCap(t *testing.T) {
	up := wstest.Echo(t)
	target, _ := url.Parse(up.URL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{IdleGrace: 50 * time.Millisecond}, proxyPlugin{httputil.NewSingleHostReverseProxy(target)}, testLogger(), nil)
	s.Serve(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := wstest.Dial(ctx, t, ln.Addr().String())
	roundTrip := func() error { return wstest.RoundTrip(ctx, c, "ping") }
	if err := roundTrip(); err != nil {
		t.Fatalf("before the drain: %v", err)
	}
	if m := s.Metrics(); m.Codes[http.StatusSwitchingProtocols] != 0 || m.Upgraded != 1 || m.UpgradedTotal != 1 {
		t.Fatalf("the WebSocket was metered before it ended (%v), or is not counted as open (%d of %d)", m.Codes, m.Upgraded, m.UpgradedTotal)
	}
	// The stream does not hold its plugin: a swap hands the old one back
	// without waiting for the WebSocket to close.
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if _, err := s.Swap(sctx, proxyPlugin{httputil.NewSingleHostReverseProxy(target)}); err != nil {
		t.Fatalf("swap with a WebSocket open: %v", err)
	}
	if err := roundTrip(); err != nil {
		t.Fatalf("after the swap: %v", err)
	}

	drained := make(chan error, 1)
	dctx, dcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer dcancel()
	go func() { drained <- s.Drain(dctx) }()
	if err := roundTrip(); err != nil {
		t.Fatalf("during the drain, before its cap: %v", err)
	}
	if err := <-drained; err != nil || dctx.Err() == nil {
		t.Fatalf("drain: %v before its cap: %v; want nil at the cap (the WebSocket stays open until then)", err, dctx.Err())
	}
	// After the cap the connection ends with a close frame 1001 "going
	// away", not with the test's own deadline.
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	_, _, err = c.Read(rctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway || rctx.Err() != nil {
		t.Fatalf("read after the drain's cap: %v (test deadline: %v); want close status 1001 going away", err, rctx.Err())
	}
	testkit.WaitFor(t, 10*time.Second, "the WebSocket metered as 101", func() bool {
		m := s.Metrics()
		return m.Codes[http.StatusSwitchingProtocols] == 1 && m.Upgraded == 0 && m.UpgradedTotal == 1
	})
}
