package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestCloseWhileGuestWritesMemory: closing a plugin frees the memory of an
// instance still running (a drain cut short); an uninterruptible guest keeps
// writing to it until its loop ends. That must not fault the process (the
// instance memory lives outside the Go heap).
func TestCloseWhileGuestWritesMemory(t *testing.T) {
	p, err := host.New(context.Background(), wat(t, "memspin"), host.Config{PoolSize: 1, Uninterruptible: true,
		RequestTimeout: time.Minute, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan served, 1)
	go func() { done <- httptestServe(p, get("/")) }()
	time.Sleep(30 * time.Millisecond) // in the loop
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-done:
		t.Logf("request around Close answered %d", s.code)
	case <-time.After(60 * time.Second):
		t.Fatal("guest still running 60 s after Close")
	}
}

// A guest grows its memory up to the cap and no further.
func TestMemoryGrowsToLimit(t *testing.T) {
	p := newPlugin(t, wat(t, "membomb"), host.Config{PoolSize: 1, MemoryLimitPages: 4})
	rec := serve(t, p, get("/"))
	t.Logf("membomb with a 4-page cap answered %d", rec.Code)
	if s := p.Stats(); s.Live > 1 {
		t.Fatalf("live %d", s.Live)
	}
}
