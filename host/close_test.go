package host_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestCloseWhileServing: Close during traffic neither panics nor
// deadlocks; requests after Close fail with a 5xx.
func TestCloseWhileServing(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		io.WriteString(w, "n")
	})
	p, err := host.New(context.Background(), wat(t, "next"), host.Config{Next: next, PoolSize: 2, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 8*50)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				codes <- httptestServe(p, get("/")).code
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("requests still hanging 30 s after Close")
	}
	close(codes)
	for c := range codes {
		if c != http.StatusOK && (c < 500 || c > 599) {
			t.Errorf("request around Close answered %d", c)
		}
	}
	if c := httptestServe(p, get("/")).code; c < 500 || c > 599 {
		t.Errorf("request after Close answered %d, want a 5xx", c)
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("second Close panicked: %v", v)
			}
		}()
		p.Close(context.Background())
	}()
}

// TestClientGoneStopsGuest: when the client goes away, a spinning guest is
// interrupted at once (not at RequestTimeout) and its instance replaced.
func TestClientGoneStopsGuest(t *testing.T) {
	p := newPlugin(t, wat(t, "loop"), host.Config{PoolSize: 1, RequestTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan served, 1)
	go func() { done <- httptestServe(p, get("/", "x-mode", "l").WithContext(ctx)) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("guest still running 30 s after the client went away")
	}
	wantResponse(t, serve(t, p, get("/fast")), http.StatusOK, "fast")
	if s := p.Stats(); s.Timeouts != 0 {
		t.Errorf("Stats.Timeouts = %d, want 0: a client leaving is not a timeout", s.Timeouts)
	}
	checkPoolIdle(t, p)
}
