package host_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
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
	p := newPlugin(t, wat(t, "next"), host.Config{Next: next, PoolSize: 1})
	done := make(chan int, 1)
	go func() { done <- httptestServe(p, get("/")).code }()
	<-entered
	if s := p.Stats(); s.Waits != 0 {
		t.Fatalf("Waits = %d before any request waited", s.Waits)
	}
	second := make(chan int, 1)
	go func() { second <- httptestServe(p, get("/")).code }()
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Waits == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never waited for the busy instance")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if a, b := <-done, <-second; a != 200 || b != 200 {
		t.Fatalf("answers %d and %d, want 200 and 200", a, b)
	}
}
