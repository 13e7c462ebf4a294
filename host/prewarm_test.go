package host_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// loadPlugin is newPlugin with host.Load: it returns before the pool is
// full.
func loadPlugin(tb testing.TB, wasm []byte, cfg host.Config) *host.Plugin {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := host.Load(ctx, wasm, cfg)
	if err != nil {
		tb.Fatalf("host.Load: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p
}

// TestLoadServesBeforePoolIsFull: Load returns after the first instance, so
// a worker can take traffic while the rest of the pool is created in the
// background; requests meanwhile are served, the pool never exceeds its
// bound, and it fills up.
func TestLoadServesBeforePoolIsFull(t *testing.T) {
	const size = 8 // each instance spins tens of ms in _initialize
	p := loadPlugin(t, wat(t, "slowinit"), host.Config{PoolSize: size})
	if s := p.Stats(); s.Live >= size {
		t.Fatalf("Load returned with %d of %d instances live: it waited for the whole pool", s.Live, size)
	}
	var wg sync.WaitGroup
	for range 2 * size {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := serve(t, p, get("/"))
			wantResponse(t, rec, http.StatusOK, "ok")
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.WaitPrewarmed(ctx); err != nil {
		t.Fatalf("WaitPrewarmed: %v", err)
	}
	s := p.Stats()
	if s.Live != size || s.Idle != size || s.Instantiations != size {
		t.Fatalf("after prewarm: live %d idle %d instantiations %d, want %d each", s.Live, s.Idle, s.Instantiations, size)
	}
}

// TestNewWaitsForPool: New still returns with the whole pool prewarmed.
func TestNewWaitsForPool(t *testing.T) {
	const size = 3
	p := newPlugin(t, wat(t, "slowinit"), host.Config{PoolSize: size})
	if s := p.Stats(); s.Live != size || s.Idle != size {
		t.Fatalf("New returned with live %d idle %d, want %d", s.Live, s.Idle, size)
	}
}

// TestCloseDuringPrewarm: closing a plugin whose pool is still filling
// stops the prewarm and releases every instance.
func TestCloseDuringPrewarm(t *testing.T) {
	wasm := wat(t, "slowinit")
	for range 3 {
		p, err := host.Load(context.Background(), wasm, host.Config{PoolSize: 8, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s.Live != 0 || s.Idle != 0 {
			t.Fatalf("after Close: live %d idle %d, want 0", s.Live, s.Idle)
		}
		if err := p.WaitPrewarmed(context.Background()); err != nil {
			t.Fatalf("WaitPrewarmed after Close: %v", err)
		}
	}
}
