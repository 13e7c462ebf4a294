package host_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
)

// TestHammer: 64 goroutines x 200 requests on a pool of 4. The guest traps if
// its instance is entered while busy, or if handle_response runs on another
// instance than handle_request (see testdata/hammer.wat); the pool must stay
// within its bound throughout.
func TestHammer(t *testing.T) {
	const goroutines, perG, poolSize = 64, 200, 4
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.Gosched() // widen the window between handle_request and handle_response
		io.WriteString(w, "n")
	})
	p := newPlugin(t, wat(t, "hammer"), host.Config{Next: next, PoolSize: poolSize,
		MemoryBudget: 1, PoolWait: time.Minute}) // the bound is PoolSize; waits never give up
	before := p.Stats().Instantiations

	stop := make(chan struct{})
	var maxLive, maxInUse atomic.Int64
	var monitor sync.WaitGroup
	monitor.Go(func() {
		for {
			s := p.Stats()
			storeMax(&maxLive, int64(s.Live))
			storeMax(&maxInUse, int64(inUse(s)))
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	})

	var failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				mode, want := "d", "d"
				if (g+i)%2 == 0 {
					mode, want = "n", "n"
				}
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, get("/", "x-mode", mode))
				if rec.Code != http.StatusOK || rec.Body.String() != want {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("goroutine %d request %d mode %s: %d %q",
						g, i, mode, rec.Code, rec.Body.String()))
				}
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("hammer not done after 60 s: deadlock?")
	}
	close(stop)
	monitor.Wait()

	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, goroutines*perG, firstErr.Load())
	}
	s := p.Stats()
	if s.Traps != 0 {
		t.Errorf("%d traps: an instance was shared by two requests", s.Traps)
	}
	if s.Requests != goroutines*perG {
		t.Errorf("Stats.Requests = %d, want %d", s.Requests, goroutines*perG)
	}
	if maxLive.Load() > poolSize || maxInUse.Load() > poolSize {
		t.Errorf("pool exceeded its bound %d: max live %d, max in use %d", poolSize, maxLive.Load(), maxInUse.Load())
	}
	if s.Instantiations != before {
		t.Errorf("%d instantiations while serving with no failures", s.Instantiations-before)
	}
	checkPoolIdle(t, p)
}

func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

// TestHammerWithTraps: concurrent traps (in handle_request, and in a
// buffered handle_response) among good requests on a pool of 4. Failed
// instances are replaced, never reused, and the pool neither leaks slots nor
// exceeds its bound.
func TestHammerWithTraps(t *testing.T) {
	const goroutines, perG, poolSize = 32, 100, 4
	hold := make(chan struct{})
	var entered sync.WaitGroup
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			entered.Done()
			<-hold
		}
		io.WriteString(w, "next")
	})
	p := newPlugin(t, wat(t, "trap"), host.Config{Next: next, PoolSize: poolSize, RequestTimeout: 20 * time.Second,
		MemoryBudget: 1, PoolWait: time.Minute}) // the bound is PoolSize; waits never give up
	var maxLive atomic.Int64
	var bad, traps atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				mode, want := "", http.StatusOK
				switch n := g*perG + i; {
				case n%7 == 0:
					mode, want = "t", http.StatusInternalServerError
				case n%11 == 0:
					mode, want = "r", http.StatusInternalServerError
				}
				got := httptestServe(p, get("/", "x-mode", mode))
				if want == http.StatusInternalServerError {
					traps.Add(1)
				}
				if got.code != want || (want == http.StatusOK && got.body != "ok") {
					bad.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("mode %q: %d %q", mode, got.code, got.body))
				}
				storeMax(&maxLive, int64(p.Stats().Live))
			}
		})
	}
	waitOrFail(t, &wg, "hammer")
	if n := bad.Load(); n != 0 {
		t.Errorf("%d unexpected answers; first: %v", n, firstErr.Load())
	}
	s := p.Stats()
	if int64(s.Traps) != traps.Load() {
		t.Errorf("Stats.Traps = %d, want %d", s.Traps, traps.Load())
	}
	if maxLive.Load() > poolSize {
		t.Errorf("pool exceeded its bound: max live %d", maxLive.Load())
	}
	checkPoolIdle(t, p)

	// No slot leaked: poolSize requests can hold an instance at once.
	entered.Add(poolSize)
	var held sync.WaitGroup
	for range poolSize {
		held.Go(func() { httptestServe(p, get("/", "x-mode", "r", "X-Hold", "1")) })
	}
	inNext := make(chan struct{})
	go func() { entered.Wait(); close(inNext) }()
	select {
	case <-inNext:
	case <-time.After(30 * time.Second):
		t.Errorf("only some of %d requests got an instance: pool slots leaked (%+v)", poolSize, p.Stats())
	}
	close(hold)
	waitOrFail(t, &held, "held requests")
}

// waitOrFail waits for wg, failing the test after a minute.
func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not done after 60 s: deadlock?", what)
	}
}
