package host_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wasmcluster/wasmcluster/host"
	"github.com/wasmcluster/wasmcluster/internal/testkit"
)

// bigAnswer is an upstream answering /<n> with n bytes.
var bigAnswer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Path[1:])
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.Write(bytes.Repeat([]byte("r"), n))
})

// TestBufferedResponseLimit: next's response is held for handle_response up
// to MaxBufferedResponse; beyond it the client gets a 502, not a partial body.
func TestBufferedResponseLimit(t *testing.T) {
	const limit = 1 << 20
	p := newPlugin(t, wat(t, "bufresp"), host.Config{Upstream: upstream(t, bigAnswer), MaxBufferedResponse: limit})
	srv, _ := listen(t, "127.0.0.1:0", p)
	for _, tc := range []struct{ size, status int }{{limit, 200}, {limit + 1, 502}, {limit / 2, 200}} {
		resp, err := http.Get(srv.URL + "/" + strconv.Itoa(tc.size))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && len(b) != tc.size) {
			t.Errorf("%d-byte answer: got %d with %d bytes, want %d", tc.size, resp.StatusCode, len(b), tc.status)
		}
	}
	checkPoolIdle(t, p)
}

// TestBufferedResponseMemoryReturned: a large buffered response does not
// stay in the instance that held it. Every instance of the pool holds one
// at once, then the heap must shrink back to about where it started (it
// kept pool size x response size before).
func TestBufferedResponseMemoryReturned(t *testing.T) {
	const size, pool = 8 << 20, 4
	p := newPlugin(t, wat(t, "bufresp"), host.Config{Upstream: upstream(t, bigAnswer), PoolSize: pool})
	srv, _ := listen(t, "127.0.0.1:0", p)
	before := heapAfterGC()
	for range 2 {
		var wg sync.WaitGroup
		for range pool {
			wg.Go(func() {
				resp, err := http.Get(srv.URL + "/" + strconv.Itoa(size))
				if err != nil {
					t.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n != size {
					t.Errorf("got %d with %d bytes", resp.StatusCode, n)
				}
			})
		}
		wg.Wait()
	}
	// The client may have read the whole body before the handler returned.
	testkit.WaitFor(t, 10*time.Second, "the pool to be idle", func() bool { return inUse(p.Stats()) == 0 })
	after := heapAfterGC()
	t.Logf("heap in use: %d MiB before, %d MiB after %d buffered responses of %d MiB", before>>20, after>>20, 2*pool, size>>20)
	// Generous: one response's worth of slack for whatever the runtime and
	// net/http keep; the pool held pool x size before the fix.
	if after > before+size {
		t.Errorf("heap grew by %d MiB after the responses were sent", (after-before)>>20)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
