package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
	"github.com/wasmcluster/wasmcluster/plugins"
)

// TestNoLeaks: many versions, each watched, preflighted and accepted, and
// Run started and stopped each time, leave the process's goroutines and
// file descriptors where they were (the primary runs for months).
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("20 watch cycles; skipped in -short")
	}
	versions := make([][]byte, 21)
	for i := range versions {
		versions[i] = testkit.HelloWAT(t, fmt.Sprintf("leak %02d", i))
	}
	f := newFixture(t, versions[0])
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	cycle := func(data []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.m.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
		}()
		// Written maybe before the watcher is up: its first look compares
		// with the last decided version, so this is still a change.
		write(t, f.path, data)
		if ev := f.event(); !ev.Accepted() {
			t.Fatal(ev.Err)
		}
	}
	cycle(versions[1]) // warm up lazily created goroutines and caches
	runtime.GC()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	for _, data := range versions[2:] {
		cycle(data)
	}
	if _, err := f.m.Prune(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() error {
		runtime.GC()
		g, fd := runtime.NumGoroutine(), openFDs(t)
		if g > g0+2 || fd > fd0+2 {
			return fmt.Errorf("leak after 19 versions: goroutines %d -> %d, fds %d -> %d", g0, g, fd0, fd)
		}
		t.Logf("after 19 more versions: goroutines %d -> %d, fds %d -> %d", g0, g, fd0, fd)
		return nil
	})
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(entries)
}

// TestSnapshotServes: what a worker does with an accepted Version: read the
// snapshot and serve it.
func TestSnapshotServes(t *testing.T) {
	v2 := testkit.HelloWAT(t, "two")
	f := newFixture(t, testkit.HelloWAT(t, "one"))
	if _, err := f.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.run()
	write(t, f.path, v2)
	v := f.accepted(v2)
	if err := os.Remove(f.path); err != nil { // the watched file is irrelevant now
		t.Fatal(err)
	}
	wasm, err := plugins.ReadSnapshot(v.Path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := host.New(context.Background(), wasm, host.Config{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 || string(body) != "two" || p.Hash() != v.Hash {
		t.Fatalf("served %d %q from %s, want 200 \"two\" from %s", rec.Code, body, p.Hash()[:12], v.Short())
	}
}
