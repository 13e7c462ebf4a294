package host_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// bodyCounter is an upstream that reads whole request bodies and records,
// per request, how many bytes arrived and whether the body ended cleanly.
type bodyCounter struct {
	mu    sync.Mutex
	reads []string // "<n> ok" or "<n> cut"
}

func (b *bodyCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	state := "ok"
	if err != nil {
		state = "cut"
	}
	b.mu.Lock()
	b.reads = append(b.reads, fmt.Sprintf("%d %s", n, state))
	b.mu.Unlock()
	io.WriteString(w, "read")
}

func (b *bodyCounter) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.reads...)
}

// TestUpstreamTimeout: an upstream slower than RequestTimeout answers 504,
// as for a guest past its deadline, but is counted as an upstream timeout,
// not a guest one.
func TestUpstreamTimeout(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the proxy gave up: the connection closed
		case <-time.After(20 * time.Second):
		}
	}))
	for _, guest := range []string{"next", "nextonly", "bufresp"} { // handle_response, none, buffer_response
		t.Run(guest, func(t *testing.T) {
			p := newPlugin(t, wat(t, guest), host.Config{Upstream: up, RequestTimeout: 300 * time.Millisecond})
			srv, _ := listen(t, "127.0.0.1:0", p)
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusGatewayTimeout {
				t.Fatalf("slow upstream answered %s, want 504", resp.Status)
			}
			checkUpstreamStats(t, p, "timeout")
			checkPoolIdle(t, p)
		})
	}
}

// TestUpstreamChunkedBodyTooLarge: a chunked body (no Content-Length to
// refuse up front) that outgrows MaxRequestBody on its way to the upstream
// answers 413, and the upstream never gets more than the limit nor a body
// that looks whole.
func TestUpstreamChunkedBodyTooLarge(t *testing.T) {
	const limit = 64 << 10
	counter := &bodyCounter{}
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: upstream(t, counter), MaxRequestBody: limit})
	srv, _ := listen(t, "127.0.0.1:0", p)
	req := []string{"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"}
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 8<<10, strings.Repeat("b", 8<<10))
	for range 4 * limit / (8 << 10) {
		req = append(req, chunk)
	}
	req = append(req, "0\r\n\r\n")
	if got := testkit.RawStatus(t, srv.Listener.Addr().String(), req...); got != "HTTP/1.1 413 Request Entity Too Large" {
		t.Fatalf("chunked body over the limit answered %q, want 413", got)
	}
	for _, s := range counter.seen() {
		var n int
		var state string
		fmt.Sscanf(s, "%d %s", &n, &state)
		if n > limit || state != "cut" {
			t.Errorf("upstream read %d bytes (%s), want at most %d and a cut body", n, state, limit)
		}
	}
	checkUpstreamStats(t, p, "body_too_large")
	if s := p.Stats(); s.TooLarge != 1 {
		t.Errorf("Stats.TooLarge = %d, want 1", s.TooLarge)
	}
}

// TestUpstreamMalformedChunkedBody: a chunked body that breaks the framing
// is the client's fault: 400, not an upstream failure.
func TestUpstreamMalformedChunkedBody(t *testing.T) {
	counter := &bodyCounter{}
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: upstream(t, counter)})
	srv, _ := listen(t, "127.0.0.1:0", p)
	got := testkit.RawStatus(t, srv.Listener.Addr().String(),
		"POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz-not-hex\r\n\r\n")
	if got != "HTTP/1.1 400 Bad Request" {
		t.Fatalf("malformed chunked body answered %q, want 400", got)
	}
	for _, s := range counter.seen() {
		if !strings.HasSuffix(s, "cut") {
			t.Errorf("upstream read a whole-looking body from a malformed one: %s", s)
		}
	}
	checkUpstreamStats(t, p, "bad_body")
}

