package httpserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testPlugin: "/sleep?d=2s" sleeps; the body is its version.
type testPlugin struct{ version string }

func (p *testPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if d, err := time.ParseDuration(r.URL.Query().Get("d")); err == nil && strings.HasPrefix(r.URL.Path, "/sleep") {
		time.Sleep(d)
	}
	fmt.Fprint(w, p.version)
}

func (p *testPlugin) Close(context.Context) error { return nil }

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// shareListener is a second listener on ln's socket, as a worker inherits
// it: a dup made without Fd(), which would make the socket blocking.
func shareListener(t *testing.T, ln net.Listener) net.Listener {
	t.Helper()
	rc, err := ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var dup int
	var derr error
	rc.Control(func(fd uintptr) { dup, derr = syscall.Dup(int(fd)) })
	if derr != nil {
		t.Fatal(derr)
	}
	f := os.NewFile(uintptr(dup), "shared")
	defer f.Close()
	ln2, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return ln2
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type noRetry struct{ *strings.Reader }

func (noRetry) Close() error { return nil }

// noRetryBody is a body net/http cannot replay (no GetBody), so a failed
// request is never retried silently.
func noRetryBody(s string) noRetry { return noRetry{strings.NewReader(s)} }

// load sends requests with non-replayable bodies from several clients and
// counts every failure.
type load struct {
	stop   atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	ok     int
	failed []error
}

func startLoad(url string, clients int) *load {
	l := &load{}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			// Every fourth client opens a connection per request.
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: i%4 == 3}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			for !l.stop.Load() {
				l.one(c, url)
			}
		}()
	}
	return l
}

func (l *load) one(c *http.Client, url string) {
	req, _ := http.NewRequest(http.MethodPost, url, noRetryBody("ping"))
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = errors.New(resp.Status)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = append(l.failed, err)
	} else {
		l.ok++
	}
}

// finish stops the load and returns its totals.
func (l *load) finish() *load {
	l.stop.Store(true)
	l.wg.Wait()
	return l
}

func (l *load) String() string {
	return fmt.Sprintf("ok=%d failed=%d %v", l.ok, len(l.failed), l.failed)
}
