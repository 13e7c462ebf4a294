package workers

// While no worker is ready and one has failed (a cold start whose workers
// crash, or every worker crash-looping after a good start), the primary
// itself accepts on the shared socket and answers 503 with Retry-After,
// so clients learn at once instead of waiting in the listen backlog for a
// worker that may never come. A worker that is merely starting (a cold
// start, a respawn after a stable run) is waited for: those connections
// are served once it is ready, as before.

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wasmcluster/wasmcluster/workers/clientaddr"
	"github.com/wasmcluster/wasmcluster/workers/httpserve"
)

// unavailable is the primary's 503 server; the supervisor turns it on and
// off (setUnavailable).
type unavailable struct {
	srv        *http.Server
	retryAfter atomic.Int64   // seconds, for the Retry-After header
	answered   *atomic.Uint64 // the primary's count, across servers
}

// startUnavailable serves 503 on a duplicate of ln, whose close leaves ln
// and the workers' copies open. With the PROXY protocol on (so), it reads
// the header as the workers do (before TLS, as they do), so a load
// balancer's connection gets the 503, not a 400.
func startUnavailable(ln net.Listener, so httpserve.Options, t *serverTLS, answered *atomic.Uint64) (*unavailable, error) {
	f, err := dupListener(ln)
	if err != nil {
		return nil, err
	}
	dup, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("listener for 503s: %w", err)
	}
	if so.ProxyProtocol {
		if trusted, err := clientaddr.Parse(so.TrustedProxies); err == nil {
			dup = clientaddr.Listen(dup, trusted, 5*time.Second)
		}
	}
	u := &unavailable{answered: answered}
	u.retryAfter.Store(1)
	u.srv = &http.Server{
		Handler:           http.HandlerFunc(u.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      5 * time.Second,
	}
	u.srv.SetKeepAlivesEnabled(false) // the next connection may find a worker
	go u.srv.Serve(t.listener(dup))
	return u, nil
}

func (u *unavailable) serveHTTP(w http.ResponseWriter, r *http.Request) {
	u.answered.Add(1) // before the answer: a scrape after it counts it
	w.Header().Set("Retry-After", strconv.FormatInt(u.retryAfter.Load(), 10))
	http.Error(w, "service unavailable: no worker is ready", http.StatusServiceUnavailable)
}

// stop stops accepting and closes the connections it holds.
func (u *unavailable) stop() { u.srv.Close() }

// setUnavailable starts or stops the 503 server: on while the primary
// runs, no worker is ready, and a slot is failing (waiting out a backoff
// or crash-looping). Retry-After is the time until the next worker starts.
func (pr *Primary) setUnavailable() {
	on := !pr.stopping && pr.countState(stateReady) == 0
	var next time.Time
	failing := false
	for _, s := range pr.slots {
		if s.failures > 0 {
			failing = true
			if next.IsZero() || s.nextStart.Before(next) {
				next = s.nextStart
			}
		}
	}
	on = on && failing
	switch {
	case on && pr.down == nil:
		u, err := startUnavailable(pr.ln, pr.opts.Server, pr.tls, &pr.downAnswered)
		if err != nil {
			// Retried on every pass of the loop (out of descriptors, say);
			// logged once per run of failures.
			if !pr.downFailed {
				pr.log.Error("cannot answer 503 while no worker is ready", keyErr, err)
			}
			pr.downFailed = true
			return
		}
		pr.down, pr.downFailed = u, false
		pr.log.Warn("no worker is ready; answering 503 until one is")
	case !on && pr.down != nil:
		pr.down.stop()
		pr.down = nil
		if !pr.stopping {
			pr.log.Info("a worker is ready; no longer answering 503")
		}
	}
	if pr.down != nil {
		pr.down.retryAfter.Store(max(1, int64(time.Until(next).Round(time.Second)/time.Second)))
	}
}
