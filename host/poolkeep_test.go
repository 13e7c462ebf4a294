package host_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// gate is a next handler that holds requests until the current burst is
// released; after it, requests pass at once.
type gate struct {
	mu      sync.Mutex
	release chan struct{}
	arrived chan struct{}
}

func newGate() *gate {
	g := &gate{release: make(chan struct{}), arrived: make(chan struct{}, 64)}
	close(g.release)
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	release := g.release
	g.mu.Unlock()
	g.arrived <- struct{}{}
	select {
	case <-release:
	case <-r.Context().Done():
	}
	w.Write([]byte("next"))
}

// burst holds n requests at once (each keeps its instance while next
// runs), then lets them all finish with 200.
func burst(t *testing.T, p *host.Plugin, g *gate, n int) {
	t.Helper()
	release := make(chan struct{})
	g.mu.Lock()
	g.release = release
	g.mu.Unlock()
	codes := make(chan int, n)
	for range n {
		go func() { codes <- httptestServe(p, get("/")).code }()
	}
	for range n {
		<-g.arrived
	}
	close(release)
	for range n {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("held request answered %d, want 200", c)
		}
	}
}

// With PoolKeep, instances created past PoolSize for load above it stay
// while that load lasts: the next burst instantiates nothing. Once
// PoolKeep has passed with no request finding the idle set empty, each
// finished request closes one extra until PoolSize remain.
func TestPoolKeepsInstancesUnderSustainedLoad(t *testing.T) {
	for _, tt := range []struct {
		name string
		keep time.Duration
	}{{"kept for an hour", time.Hour}, {"kept for a millisecond", time.Millisecond}} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate()
			p := newPlugin(t, wat(t, "next"), host.Config{Next: g, PoolSize: 1, MemoryLimitPages: 1,
				MemoryBudget: 3 * onePage, PoolKeep: tt.keep})
			burst(t, p, g, 3)
			if tt.keep == time.Hour {
				made := p.Stats().Instantiations
				if s := p.Stats(); s.Live != 3 || s.Idle != 3 {
					t.Fatalf("after a burst with PoolKeep 1h: %+v; want 3 live, 3 idle", s)
				}
				burst(t, p, g, 3)
				if s := p.Stats(); s.Instantiations != made || s.Live != 3 {
					t.Errorf("a second burst: %+v; want no new instance (had %d), 3 live", s, made)
				}
				return
			}
			time.Sleep(20 * tt.keep) // PoolKeep is over: no request has waited since
			for range 3 {
				serve(t, p, get("/")) // next returns at once: the burst was released
				<-g.arrived
			}
			if s := p.Stats(); s.Live != 1 || s.Idle != 1 {
				t.Errorf("after PoolKeep and three requests: %+v; want the pool back at its size, 1", s)
			}
		})
	}
}
