package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// listenNotify is a NOTIFY_SOCKET (unixgram, as systemd's) for the
// primary; it returns the datagrams received.
func listenNotify(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(testkit.SocketDir(t), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 64)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}

// waitNotify waits for a datagram carrying state ("READY=1"), skipping
// others (STATUS updates).
func waitNotify(t *testing.T, msgs <-chan string, state string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed before %s", state)
			}
			if strings.Contains(m, state+"\n") {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s within 30s", state)
		}
	}
}

// accessLines returns the access log lines in the primary's JSON log, by
// request path (a text access line is relayed as a record whose message
// is the line).
func accessLines(logs string) map[string]int {
	out := map[string]int{}
	for line := range strings.SplitSeq(logs, "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) != nil || !strings.Contains(rec.Msg, `" 200 `) {
			continue
		}
		if _, rest, ok := strings.Cut(rec.Msg, `"GET `); ok {
			path, _, _ := strings.Cut(rest, " ")
			out[path]++
		}
	}
	return out
}

// requestsTotal sums wasmcluster_requests_total over a /metrics scrape.
func requestsTotal(t *testing.T, admin string) int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "wasmcluster_requests_total{") {
			n, _ := strconv.Atoi(line[strings.LastIndexByte(line, ' ')+1:])
			total += n
		}
	}
	return total
}

func statusCode(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Both modes are one service built from the same parts: in-process as with
// worker processes, every request gets one access log line in the
// primary's log and is counted on the admin listener's /metrics, /readyz
// answers, and a NOTIFY_SOCKET hears READY at start and STOPPING at stop.
func TestOperationsInBothModes(t *testing.T) {
	for _, workers := range []int{InProcess, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			notes := listenNotify(t)
			adminLn, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			logs := &testkit.Buffer{}
			opts := baseOptions(t, workers)
			opts.Load = loadTestPlugin
			opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			opts.Server.AccessLog = httpserve.AccessLogCommon
			opts.Admin = adminLn
			ready := make(chan net.Addr, 1)
			opts.OnReady = func(a net.Addr) { ready <- a }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- RunPrimary(ctx, opts) }()
			var addr net.Addr
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("RunPrimary returned before ready: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("not ready within 30s")
			}
			waitNotify(t, notes, "READY=1")

			const n = 5
			for i := range n {
				if code := statusCode(t, fmt.Sprintf("http://%s/req-%d", addr, i)); code != http.StatusOK {
					t.Fatalf("request %d: %d", i, code)
				}
			}
			testkit.WaitFor(t, 10*time.Second, "one access line per request", func() bool {
				lines := accessLines(logs.String())
				for i := range n {
					if lines[fmt.Sprintf("/req-%d", i)] != 1 {
						return false
					}
				}
				return len(lines) == n
			})
			// Workers report in heartbeats: the count may lag, never exceed.
			testkit.WaitFor(t, 10*time.Second, "/metrics to count the requests", func() bool {
				return requestsTotal(t, adminLn.Addr().String()) == n
			})
			if code := statusCode(t, "http://"+adminLn.Addr().String()+"/readyz"); code != http.StatusOK {
				t.Errorf("/readyz while serving: %d", code)
			}

			cancel()
			waitNotify(t, notes, "STOPPING=1")
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("RunPrimary: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("did not stop within 30s")
			}
			if a := accessLines(logs.String()); len(a) != n {
				t.Errorf("access lines after stop: %v", a)
			}
		})
	}
}
