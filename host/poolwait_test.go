package host_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// TestPoolWaitsCounted: a request that finds every instance busy waits for
// one, and Stats.Waits counts it (the pool-waits metric operators size the
// pool by).
func TestPoolWaitsCounted(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
			<-release // the first request holds the only instance here
		default:
		}
		w.Write([]byte("next"))
	})
	// A budget below one instance keeps the pool at PoolSize.
	p := newPlugin(t, wat(t, "next"), host.Config{Next: next, PoolSize: 1, MemoryBudget: 1})
	done := make(chan int, 1)
	go func() { done <- httptestServe(p, get("/")).code }()
	<-entered
	if s := p.Stats(); s.Waits != 0 {
		t.Fatalf("Waits = %d before any request waited", s.Waits)
	}
	second := make(chan int, 1)
	go func() { second <- httptestServe(p, get("/")).code }()
	testkit.WaitFor(t, 10*time.Second, "the second request to wait for the busy instance", func() bool { return p.Stats().Waits != 0 })
	close(release)
	if a, b := <-done, <-second; a != 200 || b != 200 {
		t.Fatalf("answers %d and %d, want 200 and 200", a, b)
	}
}

// TestInstanceFreedBeforeNext: a guest without handle_response has nothing
// left to run once it returns next=1, so its instance serves other requests
// while next runs. With a pool of one, two requests reach a blocking next
// at the same time; throughput to a slow upstream is not capped at pool
// size / upstream latency.
func TestInstanceFreedBeforeNext(t *testing.T) {
	arrived := make(chan struct{}, 2)
	both := make(chan struct{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-both:
		case <-time.After(10 * time.Second):
			http.Error(w, "the other request never reached next", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("next"))
	})
	p := newPlugin(t, wat(t, "nextonly"), host.Config{Next: next, PoolSize: 1, MemoryBudget: 1})
	codes := make(chan int, 2)
	for range 2 {
		go func() { codes <- httptestServe(p, get("/")).code }()
	}
	<-arrived
	<-arrived
	close(both)
	for range 2 {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("answer %d, want 200", c)
		}
	}
	if s := p.Stats(); s.Live != 1 || s.Instantiations != 1 {
		t.Errorf("pool grew past its bound: %+v", s)
	}
}
