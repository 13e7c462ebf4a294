package host_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/internal/testkit/wstest"
)

// blockingNext is a next handler that holds every request until release is
// closed, counting arrivals.
func blockingNext(release <-chan struct{}) (http.Handler, <-chan struct{}) {
	arrived := make(chan struct{}, 64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte("next"))
	}), arrived
}

// onePage is the memory limit of the test guests (one 64 KiB page), so a
// budget of n pages allows n instances.
const onePage = 64 << 10

// The pool grows past PoolSize while instances are held, up to what
// MemoryBudget allows; past that a request waits PoolWait and is answered
// 503 with Retry-After, counted; once the burst is over the pool shrinks
// back to PoolSize.
func TestPoolGrowsToBudgetThenAnswersBusy(t *testing.T) {
	release := make(chan struct{})
	next, arrived := blockingNext(release)
	p := newPlugin(t, wat(t, "next"), host.Config{Next: next, PoolSize: 1, MemoryLimitPages: 1,
		MemoryBudget: 3 * onePage, PoolWait: 100 * time.Millisecond})
	if s := p.Stats(); s.PoolMax != 3 {
		t.Fatalf("PoolMax = %d, want 3 (budget of 3 instances at one page each)", s.PoolMax)
	}
	codes := make(chan int, 3)
	for range 3 {
		go func() { codes <- httptestServe(p, get("/")).code }()
	}
	for range 3 {
		<-arrived // each holds its instance: next.wat exports handle_response
	}
	rec := serve(t, p, get("/"))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("past the bound: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if s := p.Stats(); s.Live != 3 || s.Waits != 1 || s.Rejected != 1 {
		t.Errorf("at the bound: %+v; want 3 live, 1 wait, 1 rejected", s)
	}
	close(release)
	for range 3 {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("held request answered %d, want 200", c)
		}
	}
	if s := p.Stats(); s.Live != 1 || s.Idle != 1 {
		t.Errorf("after the burst: %+v; want the pool back at its size, 1", s)
	}
}

// responseGuest proceeds with ctx 7, tells the host through the extension
// export whether it wants handle_response, and traps if handle_response
// runs with another ctx.
func responseGuest(want int) string {
	return `(module
  (memory (export "memory") 1 1)
  (func (export "handle_request") (result i64) (i64.const 0x0000000700000001))
  (func (export "wasmcluster_response_wanted") (param $ctx i32) (result i32)
    (if (i32.ne (local.get $ctx) (i32.const 7)) (then unreachable))
    (i32.const ` + string(rune('0'+want)) + `))
  (func (export "handle_response") (param $ctx i32) (param i32)
    (if (i32.ne (local.get $ctx) (i32.const 7)) (then unreachable))))`
}

// wasmcluster_response_wanted returning 0 frees the instance before next
// (two requests reach next through a pool of one); returning 1 keeps the
// public ABI: the instance is held through next for handle_response.
func TestResponseWantedExport(t *testing.T) {
	for want := range 2 {
		release := make(chan struct{})
		next, arrived := blockingNext(release)
		p := newPlugin(t, testkit.WAT(t, responseGuest(want)), host.Config{Next: next, PoolSize: 1,
			MemoryBudget: 1, PoolWait: 100 * time.Millisecond})
		first := make(chan int, 1)
		go func() { first <- httptestServe(p, get("/")).code }()
		<-arrived
		if want == 0 {
			second := make(chan int, 1)
			go func() { second <- httptestServe(p, get("/")).code }()
			<-arrived // it reached next too: the instance was free
			close(release)
			if c := <-second; c != http.StatusOK {
				t.Errorf("response_wanted=0: second request %d, want 200", c)
			}
		} else {
			if c := httptestServe(p, get("/")).code; c != http.StatusServiceUnavailable {
				t.Errorf("response_wanted=1: second request %d, want 503 (the one instance is held through next)", c)
			}
			close(release)
		}
		if c := <-first; c != http.StatusOK {
			t.Errorf("response_wanted=%d: first request %d, want 200 (a trap means handle_response ran with the wrong ctx)", want, c)
		}
	}
}

// An upgraded connection holds no instance and skips handle_response,
// even for a guest that exports it, and request_timeout does not cut it.
func TestUpgradeHoldsNoInstance(t *testing.T) {
	up := wstest.Echo(t)
	u, _ := url.Parse(up.URL)
	// handle_response traps: the test fails if it runs for the upgrade.
	guest := testkit.WAT(t, `(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32) unreachable))`)
	p := newPlugin(t, guest, host.Config{Upstream: u, PoolSize: 1, MemoryBudget: 1,
		RequestTimeout: 300 * time.Millisecond, PoolWait: 100 * time.Millisecond})
	srv := httptest.NewServer(p)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for range 3 { // more than the pool's one instance
		conns = append(conns, wstest.Dial(ctx, t, srv.Listener.Addr().String()))
	}
	time.Sleep(600 * time.Millisecond) // past request_timeout
	for i, c := range conns {
		if err := wstest.RoundTrip(ctx, c, "ping"); err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
	}
	if s := p.Stats(); s.Live != 1 || s.Waits != 0 || s.Traps != 0 {
		t.Errorf("with 3 WebSockets open: %+v; want 1 live instance, no wait, no trap", s)
	}
}