// TestUpstreamBrokenAnswers: an upstream that refuses the connection,
// closes it without answering, or answers something that is not HTTP is a
// 502, each counted under its own cause.
func TestUpstreamBrokenAnswers(t *testing.T) {
	for _, tc := range []struct {
		cause string
		serve func(net.Conn) // nil: nothing listens
	}{
		{"connect", nil},
		{"reset", func(c net.Conn) { readHead(c); c.(*net.TCPConn).SetLinger(0); c.Close() }},
		{"bad_response", func(c net.Conn) { readHead(c); io.WriteString(c, "SPDY/9 banana\r\n\r\n"); c.Close() }},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			p := newPlugin(t, wat(t, "next"), host.Config{Upstream: rawUpstream(t, tc.serve)})
			srv, _ := listen(t, "127.0.0.1:0", p)
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("got %s, want 502", resp.Status)
			}
			checkUpstreamStats(t, p, tc.cause)
		})
	}
}

// rawUpstream listens on loopback and runs serve for each connection; with
// serve nil, the port is closed again so connecting is refused.
func rawUpstream(t *testing.T, serve func(net.Conn)) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	if serve == nil {
		ln.Close()
		return u
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return u
}

// readHead reads a request's header block.
func readHead(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// checkUpstreamStats checks that exactly one upstream failure was counted,
// under cause, and none as a guest failure.
func checkUpstreamStats(t *testing.T, p *host.Plugin, cause string) {
	t.Helper()
	s := p.Stats()
	if s.Traps != 0 || s.Timeouts != 0 {
		t.Errorf("an upstream failure counted as a guest failure: %+v", s)
	}
	want := map[string]uint64{cause: 1}
	for name, n := range s.Upstream.ByCause() {
		if n != want[name] {
			t.Errorf("Stats.Upstream %s = %d, want %d", name, n, want[name])
		}
	}
}

// TestUpstreamFailureLogsLimited: a down upstream under load fails every
// request; each cause logs one line per interval, not one per request,
// while Stats counts them all.
func TestUpstreamFailureLogsLimited(t *testing.T) {
	logger, logs := captureLogger(slog.LevelInfo)
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: rawUpstream(t, nil), Logger: logger})
	srv, _ := listen(t, "127.0.0.1:0", p)
	const n = 50
	for range n {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The interval is 10 s: a box stalled past it may let a second line out.
	if got := logs.find("upstream request failed"); len(got) == 0 || len(got) > 2 {
		t.Errorf("%d failures logged %d lines, want 1: %v", n, len(got), got)
	}
	if s := p.Stats(); s.Upstream.Connect != n {
		t.Errorf("Stats.Upstream.Connect = %d, want %d", s.Upstream.Connect, n)
	}
}

// TestUpstreamCutMidBodyLogsLimited: an upstream that breaks after its
// headers cuts the client's response; the proxy's line about it goes to
// the plugin's log, limited like the others (it went to the standard
// logger, once per failure).
func TestUpstreamCutMidBodyLogsLimited(t *testing.T) {
	cut := rawUpstream(t, func(c net.Conn) {
		readHead(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
		c.Close()
	})
	logger, logs := captureLogger(slog.LevelInfo)
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: cut, Logger: logger})
	srv, _ := listen(t, "127.0.0.1:0", p)
	const n = 20
	for range n {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("a cut upstream body reached the client as a whole one")
		}
		resp.Body.Close()
	}
	if got := logs.find("upstream proxy error"); len(got) == 0 || len(got) > 2 {
		t.Errorf("%d cut responses logged %d lines, want 1: %v", n, len(got), got)
	}
	checkPoolIdle(t, p)
}

// TestUpstreamTimeoutUpgrade: an upgrade request (a WebSocket handshake)
// whose upstream does not answer within RequestTimeout is an upstream
// timeout too: 504, counted as such, not as a client gone nor a guest
// timeout. (Its deadline is lifted at the hijack, so it is a cancel cause,
// not a context deadline.)
func TestUpstreamTimeoutUpgrade(t *testing.T) {
	up := upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	p := newPlugin(t, wat(t, "next"), host.Config{Upstream: up, RequestTimeout: 300 * time.Millisecond})
	srv, _ := listen(t, "127.0.0.1:0", p)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("slow upstream answered the upgrade %s, want 504", resp.Status)
	}
	checkUpstreamStats(t, p, "timeout")
	checkPoolIdle(t, p)
}
