package examples_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
)

// holdUpstream is an upstream whose answers the test holds: /slow answers
// when release is closed, /upload reads its body to the end, /ws is a
// WebSocket echo, anything else answers at once. It counts what reached it.
type holdUpstream struct {
	*httptest.Server
	release chan struct{}
	slow    atomic.Int64
	uploads atomic.Int64
	sockets atomic.Int64
}

func newHoldUpstream(t *testing.T) *holdUpstream {
	u := &holdUpstream{release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() {
		u.CloseClientConnections()
		u.Close()
	})
	t.Cleanup(func() { close(u.release) }) // runs first: lets held handlers end
	return u
}

func (u *holdUpstream) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/slow":
		u.slow.Add(1)
		select {
		case <-u.release:
		case <-r.Context().Done():
		}
	case "/upload":
		u.uploads.Add(1)
		io.Copy(io.Discard, r.Body)
	case "/ws":
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		u.sockets.Add(1)
		wstest.EchoConn(c)
		return // the connection is hijacked: nothing more to write
	}
	io.WriteString(w, "upstream "+r.URL.Path)
}

const authToken = "s3cret"

// serveAuth runs auth-middleware through the binary in front of up: two
// workers with four instances each, the set-up of the hold-up report.
func serveAuth(t *testing.T, up string, extra ...string) *testkit.Server {
	args := append([]string{"serve", example(t, "auth-middleware"), "--listen", "127.0.0.1:0",
		"--log-format", "json", "--upstream", up, "--cache-dir", filepath.Join(testkit.Dir(t), "cache"),
		"--workers", "2", "--plugin-pool-size", "4", "--control", "-", "--admin", "off",
		"--plugin-config", authToken}, extra...)
	cmd := exec.Command(testkit.Wasmcluster(t), args...)
	cmd.Env = testkit.Env(t)
	return testkit.Start(t, cmd)
}

// dialWS opens a WebSocket through the server to the upstream's echo.
func dialWS(ctx context.Context, addr string) (*websocket.Conn, error) {
	hdr := http.Header{"Authorization": {"Bearer " + authToken}}
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	return c, err
}

// stallUpload sends an authorized upload's headers and then one byte a
// second until ctx ends: a client on a bad link.
func stallUpload(ctx context.Context, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n", authToken)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if _, err := c.Write([]byte{'x'}); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Requests that wait on the upstream, uploads that trickle in and
// WebSockets hold no plugin instance: with many more of them open than
// the server has instances, a request the plugin answers itself and a
// plain proxied GET are still answered at once.
func TestHeldRequestsDoNotStarveThePool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	const slow, uploads, sockets = 32, 32, 16 // 80 against 2 workers x 4 instances
	up := newHoldUpstream(t)
	s := serveAuth(t, up.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	for range slow {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/slow", nil)
			req.Header.Set("Authorization", "Bearer "+authToken)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	for range uploads {
		wg.Go(func() { stallUpload(ctx, s.Addr) })
	}
	conns := make(chan *websocket.Conn, sockets)
	for range sockets {
		wg.Go(func() {
			if c, err := dialWS(ctx, s.Addr); err == nil {
				conns <- c
			}
		})
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		s, u, w := up.slow.Load(), up.uploads.Load(), up.sockets.Load()
		if s != slow || u != uploads || w != sockets {
			return fmt.Errorf("held requests at the upstream: %d/%d slow, %d/%d uploads, %d/%d WebSockets",
				s, slow, u, uploads, w, sockets)
		}
		return nil
	})

	// Generous bound: it is there to fail a request queued behind held
	// instances (which waited for the request deadline), not to time one.
	fast := &http.Client{Timeout: 10 * time.Second}
	var lat []time.Duration
	for range 100 {
		start := time.Now()
		resp, err := fast.Get(s.URL() + "/private")
		if err != nil {
			t.Fatalf("request the plugin answers itself: %v", err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("without a token: %d, want 401", resp.StatusCode)
		}
	}
	slices.Sort(lat)
	t.Logf("401 answered by the plugin with %d held requests open: p50 %v, p99 %v, max %v",
		slow+uploads+sockets, lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])

	req, _ := http.NewRequest("GET", s.URL()+"/plain", nil)
	req.Header.Set("Authorization", "Bearer "+authToken)
	resp, err := fast.Do(req)
	if err != nil {
		t.Fatalf("plain GET through the plugin: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "upstream /plain" {
		t.Fatalf("plain GET: %d %q", resp.StatusCode, body)
	}
	close(conns)
	for c := range conns {
		ectx, ecancel := context.WithTimeout(ctx, 10*time.Second)
		if err := wstest.RoundTrip(ectx, c, "still open"); err != nil {
			t.Errorf("WebSocket after the checks: %v", err)
		}
		ecancel()
		c.CloseNow()
	}
	if strings.Contains(s.Log.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", s.Log.String())
	}
}

// A WebSocket is not a request: request_timeout bounds its handshake, not
// the stream, which lives until a side closes it.
func TestWebSocketOutlivesRequestTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wasmcluster binary")
	}
	up := newHoldUpstream(t)
	s := serveAuth(t, up.URL, "--request-timeout", "1s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := dialWS(ctx, s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wstest.RoundTrip(ctx, c, "first"); err != nil {
		t.Fatalf("right after the handshake: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // well past request_timeout
	if err := wstest.RoundTrip(ctx, c, "after request_timeout"); err != nil {
		t.Fatalf("past request_timeout: %v", err)
	}
	// The timeout still bounds ordinary requests.
	req, _ := http.NewRequest("GET", s.URL()+"/slow", nil)
	req.Header.Set("Authorization", "Bearer "+authToken)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 {
		t.Errorf("request held by the upstream past request_timeout: %d, want an error status", resp.StatusCode)
	}
}
