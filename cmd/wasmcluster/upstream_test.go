package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// upstreamFailures sums wasmcluster_upstream_failures_total by cause.
func upstreamFailures(fams map[string]*dto.MetricFamily) map[string]int {
	out := map[string]int{}
	for _, m := range fams["wasmcluster_upstream_failures_total"].GetMetric() {
		out[label(m, "cause")] += int(m.GetCounter().GetValue())
	}
	return out
}

// TestUpstreamFailures: through the binary, each way a request to the
// upstream fails gets its own status (504 slow upstream, 413 chunked body
// over max_request_body, 400 malformed chunked body, 502 refused), its own
// cause in /metrics, and the WARN lines stay few under a burst.
func TestUpstreamFailures(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	s := startServe(t, nil, wat(t, "next"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--admin", "127.0.0.1:0", "--upstream", up.URL, "--request-timeout", "500ms", "--max-request-body", "64KiB")
	admin := adminAddr(t, s)

	resp, err := http.Get(s.URL() + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("slow upstream: %s, want 504", resp.Status)
	}
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 8<<10, strings.Repeat("b", 8<<10))
	big := []string{"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"}
	for range 32 { // 256 KiB
		big = append(big, chunk)
	}
	if got := testkit.RawStatus(t, s.Addr, append(big, "0\r\n\r\n")...); got != "HTTP/1.1 413 Request Entity Too Large" {
		t.Errorf("chunked body over max_request_body: %q, want 413", got)
	}
	bad := "POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz\r\n\r\n"
	if got := testkit.RawStatus(t, s.Addr, bad); got != "HTTP/1.1 400 Bad Request" {
		t.Errorf("malformed chunked body: %q, want 400", got)
	}
	want := map[string]int{"timeout": 1, "body_too_large": 1, "bad_body": 1, "connect": 0, "reset": 0, "bad_response": 0, "client_gone": 0}
	var got map[string]int
	deadline := time.Now().Add(10 * time.Second) // heartbeats carry the counts every second
	for {
		got = upstreamFailures(scrape(t, admin))
		if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("wasmcluster_upstream_failures_total %v, want %v", got, want)
	}
	fams := scrape(t, admin)
	for _, m := range fams["wasmcluster_guest_timeouts_total"].GetMetric() {
		if v := m.GetCounter().GetValue(); v != 0 {
			t.Errorf("an upstream timeout counted as a guest timeout (%v)", v)
		}
	}
	// Only the upstream's own failure is a WARN; the client's are debug.
	// The worker's line reaches the primary's log through a pipe and a
	// relay: wait for it, then count.
	s.WaitLog("upstream request failed")
	if n := strings.Count(s.Log.String(), "upstream request failed"); n != 1 {
		t.Errorf("%d upstream failure lines, want 1 (the timeout):\n%s", n, s.Log)
	}
}

// TestUpstreamDownLogsLimited: a down upstream fails every request with a
// 502; the log gets one line for the burst, not one per request.
func TestUpstreamDownLogsLimited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s := startServe(t, nil, wat(t, "next"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--admin", "off", "--upstream", dead)
	const n = 200
	for range n {
		resp, err := http.Get(s.URL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("down upstream: %s, want 502", resp.Status)
		}
	}
	// The worker logs before it answers, but its line reaches the
	// primary's log through a pipe and a relay: wait for the first one.
	// One line per 10 s interval: a box stalled past it may let a second out.
	s.WaitLog("upstream request failed")
	if got := strings.Count(s.Log.String(), "upstream request failed"); got < 1 || got > 2 {
		t.Errorf("%d failed requests logged %d lines, want 1", n, got)
	}
}

// TestMaxBufferedResponse: plugin.max_buffered_response bounds the
// upstream answer a buffer_response plugin may hold: beyond it, 502.
func TestMaxBufferedResponse(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Path[1:])
		w.Write(bytes.Repeat([]byte("u"), n))
	}))
	defer up.Close()
	s := startServe(t, nil, wat(t, "bufresp"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--admin", "off", "--upstream", up.URL, "--plugin-max-buffered-response", "1MiB")
	for _, tc := range []struct{ size, status int }{{1 << 20, 200}, {1<<20 + 1, 502}, {3 << 20, 502}} {
		resp, err := http.Get(s.URL() + "/" + strconv.Itoa(tc.size))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && len(b) != tc.size) {
			t.Errorf("%d-byte answer: %s with %d bytes, want %d", tc.size, resp.Status, len(b), tc.status)
		}
	}
}

// workerRSS is wasmcluster_worker_rss_bytes of the only worker slot.
func workerRSS(t *testing.T, admin string) float64 {
	t.Helper()
	for _, m := range scrape(t, admin)["wasmcluster_worker_rss_bytes"].GetMetric() {
		return m.GetGauge().GetValue()
	}
	return 0
}

// TestBufferedResponseMemoryReturned: a worker that held large buffered
// responses (every instance of its pool at once) gives the memory back
// once they are sent; it used to keep pool size x response size for good.
func TestBufferedResponseMemoryReturned(t *testing.T) {
	const size, pool = 32 << 20, 4
	body := bytes.Repeat([]byte("u"), size)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer up.Close()
	s := startServe(t, nil, wat(t, "bufresp"), "--listen", "127.0.0.1:0", "--workers", "1", "--control", "-",
		"--admin", "127.0.0.1:0", "--upstream", up.URL, "--plugin-pool-size", strconv.Itoa(pool))
	admin := adminAddr(t, s)
	var idle float64
	deadline := time.Now().Add(10 * time.Second) // RSS is sampled every second
	for idle == 0 && time.Now().Before(deadline) {
		idle = workerRSS(t, admin)
		time.Sleep(200 * time.Millisecond)
	}
	for range 2 {
		done := make(chan string, pool)
		for range pool {
			go func() {
				resp, err := http.Get(s.URL())
				if err != nil {
					done <- err.Error()
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- fmt.Sprintf("%d %d", resp.StatusCode, n)
			}()
		}
		for range pool {
			if got := <-done; got != fmt.Sprintf("200 %d", size) {
				t.Fatalf("buffered response: %s, want 200 %d", got, size)
			}
		}
	}
	// Generous: 64 MiB over idle, where the pool alone used to keep 128 MiB
	// and the Go heap's garbage 200 more.
	var rss float64
	deadline = time.Now().Add(20 * time.Second)
	for {
		if rss = workerRSS(t, admin); rss < idle+64<<20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("worker RSS %.0f MiB idle, %.0f MiB after %d buffered responses of %d MiB", idle/(1<<20), rss/(1<<20), 2*pool, size>>20)
	if rss >= idle+64<<20 {
		t.Errorf("worker RSS stays at %.0f MiB (idle %.0f MiB)", rss/(1<<20), idle/(1<<20))
	}
}
